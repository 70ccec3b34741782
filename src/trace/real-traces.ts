// The recorded real-trace family: traces/real/, recorded with SimKube's own sk-tracer by `npm run trace:record`
// (test/cluster/simkube/record.sh). index.json names each trace's workload, target and problem; the node pool is
// NAME.nodepool.json beside the trace (a recorded trace never holds Node objects).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloneValue } from './model.js';
import { parseNodePool, type NodePool } from './nodepool.js';
import { decodeTrace, TraceError, type Trace } from './trace.js';
import type { ScenarioMeta } from './generate.js';
import type { WorkloadRef } from './workload.js';

/** traces/real in the repository (this file is src/trace/ or dist/trace/); SIM_ARENA_REAL_TRACES overrides. */
export function realTracesDir(): string {
  return (
    process.env.SIM_ARENA_REAL_TRACES ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'traces', 'real')
  );
}

export interface RealTrace {
  name: string;
  description: string;
  /** what makes the scenario hard (its README line) */
  hard: string;
  workload: WorkloadRef;
  target: number;
  problem: ScenarioMeta['problem'];
  nodePool: NodePool;
  /** the trace file, relative to the folder */
  file: string;
  /** the recording scenario that wrote it */
  recordedBy: string;
  trace(): Trace;
}

const PROBLEMS: ReadonlySet<string> = new Set(['resource', 'replicas', 'composite', 'capacity', 'baseline']);

function bad(dir: string, why: string): never {
  throw new TraceError(
    join(dir, 'index.json'),
    why,
    're-record with npm run trace:record (test/cluster/simkube/record.sh)',
  );
}

function str(e: Record<string, unknown>, k: string, dir: string, i: number): string {
  const v = e[k];
  if (typeof v !== 'string' || v === '') bad(dir, `entry ${i} has no "${k}" string`);
  return v;
}

/** Read a recorded-trace folder (index.json, traces, node pools). Throws a TraceError naming what is wrong. */
export function readRealTraces(dir = realTracesDir()): RealTrace[] {
  const indexPath = join(dir, 'index.json');
  if (!existsSync(indexPath)) bad(dir, 'does not exist');
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    bad(dir, `is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(index)) bad(dir, 'is not a list');
  return index.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(dir, `entry ${i} is not an object`);
    const e = raw as Record<string, unknown>;
    const name = str(e, 'name', dir, i);
    const file = str(e, 'trace', dir, i);
    const poolFile = str(e, 'nodePool', dir, i);
    const w = e.workload as Record<string, unknown> | undefined;
    if (!w || typeof w.kind !== 'string' || typeof w.namespace !== 'string' || typeof w.name !== 'string')
      bad(dir, `entry ${i} (${name}) has no workload {kind, namespace, name}`);
    const target = e.target;
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 0)
      bad(dir, `entry ${i} (${name}) has no whole-number target`);
    const problem = str(e, 'problem', dir, i);
    if (!PROBLEMS.has(problem)) bad(dir, `entry ${i} (${name}) has an unknown problem "${problem}"`);
    let master: Trace;
    try {
      master = decodeTrace(new Uint8Array(readFileSync(join(dir, file)))).trace;
    } catch (err) {
      bad(dir, `entry ${i} (${name}): ${join(dir, file)}: ${(err as Error).message}`);
    }
    let poolJson: unknown;
    try {
      poolJson = JSON.parse(readFileSync(join(dir, poolFile), 'utf8'));
    } catch (err) {
      bad(dir, `entry ${i} (${name}): ${join(dir, poolFile)}: ${(err as Error).message}`);
    }
    return {
      name,
      description: str(e, 'description', dir, i),
      hard: str(e, 'hard', dir, i),
      workload: { kind: w.kind, namespace: w.namespace, name: w.name },
      target,
      problem: problem as ScenarioMeta['problem'],
      nodePool: parseNodePool(poolJson, join(dir, poolFile)),
      file,
      recordedBy: typeof e.recordedBy === 'string' ? e.recordedBy : '',
      trace: () => cloneValue(master),
    };
  });
}
