// sim-arena's own usage format (JSON, versioned): per workload container, per-pod CPU (cores) and memory working
// set (bytes) sampled at a fixed interval on the trace's clock. README "Usage and right-sizing" documents it.
import { TraceError } from '../trace.js';
import type { WorkloadRef } from '../workload.js';

export const USAGE_FORMAT = 'sim-arena.usage';
export const USAGE_VERSION = 1;

export interface UsageSeries {
  workload: WorkloadRef;
  /** Container the series measures; absent: the workload's first app container. */
  container?: string;
  /** How many pods the series was measured over (their mean). When set, per-pod CPU scales by replicas / running pods. */
  replicas?: number;
  /** Per-pod CPU in cores, one value per interval. */
  cpu: number[];
  /** Per-pod memory working set in bytes, one value per interval. */
  memory: number[];
}

export interface UsageFile {
  format: typeof USAGE_FORMAT;
  version: typeof USAGE_VERSION;
  /** Seconds between samples. */
  interval: number;
  /** Trace-clock time of sample 0: seconds after the trace's first event (may be negative). */
  start: number;
  series: UsageSeries[];
  /** Where it came from (informational): "synth diurnal seed=1", "prometheus". */
  source?: string;
}

/** Values are kept at microcore and byte precision, so a mean of equal values and a JSON round trip change nothing. */
export const roundCores = (x: number) => Math.round(x * 1e6) / 1e6;
export const roundBytes = (x: number) => Math.round(x);

/** Bad usage input (a TraceError, so every surface reports it as a one-line user error). */
export class UsageDataError extends TraceError {
  override name = 'UsageDataError';
}

const err = (field: string, problem: string, hint?: string) =>
  new UsageDataError(`usage${field ? `.${field}` : ''}`, problem, hint);

function finiteArray(v: unknown, field: string, min: number): number[] {
  if (!Array.isArray(v)) throw err(field, `must be an array of numbers, got ${typeof v}`);
  if (v.length < min) throw err(field, `needs at least ${min} value${min > 1 ? 's' : ''}`);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      throw err(`${field}[${i}]`, `must be a finite number ≥ 0, got ${JSON.stringify(x)}`);
  });
  return v as number[];
}

/** Validate a parsed JSON value as a usage file. Throws TraceError naming the field. */
export function validateUsage(v: unknown): UsageFile {
  if (Array.isArray(v))
    throw err(
      '',
      'this is a JSON array (a Prometheus export?), not a sim-arena usage file',
      'Prometheus exports are read with the trace: pass it as --usage and the trace with --trace',
    );
  if (typeof v !== 'object' || v === null) throw err('', 'must be a JSON object');
  const o = v as Record<string, unknown>;
  if (o.format !== USAGE_FORMAT)
    throw err(
      'format',
      `must be "${USAGE_FORMAT}", got ${JSON.stringify(o.format)}`,
      'generate one with sim-arena usage synth',
    );
  if (o.version !== USAGE_VERSION)
    throw err(
      'version',
      `unsupported version ${JSON.stringify(o.version)}`,
      `this sim-arena reads version ${USAGE_VERSION}`,
    );
  if (typeof o.interval !== 'number' || !(o.interval > 0) || !Number.isFinite(o.interval))
    throw err('interval', `must be a number of seconds > 0, got ${JSON.stringify(o.interval)}`);
  if (typeof o.start !== 'number' || !Number.isFinite(o.start))
    throw err('start', `must be a number of seconds, got ${JSON.stringify(o.start)}`);
  if (!Array.isArray(o.series) || o.series.length === 0) throw err('series', 'must be a non-empty array');
  const series = o.series.map((s, i): UsageSeries => {
    const f = `series[${i}]`;
    if (typeof s !== 'object' || s === null) throw err(f, 'must be an object');
    const e = s as Record<string, unknown>;
    const w = e.workload as Record<string, unknown> | undefined;
    if (
      typeof w !== 'object' ||
      w === null ||
      typeof w.kind !== 'string' ||
      typeof w.namespace !== 'string' ||
      typeof w.name !== 'string' ||
      !w.kind ||
      !w.name
    ) {
      throw err(`${f}.workload`, 'must be {kind, namespace, name}');
    }
    if (e.container !== undefined && (typeof e.container !== 'string' || !e.container))
      throw err(`${f}.container`, 'must be a container name');
    if (e.replicas !== undefined && (typeof e.replicas !== 'number' || !(e.replicas > 0)))
      throw err(`${f}.replicas`, `must be a number > 0, got ${JSON.stringify(e.replicas)}`);
    const cpu = finiteArray(e.cpu, `${f}.cpu`, 1);
    const memory = finiteArray(e.memory, `${f}.memory`, 1);
    if (cpu.length !== memory.length)
      throw err(
        f,
        `cpu has ${cpu.length} samples but memory has ${memory.length}`,
        'both are sampled at the same interval',
      );
    return {
      workload: { kind: w.kind, namespace: w.namespace, name: w.name },
      ...(e.container !== undefined ? { container: e.container as string } : {}),
      ...(e.replicas !== undefined ? { replicas: e.replicas as number } : {}),
      cpu,
      memory,
    };
  });
  return {
    format: USAGE_FORMAT,
    version: USAGE_VERSION,
    interval: o.interval,
    start: o.start,
    series,
    ...(typeof o.source === 'string' ? { source: o.source } : {}),
  };
}

export function parseUsageJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw err(
      '',
      `not JSON: ${(e as Error).message}`,
      'a usage file is JSON (sim-arena usage synth writes one; a Prometheus export is a JSON array)',
    );
  }
}

export function serializeUsage(u: UsageFile): string {
  return `${JSON.stringify(u)}\n`;
}

const sameRef = (a: WorkloadRef, b: WorkloadRef) =>
  a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

/** The series for a workload's container: by container name, else the one without a name, else the first one. */
export function findSeries(u: UsageFile, ref: WorkloadRef, container?: string): UsageSeries | undefined {
  const mine = u.series.filter((s) => sameRef(s.workload, ref));
  if (container) return mine.find((s) => s.container === container) ?? mine.find((s) => s.container === undefined);
  return mine.find((s) => s.container === undefined) ?? mine[0];
}

/** The series for the episode's workload, or a one-line error listing what the file has. */
export function requireSeries(u: UsageFile, ref: WorkloadRef, container?: string): UsageSeries {
  const s = findSeries(u, ref, container);
  if (s) return s;
  const have = [
    ...new Set(
      u.series.map(
        (x) => `${x.workload.kind} ${x.workload.namespace}/${x.workload.name}${x.container ? ` (${x.container})` : ''}`,
      ),
    ),
  ];
  throw err('series', `no usage for ${ref.kind} ${ref.namespace}/${ref.name}`, `the file has: ${have.join(', ')}`);
}

/** The sample in force at trace-clock time t: before the first sample the first, after the last the last. */
export function sampleAt(
  u: Pick<UsageFile, 'interval' | 'start'>,
  s: UsageSeries,
  t: number,
): { cpu: number; memory: number } {
  const n = s.cpu.length;
  let i = Math.floor((t - u.start) / u.interval);
  if (i < 0) i = 0;
  else if (i >= n) i = n - 1;
  return { cpu: s.cpu[i]!, memory: s.memory[i]! };
}

/** Seconds of trace clock the series covers. */
export function usageSpan(u: UsageFile): number {
  return Math.max(...u.series.map((s) => s.cpu.length)) * u.interval;
}
