// Builders for small traces (decoded Map trees) used by the embedded simulator tests.
import { readFileSync } from 'node:fs';
import { fromPlain } from '../../../../src/trace/model.js';
import type { MsgMap, MsgValue } from '../../../../src/trace/msgpack.js';
import { decodeTrace, type Trace } from '../../../../src/trace/trace.js';

export const T0 = 1_700_000_000;
export const FIXTURES = '/work/shared/fixtures';

export type Plain = Record<string, unknown>;

export interface Resources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export function container(name: string, resources: Resources = {}, extra: Plain = {}): Plain {
  return { name, image: 'nginx:1.27', resources, ...extra };
}

/** A pod spec with one container requesting cpu/memory (either may be omitted). */
export function podSpec(cpu?: string, memory?: string, extra: Plain = {}): Plain {
  const requests: Record<string, string> = {};
  if (cpu !== undefined) requests.cpu = cpu;
  if (memory !== undefined) requests.memory = memory;
  return { containers: [container('app', { requests })], ...extra };
}

export function deployment(
  name: string,
  replicas: number | undefined,
  spec: Plain,
  namespace = 'default',
  extraSpec: Plain = {},
): Plain {
  const s: Plain = {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec },
    ...extraSpec,
  };
  if (replicas !== undefined) s.replicas = replicas;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: s };
}

export function workload(apiVersion: string, kind: string, name: string, spec: Plain, namespace = 'default'): Plain {
  return { apiVersion, kind, metadata: { name, namespace }, spec };
}

export function barePod(name: string, spec: Plain, namespace = 'default'): Plain {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec };
}

export function stub(apiVersion: string, kind: string, name: string, namespace = 'default'): Plain {
  return { apiVersion, kind, metadata: { name, namespace } };
}

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: number | string;
  labels?: Record<string, string>;
  taints?: Plain[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
  /** Put the resources in capacity only (allocatable then defaults to capacity). */
  capacityOnly?: boolean;
  allocatable?: Record<string, string | number>;
}

export function nodeObj(name: string, o: NodeOpts = {}): Plain {
  const res: Record<string, string | number> = {
    cpu: o.cpu ?? '16',
    memory: o.memory ?? '32Gi',
    pods: o.pods ?? 110,
    ...(o.extra ?? {}),
  };
  const status: Plain = o.capacityOnly ? { capacity: res } : { capacity: res, allocatable: o.allocatable ?? res };
  const spec: Plain = {};
  if (o.taints) spec.taints = o.taints;
  if (o.unschedulable) spec.unschedulable = true;
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: o.labels ?? { type: 'virtual' } }, spec, status };
}

export interface EventSpec {
  /** Seconds after T0. */
  at: number;
  applied?: Plain[];
  deleted?: Plain[];
}

export interface TraceOpts {
  tracked?: Record<string, Plain>;
  index?: Record<string, Record<string, number>>;
  /** [gvk, "ns/name"] -> lifecycle list (hash 0). */
  lifecycles?: [string, string, unknown[]][];
}

const DEFAULT_TRACKED = {
  'apps/v1.Deployment': {},
  'apps/v1.ReplicaSet': {},
  'apps/v1.StatefulSet': {},
  'apps/v1.DaemonSet': {},
  'batch/v1.Job': {},
  'batch/v1.CronJob': {},
  'v1.Pod': {},
};

export function makeTrace(events: EventSpec[], o: TraceOpts = {}): Trace {
  const lifecycles: MsgMap = new Map();
  for (const [gvk, key, list] of o.lifecycles ?? [])
    lifecycles.set([gvk, key], new Map<MsgValue, MsgValue>([[0, fromPlain(list)]]));
  const root = fromPlain({
    version: 2,
    config: { trackedObjects: o.tracked ?? DEFAULT_TRACKED },
    events: events.map((e) => ({ ts: T0 + e.at, applied_objs: e.applied ?? [], deleted_objs: e.deleted ?? [] })),
    index: o.index ?? {},
  }) as MsgMap;
  root.set('pod_lifecycles', lifecycles);
  return root as Trace;
}

/** One event applying `objs` at T0. */
export function traceWith(...objs: Plain[]): Trace {
  return makeTrace([{ at: 0, applied: objs }]);
}

export function loadTrace(path: string): Trace {
  return decodeTrace(readFileSync(path)).trace;
}

export const WEB = { kind: 'Deployment', namespace: 'default', name: 'web' };
