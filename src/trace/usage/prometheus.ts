// Reading usage as users export it from Prometheus: a JSON array of {resource: "cpu" | "memory", response}, each
// response a /api/v1/query_range answer (a matrix of per-pod, per-container series). CPU in cores (e.g.
// rate(container_cpu_usage_seconds_total[5m])), memory in bytes (container_memory_working_set_bytes).
//
// Pods map to the trace's workloads by controller naming (naming.ts). Per workload and container, the series become
// one per-pod mean on a regular grid: the interval is the smallest step between two samples of a series, each sample
// lands on the nearest grid point, a grid point nobody sampled repeats the previous one. `replicas` is the mean number
// of pods reporting CPU.
//
// Clock: when the export's time range overlaps the trace's (first to last event), timestamps are taken as they are
// (a recording of the same cluster): start = first sample − the trace's first event. Otherwise the export's first
// sample is placed at the trace's first event (start = 0).
import type { Trace } from '../trace.js';
import { getIn } from '../model.js';
import type { MsgMap, MsgValue } from '../msgpack.js';
import { formatWorkload, listWorkloads, type WorkloadRef } from '../workload.js';
import {
  roundBytes,
  roundCores,
  UsageDataError,
  USAGE_FORMAT,
  USAGE_VERSION,
  type UsageFile,
  type UsageSeries,
} from './format.js';
import { workloadOfPod } from './naming.js';

export interface PrometheusExportEntry {
  resource: 'cpu' | 'memory';
  response: unknown;
}

interface RawSeries {
  resource: 'cpu' | 'memory';
  namespace: string;
  pod: string;
  container: string;
  points: Array<[number, number]>;
}

const err = (field: string, problem: string, hint?: string) =>
  new UsageDataError(`prometheus${field ? `${field.startsWith('[') ? '' : '.'}${field}` : ''}`, problem, hint);

export function isPrometheusExport(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

function readExport(v: unknown[]): RawSeries[] {
  const out: RawSeries[] = [];
  v.forEach((entry, i) => {
    const f = `[${i}]`;
    if (typeof entry !== 'object' || entry === null)
      throw err(f, 'must be {"resource": "cpu" | "memory", "response": <query_range response>}');
    const e = entry as Record<string, unknown>;
    if (e.resource !== 'cpu' && e.resource !== 'memory')
      throw err(`${f}.resource`, `must be "cpu" or "memory", got ${JSON.stringify(e.resource)}`);
    const resp = e.response as Record<string, unknown> | undefined;
    if (typeof resp !== 'object' || resp === null)
      throw err(`${f}.response`, 'must be a /api/v1/query_range response object');
    if (resp.status !== 'success')
      throw err(
        `${f}.response.status`,
        `is ${JSON.stringify(resp.status)}${typeof resp.error === 'string' ? ` (${resp.error})` : ''}`,
        'export only successful queries',
      );
    const data = resp.data as Record<string, unknown> | undefined;
    if (typeof data !== 'object' || data === null) throw err(`${f}.response.data`, 'is missing');
    if (data.resultType !== 'matrix')
      throw err(
        `${f}.response.data.resultType`,
        `must be "matrix", got ${JSON.stringify(data.resultType)}`,
        'use /api/v1/query_range, not /api/v1/query',
      );
    if (!Array.isArray(data.result)) throw err(`${f}.response.data.result`, 'must be an array');
    data.result.forEach((r, j) => {
      const rf = `${f}.response.data.result[${j}]`;
      const m = (r as Record<string, unknown>)?.metric as Record<string, unknown> | undefined;
      const values = (r as Record<string, unknown>)?.values;
      if (typeof m !== 'object' || m === null) throw err(`${rf}.metric`, 'is missing');
      if (typeof m.namespace !== 'string' || typeof m.pod !== 'string')
        throw err(
          `${rf}.metric`,
          'needs "namespace" and "pod" labels',
          'keep them in the query, e.g. sum by (namespace, pod, container) (...)',
        );
      const container = typeof m.container === 'string' ? m.container : '';
      // cAdvisor's pod-level ("") and pause-container ("POD") series are not a container's usage.
      if (container === '' || container === 'POD') return;
      if (!Array.isArray(values)) throw err(`${rf}.values`, 'must be an array of [unix_ts, "value"]');
      const points: Array<[number, number]> = [];
      values.forEach((p, k) => {
        const ts = Array.isArray(p) ? Number(p[0]) : NaN;
        const val = Array.isArray(p) && typeof p[1] === 'string' ? Number(p[1]) : NaN;
        if (!Number.isFinite(ts) || !Number.isFinite(val))
          throw err(`${rf}.values[${k}]`, `must be [unix_ts, "number"], got ${JSON.stringify(p)}`);
        points.push([ts, Math.max(0, val)]);
      });
      if (points.length)
        out.push({ resource: e.resource as 'cpu' | 'memory', namespace: m.namespace, pod: m.pod, container, points });
    });
  });
  return out;
}

function traceSpan(trace: Trace): [number, number] {
  const events = trace.get('events') as MsgValue[];
  const ts = (i: number) => Number(getIn(events[i] as MsgMap, ['ts']) as number | bigint);
  return events.length ? [ts(0), ts(events.length - 1)] : [0, 0];
}

export interface PrometheusReadResult {
  usage: UsageFile;
  /** Pods no workload of the trace claims, by name. */
  unmatched: string[];
}

/** Turn a Prometheus export into a usage file for `trace`. Throws TraceError on bad input. */
export function usageFromPrometheus(exp: unknown, trace: Trace): PrometheusReadResult {
  if (!isPrometheusExport(exp)) throw err('', 'must be a JSON array of {"resource", "response"}');
  const raw = readExport(exp);
  if (raw.length === 0)
    throw err(
      '',
      'has no container series',
      'query per container, e.g. container_memory_working_set_bytes{container!="", container!="POD"}',
    );
  const workloads = listWorkloads(trace);
  let minTs = Infinity;
  let maxTs = -Infinity;
  let interval = Infinity;
  for (const s of raw) {
    s.points.sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < s.points.length; i++) {
      const t = s.points[i]![0];
      minTs = Math.min(minTs, t);
      maxTs = Math.max(maxTs, t);
      if (i > 0) {
        const d = t - s.points[i - 1]![0];
        if (d > 1e-3) interval = Math.min(interval, d);
      }
    }
  }
  if (!Number.isFinite(interval)) interval = 60;
  interval = Math.round(interval * 1000) / 1000;
  const n = Math.round((maxTs - minTs) / interval) + 1;

  const unmatched = new Set<string>();
  // key: workload + container → per resource, per grid point, pod → value
  const groups = new Map<
    string,
    { workload: WorkloadRef; container: string; cpu: Array<Map<string, number>>; memory: Array<Map<string, number>> }
  >();
  for (const s of raw) {
    const w = workloadOfPod(s.namespace, s.pod, workloads);
    if (!w) {
      unmatched.add(`${s.namespace}/${s.pod}`);
      continue;
    }
    const key = `${formatWorkload(w)}\u0000${s.container}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        workload: w,
        container: s.container,
        cpu: Array.from({ length: n }, () => new Map()),
        memory: Array.from({ length: n }, () => new Map()),
      };
      groups.set(key, g);
    }
    for (const [t, v] of s.points) g[s.resource][Math.round((t - minTs) / interval)]!.set(s.pod, v);
  }
  if (groups.size === 0) {
    const sample = [...unmatched].slice(0, 3).join(', ');
    throw err(
      '',
      `no pod in the export belongs to a workload of the trace (pods: ${sample})`,
      `the trace has: ${workloads.map(formatWorkload).join(', ')}; pods are matched by namespace and controller naming`,
    );
  }

  const series: UsageSeries[] = [];
  for (const g of groups.values()) {
    const label = `${formatWorkload(g.workload)} container ${g.container}`;
    const cpu = fill(g.cpu, (x) => roundCores(x), `${label} has no cpu samples`);
    const memory = fill(g.memory, (x) => roundBytes(x), `${label} has no memory samples`);
    const counts = g.cpu.filter((m) => m.size > 0).map((m) => m.size);
    const replicas = Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 1000) / 1000;
    series.push({ workload: g.workload, container: g.container, replicas, cpu, memory });
  }
  const [first, last] = traceSpan(trace);
  const overlaps = minTs <= last && maxTs >= first;
  const start = overlaps ? Math.round((minTs - first) * 1000) / 1000 : 0;
  return {
    usage: { format: USAGE_FORMAT, version: USAGE_VERSION, interval, start, series, source: 'prometheus' },
    unmatched: [...unmatched],
  };
}

/** Per grid point, the mean over pods (rounded); empty points repeat the previous value (leading ones the first). */
function fill(points: Array<Map<string, number>>, round: (x: number) => number, missing: string): number[] {
  const out: Array<number | undefined> = points.map((m) => {
    if (m.size === 0) return undefined;
    let sum = 0;
    for (const v of m.values()) sum += v;
    return round(sum / m.size);
  });
  const firstIdx = out.findIndex((v) => v !== undefined);
  if (firstIdx < 0)
    throw err('', missing, 'export both resources: {"resource":"cpu",...} and {"resource":"memory",...}');
  let prev = out[firstIdx]!;
  return out.map((v) => (v === undefined ? prev : (prev = v)));
}

/** Render a usage file as a Prometheus export (what `usage synth --format prometheus` writes): `replicas` pods per series. */
export function usageToPrometheus(
  u: UsageFile,
  opts: { baseTs: number; podNames?: (s: UsageSeries, i: number) => string },
): PrometheusExportEntry[] {
  const podName = opts.podNames ?? defaultPodName;
  const result = (resource: 'cpu' | 'memory') =>
    u.series.flatMap((s) => {
      const pods = Math.max(1, Math.round(s.replicas ?? 1));
      return Array.from({ length: pods }, (_, i) => ({
        metric: { namespace: s.workload.namespace, pod: podName(s, i), container: s.container ?? 'app' },
        values: s[resource].map((v, k) => [opts.baseTs + u.start + k * u.interval, String(v)]),
      }));
    });
  return (['cpu', 'memory'] as const).map((resource) => ({
    resource,
    response: { status: 'success', data: { resultType: 'matrix', result: result(resource) } },
  }));
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
function suffix(seed: number, len: number): string {
  let s = '';
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < len; i++) {
    s += ALPHABET[x % ALPHABET.length];
    x = Math.floor(x / ALPHABET.length) + 7919 * (i + 1);
  }
  return s;
}

/** A pod name the workload's controller could have given pod i. */
export function defaultPodName(s: UsageSeries, i: number): string {
  const n = s.workload.name;
  switch (s.workload.kind) {
    case 'Deployment':
      return `${n}-${suffix(7, 10)}-${suffix(i + 11, 5)}`;
    case 'StatefulSet':
      return `${n}-${i}`;
    case 'CronJob':
      return `${n}-29000000-${suffix(i + 11, 5)}`;
    case 'Pod':
      return n;
    default:
      return `${n}-${suffix(i + 11, 5)}`;
  }
}
