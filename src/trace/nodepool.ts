// The node pool an episode replays on: the one type and the one reader every backend (embedded, kwok, simkube)
// and the arena use. A trace the project writes never carries v1 Node objects in its events (SimKube 2.7's driver
// unwraps metadata.namespace and panics on cluster-scoped objects); the pool is described next to it instead — by
// the episode's node-pool settings (CLI --nodes …, env server / ArenaEpisode `nodePool`) or a node-pool document
// `NAME.nodepool.json` beside `NAME.msgpack`. Older traces that hold Node objects are converted when loaded.
import type { MsgMap, MsgValue } from './msgpack.js';
import { getIn, getMap, isMap } from './model.js';
import { isQuantity } from './quantity.js';
import { isNodeObject, TraceError, type Trace } from './trace.js';

export interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
}

/** One node: what the scheduler needs of it. `allocatable` holds quantity strings (cpu, memory, pods, …). */
export interface PoolNode {
  name: string;
  allocatable: Record<string, string>;
  labels?: Record<string, string>;
  /** Default: SimKube's virtual-node taint kwok-provider=true:NoSchedule. */
  taints?: NodeTaint[];
  unschedulable?: boolean;
}

/**
 * `count` identical nodes of cpu / memory / pods, labelled and tainted like SimKube's KWOK virtual nodes; or, when
 * `nodes` is given, exactly those nodes (the uniform fields are then ignored).
 */
export interface NodePool {
  count: number;
  cpu: string;
  memory: string;
  pods: number;
  nodes?: PoolNode[];
}

export const DEFAULT_NODE_POOL: NodePool = { count: 3, cpu: '16', memory: '32Gi', pods: 110 };

export const VIRTUAL_NODE_TAINT: NodeTaint = { key: 'kwok-provider', value: 'true', effect: 'NoSchedule' };

/** Labels of a node named `name` in a uniform pool (what SimKube's virtual nodes carry). */
export function virtualNodeLabels(name: string): Record<string, string> {
  return {
    type: 'virtual',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
  };
}

/** The nodes of a pool, in order. */
export function poolNodes(pool: NodePool): PoolNode[] {
  if (pool.nodes) return pool.nodes;
  return Array.from({ length: pool.count }, (_, i) => {
    const name = `node-${i + 1}`;
    return {
      name,
      allocatable: { cpu: pool.cpu, memory: pool.memory, pods: String(pool.pods) },
      labels: virtualNodeLabels(name),
      taints: [VIRTUAL_NODE_TAINT],
    };
  });
}

// KWOK's node-initialize stage fills these in when a Node has no status.
export const KWOK_DEFAULT_ALLOCATABLE: Record<string, string> = { cpu: '1k', memory: '1Ti', pods: '1M' };

function text(v: MsgValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/**
 * Read one v1 Node object: status.allocatable (as a whole falling back to status.capacity, like the API server's
 * defaulting), labels, taints, unschedulable. `warn` hears what the scheduler would make of a Node lacking them.
 */
export function readNodeObject(obj: MsgMap, warn: (m: string) => void = () => undefined, field = 'Node'): PoolNode {
  const name = text(getIn(obj, ['metadata', 'name'])) ?? '';
  const labelsMap = getMap(obj, ['metadata', 'labels']);
  const labels: Record<string, string> = {};
  if (labelsMap) for (const [k, v] of labelsMap) if (typeof k === 'string') labels[k] = text(v) ?? '';
  const taints: NodeTaint[] = [];
  const rawTaints = getIn(obj, ['spec', 'taints']);
  if (Array.isArray(rawTaints)) {
    for (const t of rawTaints)
      if (isMap(t))
        taints.push({
          key: text(t.get('key')) ?? '',
          ...(text(t.get('value')) ? { value: text(t.get('value'))! } : {}),
          effect: text(t.get('effect')) ?? '',
        });
  }
  const allocRaw = getMap(obj, ['status', 'allocatable']);
  const alloc = allocRaw ?? getMap(obj, ['status', 'capacity']);
  const src = allocRaw ? 'allocatable' : 'capacity';
  const allocatable: Record<string, string> = {};
  if (!alloc) {
    warn(
      `${field}: Node "${name}" has no status.capacity or status.allocatable; using KWOK's defaults (cpu 1k, memory 1Ti, pods 1M)`,
    );
    Object.assign(allocatable, KWOK_DEFAULT_ALLOCATABLE);
  } else {
    for (const [k, v] of alloc) {
      const s = text(v);
      if (typeof k === 'string' && s !== undefined) allocatable[k] = s;
    }
    if (!('pods' in allocatable))
      warn(`${field}: Node "${name}" has no pods in status.${src}; no pod fits on it ("Too many pods")`);
  }
  return {
    name,
    allocatable,
    labels,
    taints,
    ...(getIn(obj, ['spec', 'unschedulable']) === true ? { unschedulable: true } : {}),
  };
}

/** The Node objects applied in the trace and not deleted later (last version of each), in first-applied order. */
export function traceNodeObjects(trace: Trace): MsgMap[] {
  const nodes = new Map<string, MsgMap>();
  for (const ev of trace.get('events') as MsgValue[]) {
    for (const o of (ev as MsgMap).get('applied_objs') as MsgValue[])
      if (isMap(o) && isNodeObject(o)) nodes.set(String(getIn(o, ['metadata', 'name'])), o);
    for (const o of (ev as MsgMap).get('deleted_objs') as MsgValue[])
      if (isMap(o) && isNodeObject(o)) nodes.delete(String(getIn(o, ['metadata', 'name'])));
  }
  return [...nodes.values()];
}

/** The pool a replay uses: the trace's own Node objects (a trace not converted yet), else `pool`. */
export function effectivePool(trace: Trace, pool: NodePool = DEFAULT_NODE_POOL): NodePool {
  const objs = traceNodeObjects(trace);
  return objs.length ? { ...pool, nodes: objs.map((o) => readNodeObject(o)) } : pool;
}

export interface Conversion {
  /** The pool the removed Node objects described (their state at the end of the trace). */
  nodePool: NodePool;
  removed: number;
  note: string;
}

/**
 * Take every Node object out of the trace's events (in place) and describe them as a node pool instead. Returns
 * undefined when the trace has none. Nodes that come and go during the trace become the pool at its end.
 */
export function convertNodeObjects(trace: Trace): Conversion | undefined {
  const pool = effectivePool(trace, DEFAULT_NODE_POOL);
  let removed = 0;
  let timed = false;
  const events = trace.get('events') as MsgValue[];
  events.forEach((ev, i) => {
    for (const list of ['applied_objs', 'deleted_objs'] as const) {
      const objs = (ev as MsgMap).get(list) as MsgValue[];
      const kept = objs.filter((o) => !(isMap(o) && isNodeObject(o)));
      if (kept.length !== objs.length) {
        removed += objs.length - kept.length;
        if (i > 0 || list === 'deleted_objs') timed = true;
        (ev as MsgMap).set(list, kept);
      }
    }
  });
  if (removed === 0) return undefined;
  const nodes = pool.nodes ?? [];
  return {
    nodePool: { ...DEFAULT_NODE_POOL, count: nodes.length, nodes },
    removed,
    note: `converted ${removed} v1 Node object(s) in the trace's events into a node pool of ${nodes.length} node(s)${timed ? ' (their state at the end of the trace)' : ''}: SimKube 2.7 cannot replay cluster-scoped objects; keep the pool next to the trace (sim-arena trace upgrade writes NAME.nodepool.json)`,
  };
}

/** A uniform pool when every node is a plain virtual node of the same size, else the explicit list. */
export function compactPool(pool: NodePool): NodePool {
  const nodes = pool.nodes;
  if (!nodes || nodes.length === 0) return { count: pool.count, cpu: pool.cpu, memory: pool.memory, pods: pool.pods };
  const a = nodes[0]!.allocatable;
  const plain = nodes.every((n, i) => {
    const keys = Object.keys(n.allocatable).sort().join(',');
    const expected = virtualNodeLabels(`node-${i + 1}`);
    const labelsOk =
      n.labels && Object.keys(n.labels).every((k) => k in expected || k === 'type') && n.labels.type === 'virtual';
    const taintsOk =
      !n.taints ||
      (n.taints.length === 1 && n.taints[0]!.key === VIRTUAL_NODE_TAINT.key && n.taints[0]!.effect === 'NoSchedule');
    return (
      n.name === `node-${i + 1}` &&
      keys === 'cpu,memory,pods' &&
      n.allocatable.cpu === a.cpu &&
      n.allocatable.memory === a.memory &&
      n.allocatable.pods === a.pods &&
      labelsOk &&
      taintsOk &&
      !n.unschedulable
    );
  });
  if (!plain || !a.cpu || !a.memory || !a.pods || !/^\d+$/.test(a.pods)) return { ...pool, count: nodes.length };
  return { count: nodes.length, cpu: a.cpu, memory: a.memory, pods: Number(a.pods) };
}

/** One line describing the pool ("3 × 16 CPU / 32Gi / 110 pods", or the node sizes). */
export function describePool(pool: NodePool): string {
  if (!pool.nodes) return `${pool.count} × ${pool.cpu} CPU / ${pool.memory} / ${pool.pods} pods`;
  return pool.nodes
    .map(
      (n) =>
        `${n.name} (${n.allocatable.cpu ?? '0'} CPU / ${n.allocatable.memory ?? '0'}${n.unschedulable ? ', unschedulable' : ''})`,
    )
    .join(', ');
}

function fail(field: string, problem: string, hint?: string): never {
  throw new TraceError(field, problem, hint);
}

function quantityText(v: unknown, field: string): string {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !isQuantity(s))
    fail(field, `must be a Kubernetes quantity (e.g. 16, 500m, 32Gi), found ${JSON.stringify(v)}`);
  return s;
}

function wholeNumber(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    fail(field, `must be a whole number ≥ ${min}, found ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validate a node pool given as plain JSON (a node-pool document, the env server's or the ArenaEpisode's
 * `nodePool`): `{count, cpu, memory, pods}` and/or `nodes: [{name, cpu, memory, pods, labels, taints,
 * unschedulable}]` (a node may also give `allocatable: {…}` for other resources). Missing uniform fields default.
 */
export function parseNodePool(value: unknown, field = 'nodePool', defaults: NodePool = DEFAULT_NODE_POOL): NodePool {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(field, 'must be an object like {"count": 3, "cpu": "16", "memory": "32Gi", "pods": 110} or {"nodes": [...]}');
  const v = value as Record<string, unknown>;
  const known = new Set(['count', 'cpu', 'memory', 'pods', 'nodes', 'apiVersion', 'kind']);
  for (const k of Object.keys(v))
    if (!known.has(k)) fail(`${field}.${k}`, 'is not a node-pool field', 'use count, cpu, memory, pods or nodes');
  const pool: NodePool = {
    count: v.count === undefined ? defaults.count : wholeNumber(v.count, `${field}.count`, 0),
    cpu: v.cpu === undefined ? defaults.cpu : quantityText(v.cpu, `${field}.cpu`),
    memory: v.memory === undefined ? defaults.memory : quantityText(v.memory, `${field}.memory`),
    pods: v.pods === undefined ? defaults.pods : wholeNumber(v.pods, `${field}.pods`, 0),
  };
  if (v.nodes === undefined) return pool;
  if (!Array.isArray(v.nodes)) fail(`${field}.nodes`, 'must be a list of nodes');
  const names = new Set<string>();
  const nodes = v.nodes.map((raw, i): PoolNode => {
    const f = `${field}.nodes[${i}]`;
    if (typeof raw !== 'object' || raw === null)
      fail(f, 'must be an object like {"name": "big-1", "cpu": "32", "memory": "64Gi", "pods": 110}');
    const n = raw as Record<string, unknown>;
    const name = typeof n.name === 'string' && n.name ? n.name : `node-${i + 1}`;
    if (names.has(name)) fail(`${f}.name`, `"${name}" is used twice`, 'node names must be unique');
    names.add(name);
    const allocatable: Record<string, string> = {};
    if (n.allocatable !== undefined) {
      if (typeof n.allocatable !== 'object' || n.allocatable === null)
        fail(`${f}.allocatable`, 'must be a map of resource name to quantity');
      for (const [k, q] of Object.entries(n.allocatable as Record<string, unknown>))
        allocatable[k] = quantityText(q, `${f}.allocatable.${k}`);
    }
    if (n.cpu !== undefined) allocatable.cpu = quantityText(n.cpu, `${f}.cpu`);
    if (n.memory !== undefined) allocatable.memory = quantityText(n.memory, `${f}.memory`);
    if (n.pods !== undefined) allocatable.pods = String(wholeNumber(n.pods, `${f}.pods`, 0));
    allocatable.cpu ??= pool.cpu;
    allocatable.memory ??= pool.memory;
    allocatable.pods ??= String(pool.pods);
    let labels: Record<string, string> | undefined;
    if (n.labels !== undefined) {
      if (
        typeof n.labels !== 'object' ||
        n.labels === null ||
        Object.values(n.labels).some((x) => typeof x !== 'string')
      )
        fail(`${f}.labels`, 'must be a map of strings');
      labels = n.labels as Record<string, string>;
    }
    let taints: NodeTaint[] | undefined;
    if (n.taints !== undefined) {
      if (!Array.isArray(n.taints)) fail(`${f}.taints`, 'must be a list of {key, value, effect}');
      taints = n.taints.map((t, j) => {
        const tt = t as Record<string, unknown>;
        if (
          typeof tt?.key !== 'string' ||
          !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(tt.effect as string)
        )
          fail(`${f}.taints[${j}]`, 'needs a key and an effect of NoSchedule, PreferNoSchedule or NoExecute');
        return {
          key: tt.key,
          ...(typeof tt.value === 'string' ? { value: tt.value } : {}),
          effect: tt.effect as string,
        };
      });
    }
    return {
      name,
      allocatable,
      labels: labels ?? virtualNodeLabels(name),
      ...(taints ? { taints } : { taints: [VIRTUAL_NODE_TAINT] }),
      ...(n.unschedulable === true ? { unschedulable: true } : {}),
    };
  });
  return { ...pool, count: nodes.length, nodes };
}

/** The node-pool document for a pool: plain JSON, the shape parseNodePool reads. */
export function nodePoolDocument(pool: NodePool): Record<string, unknown> {
  const c = compactPool(pool);
  if (!c.nodes)
    return {
      apiVersion: 'simarena.io/v1alpha1',
      kind: 'NodePool',
      count: c.count,
      cpu: c.cpu,
      memory: c.memory,
      pods: c.pods,
    };
  return {
    apiVersion: 'simarena.io/v1alpha1',
    kind: 'NodePool',
    nodes: c.nodes.map((n) => {
      const { cpu, memory, pods, ...rest } = n.allocatable;
      return {
        name: n.name,
        ...(cpu !== undefined ? { cpu } : {}),
        ...(memory !== undefined ? { memory } : {}),
        ...(pods !== undefined && /^\d+$/.test(pods) ? { pods: Number(pods) } : {}),
        ...(Object.keys(rest).length || (pods !== undefined && !/^\d+$/.test(pods))
          ? { allocatable: { ...rest, ...(pods !== undefined && !/^\d+$/.test(pods) ? { pods } : {}) } }
          : {}),
        ...(n.labels ? { labels: n.labels } : {}),
        ...(n.taints ? { taints: n.taints } : {}),
        ...(n.unschedulable ? { unschedulable: true } : {}),
      };
    }),
  };
}

/** `traces/x.msgpack` → `traces/x.nodepool.json` */
export function nodePoolPathFor(tracePath: string): string {
  return tracePath.replace(/\.(msgpack|sktrace|json)$/i, '') + '.nodepool.json';
}
