// Reading and writing trace files for the commands.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeTrace, encodeTrace, TraceError, type Trace } from '../trace/trace.js';
import { canonicalScenario, type ScenarioMeta } from '../trace/generate.js';
import { convertNodeObjects, nodePoolPathFor, parseNodePool, type NodePool } from '../trace/nodepool.js';

export interface LoadedTrace {
  trace: Trace;
  warnings: string[];
  bytes: number;
  /** The trace's node pool: its node-pool document (NAME.nodepool.json), or its converted Node objects. */
  nodePool?: NodePool;
  nodePoolSource?: string;
}

/** Read a node-pool document (JSON, the shape `parseNodePool` reads). */
export function readNodePoolFile(path: string): NodePool {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TraceError('nodePool', `${path} is not a node-pool document: ${(e as Error).message}`, 'write JSON like {"count": 3, "cpu": "16", "memory": "32Gi", "pods": 110} or {"nodes": [...]}');
  }
  return parseNodePool(raw, path);
}

/**
 * Read a trace file. Node objects in its events (older traces) are taken out and become its node pool, with a
 * note; a node-pool document next to it (NAME.nodepool.json) is its pool otherwise.
 */
export function readTraceFile(path: string): LoadedTrace {
  const bytes = readFileSync(path);
  const { trace, warnings } = decodeTrace(bytes);
  const converted = convertNodeObjects(trace);
  if (converted) return { trace, warnings: [...warnings, converted.note], bytes: bytes.length, nodePool: converted.nodePool, nodePoolSource: `${path} (converted Node objects)` };
  const doc = nodePoolPathFor(path);
  if (existsSync(doc)) return { trace, warnings, bytes: bytes.length, nodePool: readNodePoolFile(doc), nodePoolSource: doc };
  return { trace, warnings, bytes: bytes.length };
}

/** Write a file atomically: a temp file renamed over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function writeTraceFile(path: string, trace: Trace): number {
  const bytes = encodeTrace(trace);
  writeFileAtomic(path, bytes);
  return bytes.length;
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** `--trace FILE` or `--scenario NAME` (a canonical scenario, built in memory). */
export function loadTraceOrScenario(tracePath: string | undefined, scenario: string | undefined): { trace: Trace; meta?: ScenarioMeta; label: string; nodePool?: NodePool } {
  if (tracePath && scenario) throw new RangeError('give --trace or --scenario, not both');
  if (scenario) {
    const s = canonicalScenario(scenario);
    return { trace: s.trace, meta: s.meta, label: scenario };
  }
  if (!tracePath) throw new RangeError('give --trace FILE or --scenario NAME');
  const loaded = readTraceFile(tracePath);
  for (const w of loaded.warnings) if (w.startsWith('converted ')) process.stderr.write(`note: ${w}\n`);
  return { trace: loaded.trace, label: tracePath, ...(loaded.nodePool ? { nodePool: loaded.nodePool } : {}) };
}
