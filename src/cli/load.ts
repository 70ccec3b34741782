// Reading and writing trace files for the commands.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeTrace, encodeTrace, type Trace } from '../trace/trace.js';
import { canonicalScenario, type ScenarioMeta } from '../trace/generate.js';

export function readTraceFile(path: string): { trace: Trace; warnings: string[]; bytes: number } {
  const bytes = readFileSync(path);
  const { trace, warnings } = decodeTrace(bytes);
  return { trace, warnings, bytes: bytes.length };
}

export function writeTraceFile(path: string, trace: Trace): number {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = encodeTrace(trace);
  writeFileSync(path, bytes);
  return bytes.length;
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** `--trace FILE` or `--scenario NAME` (a canonical scenario, built in memory). */
export function loadTraceOrScenario(tracePath: string | undefined, scenario: string | undefined): { trace: Trace; meta?: ScenarioMeta; label: string } {
  if (tracePath && scenario) throw new RangeError('give --trace or --scenario, not both');
  if (scenario) {
    const s = canonicalScenario(scenario);
    return { trace: s.trace, meta: s.meta, label: scenario };
  }
  if (!tracePath) throw new RangeError('give --trace FILE or --scenario NAME');
  return { trace: readTraceFile(tracePath).trace, label: tracePath };
}
