// Reading and writing trace files for the commands.
import { existsSync, readFileSync } from 'node:fs';
import { checkWritableFile, writeFileAtomic } from '../util/atomic-write.js';
import { UsageError } from './errors.js';
import { decodeTrace, encodeTrace, TraceError, type Trace } from '../trace/trace.js';

import { canonicalScenario, type ScenarioMeta } from '../trace/generate.js';
import { convertNodeObjects, nodePoolPathFor, parseNodePool, type NodePool } from '../trace/nodepool.js';

export { writeFileAtomic };

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
    throw new TraceError(
      'nodePool',
      `${path} is not a node-pool document: ${(e as Error).message}`,
      'write JSON like {"count": 3, "cpu": "16", "memory": "32Gi", "pods": 110} or {"nodes": [...]}',
    );
  }
  return parseNodePool(raw, path);
}

/**
 * Read a trace file. Node objects in its events (older traces) are taken out and become its node pool, with a
 * note; a node-pool document next to it (NAME.nodepool.json) is its pool otherwise.
 */
export function readTraceFile(path: string): LoadedTrace {
  if (path === '') throw new UsageError('a trace file path is required, got an empty string');
  const bytes = readFileSync(path);
  const { trace, warnings } = decodeTrace(bytes);
  const converted = convertNodeObjects(trace);
  if (converted)
    return {
      trace,
      warnings: [...warnings, converted.note],
      bytes: bytes.length,
      nodePool: converted.nodePool,
      nodePoolSource: `${path} (converted Node objects)`,
    };
  const doc = nodePoolPathFor(path);
  if (existsSync(doc))
    return { trace, warnings, bytes: bytes.length, nodePool: readNodePoolFile(doc), nodePoolSource: doc };
  return { trace, warnings, bytes: bytes.length };
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
export function loadTraceOrScenario(
  tracePath: string | undefined,
  scenario: string | undefined,
): { trace: Trace; meta?: ScenarioMeta; label: string; nodePool?: NodePool } {
  if (tracePath !== undefined && scenario !== undefined) throw new UsageError('give --trace or --scenario, not both');
  if (scenario !== undefined) {
    const s = canonicalScenario(scenario);
    return { trace: s.trace, meta: s.meta, label: scenario };
  }
  if (tracePath === undefined) throw new UsageError('give --trace FILE or --scenario NAME');
  const loaded = readTraceFile(tracePath);
  for (const w of loaded.warnings) if (w.startsWith('converted ')) process.stderr.write(`note: ${w}\n`);
  return { trace: loaded.trace, label: tracePath, ...(loaded.nodePool ? { nodePool: loaded.nodePool } : {}) };
}

/** Distinct, writable file paths for the outputs named by their flags (undefined ones are skipped). */
export function checkOutputPaths(paths: Record<string, string | undefined>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(paths)) {
    if (path === undefined) continue;
    if (path === '') throw new UsageError(`${flag} needs a file path, got an empty string`);
    const other = seen.get(path);
    if (other) throw new UsageError(`${flag} and ${other} name the same file ${path}; give each its own`);
    seen.set(path, flag);
    try {
      checkWritableFile(path);
    } catch (e) {
      throw new UsageError(
        `${flag} ${path}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a writable file path`,
      );
    }
  }
}
