// Finding a workload in every event of a trace, and reading or changing its containers and replicas.
import type { MsgMap, MsgValue } from './msgpack.js';
import { getArray, getIn, getMap, getString, isMap, setIn } from './model.js';
import { hasReplicas, podSpecPath } from './gvk.js';
import { TraceError, type Trace } from './trace.js';
import { noteEdited } from './edits.js';

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface Occurrence {
  event: number;
  list: 'applied_objs' | 'deleted_objs';
  position: number;
  obj: MsgMap;
}

export interface ContainerRef {
  /** "containers" or "initContainers" */
  list: 'containers' | 'initContainers';
  index: number;
  name: string;
}

export function formatWorkload(w: WorkloadRef): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

/** Parse "NS/NAME" or "NAME" (namespace default). */
export function parseWorkloadArg(s: string, kind = 'Deployment'): WorkloadRef {
  const parts = s.split('/');
  if (parts.length === 1 && parts[0]) return { kind, namespace: 'default', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { kind, namespace: parts[0], name: parts[1] };
  throw new TraceError('workload', `"${s}" is not NAMESPACE/NAME`, 'e.g. --workload default/web');
}

/**
 * Where each workload appears, for one layout of the trace's event lists: actions look a workload up several times a
 * step, and a scan of every object each time is most of an action's cost on a trace with history. Valid while the
 * events array, each event's lists and their lengths are the ones it was built from (edits that add or remove objects
 * replace or resize a list), and while each hit still names the workload (an object's kind, namespace and name are
 * not changed in place anywhere; a hit that no longer matches rebuilds the index anyway).
 */
interface OccurrenceIndex {
  events: MsgValue[];
  /** Each event's map, applied list and deleted list, in order, with the lists' lengths. */
  layout: unknown[];
  lengths: number[];
  byRef: Map<string, Occurrence[]>;
}

const occurrenceIndexes = new WeakMap<Trace, OccurrenceIndex>();

function refKey(kind: MsgValue | undefined, namespace: MsgValue | undefined, name: MsgValue | undefined): string {
  return `${String(kind)}|${String(namespace)}/${String(name)}`;
}

function sameLayout(ix: OccurrenceIndex, events: MsgValue[]): boolean {
  if (ix.events !== events || ix.lengths.length !== events.length * 2) return false;
  const layout = ix.layout;
  const lengths = ix.lengths;
  for (let e = 0; e < events.length; e++) {
    const ev = events[e] as MsgMap;
    if (layout[3 * e] !== ev) return false;
    const a = ev.get('applied_objs') as MsgValue[];
    const d = ev.get('deleted_objs') as MsgValue[];
    if (layout[3 * e + 1] !== a || layout[3 * e + 2] !== d) return false;
    if (lengths[2 * e] !== a.length || lengths[2 * e + 1] !== d.length) return false;
  }
  return true;
}

function buildOccurrenceIndex(events: MsgValue[]): OccurrenceIndex {
  const layout: unknown[] = [];
  const lengths: number[] = [];
  const byRef = new Map<string, Occurrence[]>();
  for (let event = 0; event < events.length; event++) {
    const ev = events[event] as MsgMap;
    layout.push(ev);
    for (const list of LISTS) {
      const objs = ev.get(list) as MsgValue[];
      layout.push(objs);
      lengths.push(objs.length);
      for (let position = 0; position < objs.length; position++) {
        const obj = objs[position];
        if (!(obj instanceof Map)) continue;
        const md = obj.get('metadata');
        const m = md instanceof Map ? md : undefined;
        const key = refKey(obj.get('kind'), m?.get('namespace'), m?.get('name'));
        let occ = byRef.get(key);
        if (occ === undefined) byRef.set(key, (occ = []));
        occ.push({ event, list, position, obj });
      }
    }
  }
  return { events, layout, lengths, byRef };
}

function stillNames(o: Occurrence, ref: WorkloadRef): boolean {
  if (o.obj.get('kind') !== ref.kind) return false;
  const md = o.obj.get('metadata');
  return md instanceof Map && md.get('name') === ref.name && md.get('namespace') === ref.namespace;
}

/** Every place the workload appears, in event order (applied and deleted entries). */
export function findOccurrences(trace: Trace, ref: WorkloadRef): Occurrence[] {
  const events = trace.get('events') as MsgValue[];
  const key = refKey(ref.kind, ref.namespace, ref.name);
  let ix = occurrenceIndexes.get(trace);
  let hits: Occurrence[] | undefined;
  if (ix !== undefined && sameLayout(ix, events)) {
    hits = ix.byRef.get(key);
    if (hits !== undefined && !hits.every((o) => stillNames(o, ref))) ix = undefined;
  } else ix = undefined;
  if (ix === undefined) {
    ix = buildOccurrenceIndex(events);
    occurrenceIndexes.set(trace, ix);
    hits = ix.byRef.get(key);
  }
  const out: Occurrence[] = [];
  if (hits !== undefined) for (const o of hits) if (stillNames(o, ref)) out.push({ ...o });
  return out;
}

const LISTS = ['applied_objs', 'deleted_objs'] as const;

/** Applied occurrences that carry a pod spec (deletion stubs have none). */
export function templateOccurrences(trace: Trace, ref: WorkloadRef): Occurrence[] {
  const path = podSpecPath(ref.kind);
  if (!path)
    throw new TraceError(
      'workload.kind',
      `${ref.kind} has no pod template sim-arena knows`,
      'use Deployment, StatefulSet, ReplicaSet, DaemonSet, Job, CronJob or Pod',
    );
  const found = findOccurrences(trace, ref);
  if (found.length === 0) {
    const known = listWorkloads(trace).map(formatWorkload);
    const shown =
      known.length > 10 ? `${known.slice(0, 10).join(', ')} and ${known.length - 10} more` : known.join(', ');
    throw new TraceError(
      'workload',
      `${formatWorkload(ref)} is not in the trace`,
      known.length ? `the trace has: ${shown}` : 'the trace has no workloads',
    );
  }
  const withSpec = found.filter((o) => isMap(getIn(o.obj, path)));
  if (withSpec.length === 0)
    throw new TraceError('workload', `${formatWorkload(ref)} appears only as deletion stubs without a pod spec`);
  return withSpec;
}

/** The last applied occurrence: the workload's state at the end of the replay. */
export function currentObject(trace: Trace, ref: WorkloadRef): MsgMap {
  const occ = templateOccurrences(trace, ref);
  const applied = occ.filter((o) => o.list === 'applied_objs');
  return (applied[applied.length - 1] ?? occ[occ.length - 1]!).obj;
}

export function podSpecOf(obj: MsgMap): MsgMap | undefined {
  const path = podSpecPath(obj.get('kind') as string);
  return path ? getMap(obj, path) : undefined;
}

/** All containers and init containers of a pod spec. */
export function listContainers(podSpec: MsgMap): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const list of ['containers', 'initContainers'] as const) {
    (getArray(podSpec, [list]) ?? []).forEach((c, index) =>
      out.push({ list, index, name: getString(c, ['name']) ?? `#${index}` }),
    );
  }
  return out;
}

/** The target container: by name (containers, then init containers) or the first app container. */
export function resolveContainer(podSpec: MsgMap, ref: WorkloadRef, name?: string): ContainerRef {
  if (!name) {
    // The common case (first app container) without listing everything.
    const first = getIn(podSpec, ['containers', 0]);
    if (first instanceof Map) return { list: 'containers', index: 0, name: getString(first, ['name']) ?? '#0' };
  }
  const all = listContainers(podSpec);
  const hit = name ? all.find((c) => c.name === name) : all.find((c) => c.list === 'containers');
  if (!hit) {
    const names = all.map((c) => (c.list === 'initContainers' ? `${c.name} (init)` : c.name));
    throw new TraceError(
      'workload.container',
      name ? `${formatWorkload(ref)} has no container "${name}"` : `${formatWorkload(ref)} has no containers`,
      names.length ? `containers: ${names.join(', ')}` : undefined,
    );
  }
  return hit;
}

export function containerAt(podSpec: MsgMap, c: ContainerRef): MsgMap {
  return getIn(podSpec, [c.list, c.index]) as MsgMap;
}

export function requestOf(container: MsgMap, resource: 'cpu' | 'memory'): MsgValue | undefined {
  return getIn(container, ['resources', 'requests', resource]);
}

export function setRequest(container: MsgMap, resource: 'cpu' | 'memory', value: string): void {
  setIn(container, ['resources', 'requests', resource], value);
}

export function replicasOf(obj: MsgMap): number {
  const r = getIn(obj, ['spec', 'replicas']);
  // Kubernetes defaults a missing spec.replicas to 1.
  return typeof r === 'number' ? r : typeof r === 'bigint' ? Number(r) : 1;
}

export function setReplicas(obj: MsgMap, n: number): void {
  setIn(obj, ['spec', 'replicas'], n);
}

export { hasReplicas };

/** Every distinct workload with a pod template in the trace, in first-seen order. */
export function listWorkloads(trace: Trace): WorkloadRef[] {
  const seen = new Map<string, WorkloadRef>();
  for (const ev of trace.get('events') as MsgValue[]) {
    for (const o of (ev as MsgMap).get('applied_objs') as MsgValue[]) {
      const obj = o as MsgMap;
      const kind = obj.get('kind') as string;
      if (!podSpecPath(kind)) continue;
      const ref = {
        kind,
        namespace: getIn(obj, ['metadata', 'namespace']) as string,
        name: getIn(obj, ['metadata', 'name']) as string,
      };
      const key = formatWorkload(ref);
      if (!seen.has(key)) seen.set(key, ref);
    }
  }
  return [...seen.values()];
}

/** Make sure the index lists the workload (SimKube looks lifecycles up only for indexed owners). */
export function ensureIndexed(trace: Trace, obj: MsgMap): void {
  const index = trace.get('index') as MsgMap;
  const gvk = `${obj.get('apiVersion') as string}.${obj.get('kind') as string}`;
  let entries = index.get(gvk);
  if (!isMap(entries)) {
    entries = new Map();
    index.set(gvk, entries);
  }
  const key = `${getIn(obj, ['metadata', 'namespace']) as string}/${getIn(obj, ['metadata', 'name']) as string}`;
  if (!entries.has(key)) {
    entries.set(key, 0);
    noteEdited(trace, index);
  }
}
