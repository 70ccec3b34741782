// Replays a trace in-process, the way SimKube's driver + a real control plane + KWOK would:
// events in order (stopping at first_ts + duration), workload controllers turning objects into pods, pod lifecycles
// from the trace (Finished -> Succeeded), and a scheduling pass over the pending queue after every change.
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';
import { MsgFloat } from '../../trace/msgpack.js';
import { TraceError, type Trace } from '../../trace/trace.js';
import { editJournal } from '../../trace/edits.js';
import { BUILTIN_POD_SPEC_TEMPLATE_PATHS } from '../../trace/gvk.js';
import type { WorkloadRef } from '../../trace/workload.js';
import { DEFAULT_NODE_POOL, type NodePool } from '../../arena/backend.js';
import { SimNode, SimPodImpl, nodeSpecFromObject, poolNodes, type Explanation } from './cluster.js';
import { UnsupportedFeatureError } from './errors.js';
import { tolerates } from './selection.js';
import { buildShape, type PodShape, type ShapeContext } from './shape.js';
import { CronError, nextTick, parseCron, type CronSchedule } from './cron.js';
import { Rng } from './rng.js';
import { daemonShouldRun, explainPending, Scheduler } from './scheduler.js';

export interface SimulateOptions {
  /** Seed for the scheduler's tie-breaks (default 0). */
  seed?: number;
  /** Nodes to use when the trace has no v1 Node objects (default DEFAULT_NODE_POOL). */
  nodePool?: NodePool;
  /** Replay window from the first event, in seconds; events at or after first_ts + duration are dropped. */
  durationSeconds?: number;
  /** Safety cap on pods created in one replay (default 100000); exceeding it throws. */
  maxPods?: number;
}

interface PriorityClassInfo {
  value: number;
  preemptNever: boolean;
  globalDefault: boolean;
}

const NO_PRIORITY_CLASSES: Map<string, PriorityClassInfo> = new Map();

type Kind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod';

const WORKLOAD_GROUPS: Record<string, Kind> = {
  'apps|Deployment': 'Deployment',
  'extensions|Deployment': 'Deployment',
  'apps|ReplicaSet': 'ReplicaSet',
  'extensions|ReplicaSet': 'ReplicaSet',
  'apps|StatefulSet': 'StatefulSet',
  'apps|DaemonSet': 'DaemonSet',
  'extensions|DaemonSet': 'DaemonSet',
  'batch|Job': 'Job',
  'batch|CronJob': 'CronJob',
  '|Pod': 'Pod',
};

/** Controllers that replace a pod that finished; a 0 s Finished lifecycle would loop forever, so they get 1 s. */
const RESTARTING: ReadonlySet<Kind> = new Set<Kind>(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

function asMap(v: MsgValue | undefined): MsgMap | undefined {
  return v instanceof Map ? v : undefined;
}

function str(v: MsgValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function intOr(v: MsgValue | undefined, dflt: number): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return dflt;
}

function intOrNull(v: MsgValue | undefined): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

function tsNumber(v: MsgValue | undefined, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new TraceError(field, 'must be an integer timestamp');
}

/** Structural equality of decoded values (map key order ignored). */
export function deepEqual(a: MsgValue | undefined, b: MsgValue | undefined): boolean {
  if (a === b) return true;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const k of a.keys()) {
      if (!b.has(k) || !deepEqual(a.get(k), b.get(k))) return false;
    }
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof MsgFloat) return b instanceof MsgFloat && a.value === b.value;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint'))
    return BigInt(a) === BigInt(b);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------------

const enum TimerKind {
  Complete = 0,
  CronTick = 1,
  JobDeadline = 2,
  JobTtl = 3,
}

interface Timer {
  t: number;
  seq: number;
  kind: TimerKind;
  pod: SimPodImpl | null;
  w: Workload | null;
  gen: number;
}

class TimerHeap {
  readonly items: Timer[] = [];
  private less(a: Timer, b: Timer): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
  push(x: Timer): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): Timer | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

// ---------------------------------------------------------------------------------------------------------------------

/**
 * A workload object of the trace as the replay reads it: identity, pod template, and (once built) its pod shape with
 * the warnings building it gave, its pod lifetimes, and whether its template equals other objects' templates. Built
 * once per object and kept across replays of a trace whose edits are journaled (src/trace/edits.ts), so a step
 * re-reads only the objects its action edited; see compiledObjects().
 */
interface Compiled {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly gvk: string;
  readonly template: MsgValue | undefined;
  readonly spec: MsgMap | undefined;
  readonly path: string;
  /** Where the object sits (a record is used only there) and that place as a field path. */
  readonly event: number;
  readonly pos: number;
  readonly field: string;
  shape: PodShape | null;
  shapeWarnings: string[];
  /** Lifetimes from pod_lifecycles (RESTARTING kinds: 0 s made 1 s); undefined until looked up. */
  lifecycle: number[] | null | undefined;
  /** deepEqual of this object's template and another's, by the other's record. */
  same: Map<Compiled, boolean> | null;
}

interface CompileCache {
  /** The journal version the cache has accounted for. */
  version: number;
  objects: Map<MsgMap, Compiled>;
}

const compileCaches = new WeakMap<Trace, CompileCache>();
// Records are in plain maps, not weak ones (cheaper for the garbage collector): they live only as long as their trace.
/** Template comparisons remembered per record (older records of an edited object would pile up otherwise). */
const MAX_SAME = 64;

/**
 * The records of the trace's objects, shared by its replays when its edits are journaled: an edited workload object
 * loses its record; any other edit (the index, a PriorityClass, config) drops them all, since shapes and lifetimes
 * depend on those. A trace without a journal gets fresh records per replay (nothing tells us what changed).
 */
function compiledObjects(trace: Trace): Map<MsgMap, Compiled> {
  const journal = editJournal(trace);
  if (journal === undefined) return new Map();
  let cc = compileCaches.get(trace);
  if (cc === undefined) {
    cc = { version: journal.version, objects: new Map() };
    compileCaches.set(trace, cc);
    return cc.objects;
  }
  if (cc.version !== journal.version) {
    for (const [obj, v] of journal.edited) {
      if (v <= cc.version) continue;
      if (!cc.objects.delete(obj)) {
        cc.objects = new Map();
        break;
      }
    }
    cc.version = journal.version;
  }
  return cc.objects;
}

// fork() in Simulation copies every field: keep it in step when adding one.
class Workload {
  readonly ref: WorkloadRef;
  readonly root: Workload;
  dirty = false;
  deleted = false;
  /** Bumped on delete or schedule change; timers carry the generation they were made for. */
  gen = 0;
  obj: MsgMap;
  field = '';
  template: MsgValue | undefined;
  /** The record `template` came from (null for a CronJob's Jobs). */
  tmpl: Compiled | null = null;
  shape: PodShape | null = null;
  /** Existing pods (not deleted), in creation order. */
  readonly pods: SimPodImpl[] = [];
  /** Pods ever created for this trace object (SimKube's per-owner sequence number); used on the root. */
  created = 0;
  /** Pods created by this controller (names). */
  local = 0;
  /** Lifetimes from pod_lifecycles: seconds until Succeeded, -1 for never. */
  lifecycle: number[] | null = null;
  // Deployment / ReplicaSet / StatefulSet
  replicas = 1;
  paused = false;
  // StatefulSet
  parallel = false;
  ordinals: (SimPodImpl | null)[] = [];
  // DaemonSet
  dsPods: Map<string, SimPodImpl> | null = null;
  // Pod
  podCreated = false;
  // Job
  completions: number | null = 1;
  parallelism = 1;
  succeeded = 0;
  done = false;
  failed = false;
  suspended = false;
  activeDeadline: number | null = null;
  ttl: number | null = null;
  // CronJob
  cron: CronSchedule | null = null;
  scheduleText = '';
  concurrency = 'Allow';
  successLimit = 3;
  failLimit = 1;
  children: Workload[] = [];
  jobSpec: MsgMap | null = null;
  /** Its pods bound to each node (SpreadGroup), by SimNode.index. */
  readonly spreadCounts: number[] = [];

  constructor(
    readonly kind: Kind,
    readonly namespace: string,
    readonly name: string,
    obj: MsgMap,
    root: Workload | null,
    readonly isChild: boolean,
  ) {
    this.obj = obj;
    this.root = root ?? this;
    this.ref = root ? root.ref : { kind, namespace, name };
  }
}

/** Everything simulate() returns. */
export interface SimState {
  nodes: SimNode[];
  pods: SimPodImpl[];
  warnings: string[];
  startTs: number;
  endTs: number;
  eventsReplayed: number;
  podsCreated: number;
  preemptions: number;
  /** Every workload applied in the window, by workloadKey (deleted ones included). */
  applied: ReadonlyMap<string, unknown>;
}

/** A place in the replay: before the object at `pos` of event `event` (applied objects, then deleted ones). */
export interface ReplayPoint {
  event: number;
  pos: number;
}

export function workloadKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export class Simulation {
  readonly nodes: SimNode[] = [];
  readonly nodeByName = new Map<string, SimNode>();
  private readonly queue: SimPodImpl[] = [];
  private readonly allPods: SimPodImpl[] = [];
  private readonly workloads = new Map<string, Workload>();
  private readonly daemonSets: Workload[] = [];
  private readonly dirty: Workload[] = [];
  private readonly timers = new TimerHeap();
  private readonly warnings: string[] = [];
  private warned: Set<string> | null = null;
  private priorityClasses: Map<string, PriorityClassInfo> = NO_PRIORITY_CLASSES;
  private scheduler: Scheduler;
  private readonly maxPods: number;
  private readonly explainer: (p: SimPodImpl) => Explanation;
  private readonly warnFn: (m: string) => void;
  private now = 0;
  private seq = 0;
  private nodeSeq = 0;
  private timerSeq = 0;
  private minPriority = Infinity;
  private preemptions = 0;
  private tracked: MsgMap | undefined;
  private index: MsgMap | undefined;
  private lifecycles: MsgMap | undefined;
  private lifecycleIndex: Map<string, number[]> | null = null;
  private compiled = new Map<MsgMap, Compiled>();
  private first = 0;
  private end = 0;
  private hasDuration = false;
  private traceNodes = false;
  private replayed = 0;
  // The replay's position: next event, next object in it, and whether that event's timers have fired.
  private at = 0;
  private pos = 0;
  private advanced = false;

  constructor(
    private readonly trace: Trace,
    private readonly opts: SimulateOptions,
  ) {
    this.scheduler = new Scheduler(new Rng(opts.seed ?? 0));
    this.maxPods = opts.maxPods ?? 100_000;
    this.explainer = (p) => explainPending(p, this.nodes, this.nodeByName);
    this.warnFn = (m) => this.warn(m);
  }

  warn(message: string): void {
    const seen = (this.warned ??= new Set());
    if (seen.has(message)) return;
    seen.add(message);
    this.warnings.push(message);
  }

  /** Replay the whole trace. */
  run(): SimState {
    this.begin();
    return this.replay();
  }

  /** Read the trace's configuration and window, pre-scan it, and add the node pool: ready to replay event 0. */
  begin(): void {
    const trace = this.trace;
    const events = trace.get('events');
    if (!Array.isArray(events) || events.length === 0)
      throw new TraceError('events', 'is empty', 'SimKube needs at least one event ("no trace data")');
    const config = asMap(trace.get('config'));
    this.tracked = asMap(config?.get('trackedObjects'));
    this.index = asMap(trace.get('index'));
    this.lifecycles = asMap(trace.get('pod_lifecycles'));
    this.compiled = compiledObjects(trace);

    this.first = tsNumber(asMap(events[0])?.get('ts'), 'events[0].ts');
    const last = tsNumber(asMap(events[events.length - 1])?.get('ts'), `events[${events.length - 1}].ts`);
    const d = this.opts.durationSeconds;
    if (d !== undefined && !(Number.isFinite(d) && d >= 0))
      throw new TraceError('durationSeconds', `must be a non-negative number of seconds, found ${d}`);
    this.hasDuration = d !== undefined;
    this.end = this.hasDuration ? this.first + d! : last;

    // Pre-scan: Node objects decide the node source; PriorityClasses are known up front.
    for (let i = 0; i < events.length; i++) {
      const applied = asMap(events[i])?.get('applied_objs');
      if (!Array.isArray(applied)) continue;
      for (let j = 0; j < applied.length; j++) {
        const o = applied[j];
        if (!(o instanceof Map)) continue;
        const kind = o.get('kind');
        if (kind === 'Node' && o.get('apiVersion') === 'v1') this.traceNodes = true;
        else if (kind === 'PriorityClass') this.addPriorityClass(o);
      }
    }
    if (!this.traceNodes) for (const n of poolNodes(this.opts.nodePool ?? DEFAULT_NODE_POOL)) this.addNode(n);
  }

  /**
   * Replay from where the simulation stands (event `at`, object `pos`) to the end of the window. With `pause`, hand
   * the simulation to `pause.take` just before the object at (event, position) is replayed (positions count the
   * event's applied objects, then its deleted ones; position 0 comes after the timers due by the event have fired).
   */
  replay(pause?: ReplayPoint & { take: (sim: Simulation) => void }): SimState {
    const events = this.trace.get('events') as MsgValue[];
    for (; this.at < events.length; this.at++, this.pos = 0, this.advanced = false) {
      const i = this.at;
      const ev = asMap(events[i]);
      if (ev === undefined) throw new TraceError(`events[${i}]`, 'must be a map');
      if (!this.advanced) {
        const ts = tsNumber(ev.get('ts'), `events[${i}].ts`);
        if (this.hasDuration && ts >= this.end) break;
        this.advance(ts, true);
        this.now = ts;
        this.advanced = true;
      }
      const applied = ev.get('applied_objs');
      const deleted = ev.get('deleted_objs');
      const na = Array.isArray(applied) ? applied.length : 0;
      const count = na + (Array.isArray(deleted) ? deleted.length : 0);
      for (; this.pos < count; this.pos++) {
        if (pause !== undefined && pause.event === i && pause.pos === this.pos) {
          pause.take(this);
          pause = undefined;
        }
        const j = this.pos;
        const o = j < na ? (applied as MsgValue[])[j] : (deleted as MsgValue[])[j - na];
        if (!(o instanceof Map)) continue;
        if (j < na) this.apply(o, i, j);
        else this.remove(o);
      }
      this.settle();
      this.replayed++;
    }
    this.advance(this.end, !this.hasDuration);
    this.now = this.end;

    if (this.traceNodes && this.nodes.length === 0)
      this.warn(
        'the trace has Node objects, but none exists at the end of the replay window (applied later, or deleted); nothing can be scheduled',
      );
    if (this.traceNodes && this.nodes.length > 0 && !this.nodes.some((n) => n.labels.get('type') === 'virtual')) {
      this.warn(
        "no Node in the trace is labelled type=virtual; SimKube's webhook pins every simulated pod to type=virtual nodes, so none can be scheduled",
      );
    }
    const pods: SimPodImpl[] = [];
    for (const p of this.allPods) if (!p.deleted) pods.push(p);
    return {
      nodes: this.nodes,
      pods,
      warnings: this.warnings,
      startTs: this.first,
      endTs: this.end,
      eventsReplayed: this.replayed,
      podsCreated: this.allPods.length,
      preemptions: this.preemptions,
      applied: this.workloads,
    };
  }

  /** Where the replay stands: the next event and object position. */
  get point(): ReplayPoint {
    return { event: this.at, pos: this.pos };
  }

  /**
   * An independent copy of the simulation's whole state (between objects of an event: nothing is mid-change), to
   * resume from later. Pod shapes, node labels and trace objects are shared: nothing changes them during a replay.
   */
  fork(): Simulation {
    const c = new Simulation(this.trace, this.opts);
    const ws = new Map<Workload, Workload>();
    const ps = new Map<SimPodImpl, SimPodImpl>();
    const ns = new Map<SimNode, SimNode>();
    // Copies are built by the constructors (same object layout as the originals: the hot loops stay monomorphic).
    const regW = (w: Workload): void => {
      if (ws.has(w)) return;
      if (w.root !== w) regW(w.root);
      const x = new Workload(w.kind, w.namespace, w.name, w.obj, w.root === w ? null : ws.get(w.root)!, w.isChild);
      ws.set(w, x);
      for (const k of w.children) regW(k);
    };
    const regN = (n: SimNode): void => {
      if (!ns.has(n)) ns.set(n, n.copy());
    };
    for (const w of this.workloads.values()) regW(w);
    for (const p of this.allPods) regW(p.ctl as Workload);
    for (const t of this.timers.items) if (t.w !== null) regW(t.w);
    for (const p of this.allPods) {
      const x = p.copy(ws.get(p.ctl as Workload)!, c.explainer);
      if (p.boundNode !== null) {
        regN(p.boundNode);
        x.boundNode = ns.get(p.boundNode)!;
      }
      ps.set(p, x);
    }
    for (const n of this.nodes) regN(n);
    const W = (w: Workload): Workload => ws.get(w)!;
    const P = (p: SimPodImpl): SimPodImpl => ps.get(p)!;
    for (const [w, x] of ws) {
      x.dirty = w.dirty;
      x.deleted = w.deleted;
      x.gen = w.gen;
      x.field = w.field;
      x.template = w.template;
      x.tmpl = w.tmpl;
      x.shape = w.shape;
      for (const p of w.pods) x.pods.push(P(p));
      x.created = w.created;
      x.local = w.local;
      x.lifecycle = w.lifecycle;
      x.replicas = w.replicas;
      x.paused = w.paused;
      x.parallel = w.parallel;
      x.ordinals = w.ordinals.map((p) => (p === null ? null : P(p)));
      x.dsPods = w.dsPods === null ? null : new Map([...w.dsPods].map(([k, p]) => [k, P(p)]));
      x.podCreated = w.podCreated;
      x.completions = w.completions;
      x.parallelism = w.parallelism;
      x.succeeded = w.succeeded;
      x.done = w.done;
      x.failed = w.failed;
      x.suspended = w.suspended;
      x.activeDeadline = w.activeDeadline;
      x.ttl = w.ttl;
      x.cron = w.cron;
      x.scheduleText = w.scheduleText;
      x.concurrency = w.concurrency;
      x.successLimit = w.successLimit;
      x.failLimit = w.failLimit;
      x.children = w.children.map(W);
      x.jobSpec = w.jobSpec;
      for (const v of w.spreadCounts) x.spreadCounts.push(v);
    }
    for (const [n, x] of ns) for (const p of n.pods) x.pods.push(P(p));
    for (const n of this.nodes) {
      const x = ns.get(n)!;
      c.nodes.push(x);
      c.nodeByName.set(x.name, x);
    }
    for (const p of this.queue) c.queue.push(P(p));
    for (const p of this.allPods) c.allPods.push(P(p));
    for (const [k, w] of this.workloads) c.workloads.set(k, W(w));
    for (const w of this.daemonSets) c.daemonSets.push(W(w));
    for (const w of this.dirty) c.dirty.push(W(w));
    for (const t of this.timers.items)
      c.timers.items.push({ ...t, pod: t.pod === null ? null : P(t.pod), w: t.w === null ? null : W(t.w) });
    c.warnings.push(...this.warnings);
    c.warned = this.warned === null ? null : new Set(this.warned);
    c.priorityClasses = this.priorityClasses;
    c.scheduler = this.scheduler.fork();
    c.now = this.now;
    c.seq = this.seq;
    c.nodeSeq = this.nodeSeq;
    c.timerSeq = this.timerSeq;
    c.minPriority = this.minPriority;
    c.preemptions = this.preemptions;
    c.tracked = this.tracked;
    c.index = this.index;
    c.lifecycles = this.lifecycles;
    c.lifecycleIndex = this.lifecycleIndex;
    // Not this.compiled: the trace may have been edited since (a saved state resumes after edits past it).
    c.compiled = compiledObjects(this.trace);
    c.first = this.first;
    c.end = this.end;
    c.hasDuration = this.hasDuration;
    c.traceNodes = this.traceNodes;
    c.replayed = this.replayed;
    c.at = this.at;
    c.pos = this.pos;
    c.advanced = this.advanced;
    return c;
  }

  // ---- time -----------------------------------------------------------------------------------------------------

  private advance(limit: number, inclusive: boolean): void {
    const h = this.timers.items;
    while (h.length > 0) {
      const t = h[0]!.t;
      if (inclusive ? t > limit : t >= limit) return;
      this.now = t;
      while (h.length > 0 && h[0]!.t === t) this.fire(this.timers.pop()!);
      this.settle();
    }
  }

  private addTimer(t: number, kind: TimerKind, pod: SimPodImpl | null, w: Workload | null): void {
    this.timers.push({ t, seq: this.timerSeq++, kind, pod, w, gen: w ? w.gen : 0 });
  }

  private fire(x: Timer): void {
    switch (x.kind) {
      case TimerKind.Complete: {
        const p = x.pod!;
        if (p.deleted || p.phase !== 'Running') return;
        p.phase = 'Succeeded';
        p.finishedAt = this.now;
        p.boundNode!.removePod(p);
        const w = p.ctl as Workload;
        if (w.kind === 'Job') w.succeeded++;
        this.markDirty(w);
        return;
      }
      case TimerKind.CronTick: {
        const w = x.w!;
        if (w.deleted || x.gen !== w.gen) return;
        this.cronTick(w);
        return;
      }
      case TimerKind.JobDeadline: {
        const w = x.w!;
        if (w.deleted || w.done || x.gen !== w.gen) return;
        for (const p of w.pods.slice()) if (p.phase !== 'Succeeded') this.deletePod(p, false);
        this.finishJob(w, true);
        return;
      }
      case TimerKind.JobTtl: {
        const w = x.w!;
        if (w.deleted || x.gen !== w.gen) return;
        this.deleteWorkload(w);
        return;
      }
    }
  }

  // ---- objects --------------------------------------------------------------------------------------------------

  private apply(obj: MsgMap, i: number, j: number): void {
    const rec = this.compiled.get(obj);
    if (rec !== undefined && rec.event === i && rec.pos === j) return this.upsertWorkload(rec, obj);
    const kind = obj.get('kind');
    const apiVersion = obj.get('apiVersion');
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') return;
    const field = `events[${i}].applied_objs[${j}]`;
    if (kind === 'Node' && apiVersion === 'v1') return this.upsertNode(obj, field);
    const wk = WORKLOAD_GROUPS[`${groupOf(apiVersion)}|${kind}`];
    if (wk !== undefined) return this.upsertWorkload(this.compile(wk, obj, apiVersion, field, i, j), obj);
    switch (kind) {
      case 'PriorityClass':
        return;
      case 'LimitRange':
        throw new UnsupportedFeatureError(field, 'LimitRange (default requests injected at admission)');
      case 'ResourceQuota':
        throw new UnsupportedFeatureError(field, 'ResourceQuota (pod creation refused over quota)');
      case 'HorizontalPodAutoscaler':
        this.warn(
          `${field}: HorizontalPodAutoscaler is ignored (a SimKube replay has no metrics; min/max clamping is not simulated)`,
        );
        return;
    }
    const gvk = `${apiVersion}.${kind}`;
    if (this.isTracked(gvk) && BUILTIN_POD_SPEC_TEMPLATE_PATHS[gvk] === undefined) {
      this.warn(
        `${gvk} is tracked with a custom pod template path, but no controller for it runs in the embedded simulator; it creates no pods`,
      );
    }
  }

  private remove(obj: MsgMap): void {
    const kind = obj.get('kind');
    const apiVersion = obj.get('apiVersion');
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') return;
    const md = asMap(obj.get('metadata'));
    const name = str(md?.get('name'));
    if (kind === 'Node' && apiVersion === 'v1') return this.removeNode(name);
    const wk = WORKLOAD_GROUPS[`${groupOf(apiVersion)}|${kind}`];
    if (wk === undefined) return;
    const w = this.workloads.get(workloadKey(wk, str(md?.get('namespace')), name));
    if (w && !w.deleted) this.deleteWorkload(w);
  }

  private addPriorityClass(o: MsgMap): void {
    const name = str(asMap(o.get('metadata'))?.get('name'));
    if (!name) return;
    if (this.priorityClasses === NO_PRIORITY_CLASSES) this.priorityClasses = new Map();
    this.priorityClasses.set(name, {
      value: intOr(o.get('value'), 0),
      preemptNever: o.get('preemptionPolicy') === 'Never',
      globalDefault: o.get('globalDefault') === true,
    });
  }

  private isTracked(gvk: string): boolean {
    const t = this.tracked;
    if (!t) return false;
    return t.has(gvk) || (gvk.startsWith('v1.') && t.has(`/${gvk}`));
  }

  private indexed(gvk: string, key: string): boolean {
    const idx = this.index;
    if (!idx) return false;
    const m = asMap(idx.get(gvk)) ?? (gvk.startsWith('v1.') ? asMap(idx.get(`/${gvk}`)) : undefined);
    return m !== undefined && m.has(key);
  }

  /** SimKube looks lifecycles up only for tracked, indexed owners; for built-in kinds the pod hash is ignored. */
  private lifecycleFor(gvk: string, namespace: string, name: string): number[] | null {
    const lc = this.lifecycles;
    if (!lc || lc.size === 0) return null;
    const key = `${namespace}/${name}`;
    if (!this.isTracked(gvk) || !this.indexed(gvk, key)) return null;
    if (this.lifecycleIndex === null) {
      const idx = new Map<string, number[]>();
      for (const [k, byHash] of lc) {
        if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'string' || typeof k[1] !== 'string') continue;
        const g = k[0].startsWith('/') ? k[0].slice(1) : k[0];
        const hashes = asMap(byHash);
        if (!hashes || hashes.size === 0) continue;
        const list = hashes.values().next().value;
        if (!Array.isArray(list) || list.length === 0) continue;
        idx.set(`${g}|${k[1]}`, list.map(lifetimeOf));
      }
      this.lifecycleIndex = idx;
    }
    return this.lifecycleIndex.get(`${gvk}|${key}`) ?? null;
  }

  /** Read a workload object into its record (kept across replays: see compiledObjects). */
  private compile(kind: Kind, obj: MsgMap, apiVersion: string, field: string, event: number, pos: number): Compiled {
    const md = asMap(obj.get('metadata'));
    const name = str(md?.get('name'));
    const namespace = str(md?.get('namespace'));
    const { template, spec, path } = this.templateOf(kind, obj);
    const rec: Compiled = {
      kind,
      namespace,
      name,
      key: workloadKey(kind, namespace, name),
      gvk: `${apiVersion}.${kind}`,
      template,
      spec,
      path,
      event,
      pos,
      field,
      shape: null,
      shapeWarnings: [],
      lifecycle: undefined,
      same: null,
    };
    this.compiled.set(obj, rec);
    return rec;
  }

  /** The record's pod shape, built on first use; a kept shape repeats the warnings building it gave. */
  private shapeOf(rec: Compiled, spec: MsgMap, w: Workload): PodShape {
    if (rec.shape !== null) {
      for (const m of rec.shapeWarnings) this.warn(m);
      return rec.shape;
    }
    const warnings: string[] = [];
    const ctx: ShapeContext = {
      field: `${rec.field}${rec.path}`,
      owner: `${w.kind} ${w.namespace}/${w.name}`,
      portsStripped: this.isTracked(rec.gvk),
      daemon: w.kind === 'DaemonSet',
      priorityClasses: this.priorityClasses,
      warn: (m) => {
        warnings.push(m);
        this.warn(m);
      },
    };
    const shape = buildShape(spec, ctx);
    rec.shape = shape;
    rec.shapeWarnings = warnings;
    return shape;
  }

  private lifecycleOf(rec: Compiled): number[] | null {
    if (rec.lifecycle !== undefined) return rec.lifecycle;
    let lc = this.lifecycleFor(rec.gvk, rec.namespace, rec.name);
    if (lc !== null && RESTARTING.has(rec.kind)) lc = lc.map((x) => (x === 0 ? 1 : x));
    rec.lifecycle = lc;
    return lc;
  }

  /** Whether the workload's current template equals the record's (remembered per pair of records). */
  private sameTemplate(w: Workload, rec: Compiled): boolean {
    const prev = w.tmpl;
    if (prev === null) return deepEqual(w.template, rec.template);
    if (prev === rec) return true;
    const memo = (rec.same ??= new Map());
    if (memo.size >= MAX_SAME) memo.clear();
    let same = memo.get(prev);
    if (same === undefined) {
      same = deepEqual(prev.template, rec.template);
      memo.set(prev, same);
    }
    return same;
  }

  private templateOf(
    kind: Kind,
    obj: MsgMap,
  ): { template: MsgValue | undefined; spec: MsgMap | undefined; path: string } {
    const spec = asMap(obj.get('spec'));
    if (kind === 'Pod') return { template: spec, spec, path: '.spec' };
    if (kind === 'CronJob') {
      const jt = asMap(spec?.get('jobTemplate'));
      const t = asMap(asMap(jt?.get('spec'))?.get('template'));
      return { template: jt, spec: asMap(t?.get('spec')), path: '.spec.jobTemplate.spec.template.spec' };
    }
    const t = asMap(spec?.get('template'));
    return { template: t, spec: asMap(t?.get('spec')), path: '.spec.template.spec' };
  }

  private upsertWorkload(rec: Compiled, obj: MsgMap): void {
    const existing = this.workloads.get(rec.key);
    if (existing !== undefined && !existing.deleted) return this.updateWorkload(existing, rec, obj);

    const { kind, namespace, name, spec } = rec;
    const field = rec.field;
    const w = new Workload(kind, namespace, name, obj, null, false);
    this.workloads.set(rec.key, w);
    if (!spec)
      throw new TraceError(
        `${field}${rec.path}`,
        `missing on ${kind} ${namespace}/${name}`,
        'a workload needs a pod template with a spec',
      );
    w.field = field;
    w.template = rec.template;
    w.tmpl = rec;
    w.shape = this.shapeOf(rec, spec, w);
    w.lifecycle = this.lifecycleOf(rec);
    const s = asMap(obj.get('spec'));
    switch (kind) {
      case 'Deployment':
      case 'ReplicaSet':
        w.replicas = intOr(s?.get('replicas'), 1);
        w.paused = s?.get('paused') === true;
        break;
      case 'StatefulSet':
        w.replicas = intOr(s?.get('replicas'), 1);
        w.parallel = s?.get('podManagementPolicy') === 'Parallel';
        if (
          Array.isArray(s?.get('volumeClaimTemplates')) &&
          (s!.get('volumeClaimTemplates') as MsgValue[]).length > 0
        ) {
          throw new UnsupportedFeatureError(
            `${field}.spec.volumeClaimTemplates`,
            'StatefulSet volumeClaimTemplates',
            'volume binding',
          );
        }
        break;
      case 'DaemonSet':
        w.dsPods = new Map();
        this.daemonSets.push(w);
        break;
      case 'Job':
        this.readJobSpec(w, s);
        this.startJob(w);
        break;
      case 'CronJob':
        this.readCronSpec(w, s, field);
        break;
      case 'Pod':
        break;
    }
    this.markDirty(w);
  }

  private updateWorkload(w: Workload, rec: Compiled, obj: MsgMap): void {
    const kind = w.kind;
    const field = rec.field;
    const s = asMap(obj.get('spec'));
    const changed = !this.sameTemplate(w, rec);
    switch (kind) {
      case 'Deployment':
        w.replicas = intOr(s?.get('replicas'), 1);
        w.paused = s?.get('paused') === true;
        if (changed && !w.paused) {
          // A new ReplicaSet replaces the old one (rolling-update pacing is not modelled): old pods go, new ones queue.
          this.reshape(w, rec);
          for (const p of w.pods.slice()) this.deletePod(p, false);
        }
        break;
      case 'ReplicaSet':
        w.replicas = intOr(s?.get('replicas'), 1);
        if (changed) this.reshape(w, rec); // a ReplicaSet applies a new template only to pods it creates later
        break;
      case 'StatefulSet':
      case 'DaemonSet': {
        if (kind === 'StatefulSet') {
          w.replicas = intOr(s?.get('replicas'), 1);
          w.parallel = s?.get('podManagementPolicy') === 'Parallel';
        }
        if (changed) {
          this.reshape(w, rec);
          const strategy = str(asMap(s?.get('updateStrategy'))?.get('type'));
          if (strategy !== 'OnDelete') for (const p of w.pods.slice()) this.deletePod(p, false);
        }
        break;
      }
      case 'Job':
        if (changed)
          this.warn(
            `${field}: the pod template of Job ${w.namespace}/${w.name} changed, but a Job's template is immutable; the old one is kept`,
          );
        this.readJobSpec(w, s, true);
        break;
      case 'CronJob':
        if (changed) this.reshape(w, rec);
        this.readCronSpec(w, s, field);
        break;
      case 'Pod':
        if (changed)
          this.warn(
            `${field}: Pod ${w.namespace}/${w.name} was re-applied with a different spec; Kubernetes rejects such pod updates, so the original pod is kept`,
          );
        break;
    }
    w.obj = obj;
    this.markDirty(w);
  }

  /** A new pod template for future pods (the caller decides what happens to existing ones). */
  private reshape(w: Workload, rec: Compiled): void {
    if (!rec.spec) throw new TraceError(`${rec.field}${rec.path}`, `missing on ${w.kind} ${w.namespace}/${w.name}`);
    w.template = rec.template;
    w.tmpl = rec;
    w.shape = this.shapeOf(rec, rec.spec, w);
  }

  private readJobSpec(w: Workload, s: MsgMap | undefined, update = false): void {
    const completions = intOrNull(s?.get('completions'));
    if (!update) w.completions = completions;
    else if (completions !== w.completions)
      this.warn(`Job ${w.namespace}/${w.name}: spec.completions is immutable; keeping ${w.completions ?? 'unset'}`);
    w.parallelism = Math.max(0, intOr(s?.get('parallelism'), 1));
    w.suspended = s?.get('suspend') === true;
    w.activeDeadline = intOrNull(s?.get('activeDeadlineSeconds'));
    w.ttl = intOrNull(s?.get('ttlSecondsAfterFinished'));
  }

  private startJob(w: Workload): void {
    if (w.activeDeadline !== null)
      this.addTimer(this.now + Math.max(0, w.activeDeadline), TimerKind.JobDeadline, null, w);
  }

  private readCronSpec(w: Workload, s: MsgMap | undefined, field: string): void {
    const schedule = str(s?.get('schedule'));
    const tz = str(s?.get('timeZone'));
    w.concurrency = str(s?.get('concurrencyPolicy')) || 'Allow';
    w.suspended = s?.get('suspend') === true;
    w.successLimit = Math.max(0, intOr(s?.get('successfulJobsHistoryLimit'), 3));
    w.failLimit = Math.max(0, intOr(s?.get('failedJobsHistoryLimit'), 1));
    w.jobSpec = asMap(asMap(s?.get('jobTemplate'))?.get('spec')) ?? null;
    const text = `${schedule}|${tz}`;
    if (w.cron !== null && text === w.scheduleText) return;
    w.scheduleText = text;
    w.gen++; // drop the tick scheduled from the old schedule
    w.cron = null;
    if (tz && tz !== 'UTC' && tz !== 'Etc/UTC' && tz !== 'GMT' && tz !== 'Etc/GMT') {
      this.warn(
        `${field}.spec.timeZone: "${tz}" is not supported by the embedded simulator (UTC only); CronJob ${w.namespace}/${w.name} creates no Jobs`,
      );
      return;
    }
    try {
      w.cron = parseCron(schedule);
    } catch (e) {
      if (!(e instanceof CronError)) throw e;
      this.warn(
        `${field}.spec.schedule: "${schedule}" cannot be parsed (${e.message}); CronJob ${w.namespace}/${w.name} creates no Jobs`,
      );
      return;
    }
    const next = nextTick(w.cron, this.now);
    if (next !== null) this.addTimer(next, TimerKind.CronTick, null, w);
  }

  private cronTick(w: Workload): void {
    const t = this.now;
    if (!w.suspended && w.shape !== null) {
      const active = w.children.filter((c) => !c.done);
      if (!(w.concurrency === 'Forbid' && active.length > 0)) {
        if (w.concurrency === 'Replace') for (const c of active) this.deleteWorkload(c);
        const job = new Workload('Job', w.namespace, `${w.name}-${Math.floor(t / 60)}`, w.obj, w, true);
        job.shape = w.shape;
        this.readJobSpec(job, w.jobSpec ?? undefined);
        w.children.push(job);
        this.startJob(job);
        this.markDirty(job);
      }
    }
    const next = nextTick(w.cron!, t);
    if (next !== null) this.addTimer(next, TimerKind.CronTick, null, w);
  }

  private deleteWorkload(w: Workload): void {
    if (w.deleted) return;
    w.deleted = true;
    w.gen++;
    for (const p of w.pods.slice()) this.deletePod(p, false);
    for (const c of w.children.slice()) this.deleteWorkload(c);
    if (w.isChild) {
      const siblings = w.root.children;
      const i = siblings.indexOf(w);
      if (i >= 0) siblings.splice(i, 1);
    }
    if (w.kind === 'DaemonSet') {
      const i = this.daemonSets.indexOf(w);
      if (i >= 0) this.daemonSets.splice(i, 1);
    }
  }

  // ---- nodes ----------------------------------------------------------------------------------------------------

  private addNode(n: SimNode): void {
    n.index = this.nodeSeq++;
    this.scheduler.nodesChanged();
    this.nodes.push(n);
    this.nodeByName.set(n.name, n);
  }

  private upsertNode(obj: MsgMap, field: string): void {
    const spec = nodeSpecFromObject(obj, field, this.warnFn);
    const existing = this.nodeByName.get(spec.name);
    if (existing) {
      existing.update(spec);
      this.scheduler.nodesChanged();
      // The taint manager evicts running pods that do not tolerate a NoExecute taint (tolerationSeconds not modelled).
      const noExecute = existing.hardTaints.filter((t) => t.effect === 'NoExecute');
      if (noExecute.length > 0) {
        for (const p of existing.pods.slice()) {
          if (noExecute.some((taint) => !p.shape.tolerations.some((tol) => tolerates(tol, taint))))
            this.deletePod(p, true);
        }
      }
    } else this.addNode(new SimNode(spec));
    for (const ds of this.daemonSets) this.markDirty(ds);
  }

  private removeNode(name: string): void {
    const n = this.nodeByName.get(name);
    if (!n) return;
    n.removed = true;
    this.scheduler.nodesChanged();
    this.nodeByName.delete(name);
    this.nodes.splice(this.nodes.indexOf(n), 1);
    // The pod garbage collector deletes pods bound to a node that no longer exists; controllers replace them.
    for (const p of this.allPods) if (!p.deleted && p.boundNode === n) this.deletePod(p, true);
    for (const ds of this.daemonSets) this.markDirty(ds);
  }

  // ---- pods -----------------------------------------------------------------------------------------------------

  private markDirty(w: Workload): void {
    if (w.dirty || w.deleted) return;
    w.dirty = true;
    this.dirty.push(w);
  }

  private createPod(w: Workload, shape: PodShape, dsNode: string | null, ordinal: number): SimPodImpl {
    if (this.allPods.length >= this.maxPods) {
      throw new TraceError(
        w.field || 'events',
        `the replay created more than ${this.maxPods} pods`,
        'a controller keeps replacing pods that finish at once; check pod_lifecycles, or raise maxPods',
      );
    }
    const root = w.root;
    const n = root.created++;
    const lc = root.lifecycle;
    const lifetime = lc === null ? -1 : lc[n % lc.length]!;
    const local = w.local++;
    const name = w.kind === 'Pod' ? w.name : ordinal >= 0 ? `${w.name}-${ordinal}` : `${w.name}-${local}`;
    const p = new SimPodImpl(
      this.seq++,
      w.namespace,
      name,
      w,
      root.ref,
      shape,
      this.now,
      lifetime,
      dsNode,
      ordinal,
      this.explainer,
    );
    w.pods.push(p);
    this.allPods.push(p);
    this.enqueue(p);
    return p;
  }

  private enqueue(p: SimPodImpl): void {
    const pr = p.shape.priority;
    if (pr < this.minPriority) this.minPriority = pr;
    const q = this.queue;
    const n = q.length;
    if (n === 0 || q[n - 1]!.shape.priority >= pr) {
      q.push(p);
      return;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid]!.shape.priority >= pr) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, p);
  }

  /** Remove a pod from the cluster. `notify` wakes its controller (deletions it did not make itself). */
  private deletePod(p: SimPodImpl, notify: boolean): void {
    if (p.deleted) return;
    p.deleted = true;
    if (p.boundNode !== null) {
      if (p.phase === 'Running') p.boundNode.removePod(p);
    } else {
      const i = this.queue.indexOf(p);
      if (i >= 0) this.queue.splice(i, 1);
    }
    const w = p.ctl as Workload;
    const i = w.pods.indexOf(p);
    if (i >= 0) w.pods.splice(i, 1);
    if (p.ordinal >= 0 && w.ordinals[p.ordinal] === p) w.ordinals[p.ordinal] = null;
    if (p.dsNode !== null && w.dsPods?.get(p.dsNode) === p) w.dsPods.delete(p.dsNode);
    if (notify) this.markDirty(w);
  }

  private bind(p: SimPodImpl, node: SimNode): void {
    node.addPod(p);
    p.boundNode = node;
    p.phase = 'Running';
    p.startedAt = this.now;
    if (p.lifetime >= 0) this.addTimer(this.now + p.lifetime, TimerKind.Complete, p, null);
    const w = p.ctl as Workload;
    if (w.kind === 'StatefulSet') this.markDirty(w);
  }

  // ---- controllers ----------------------------------------------------------------------------------------------

  private settle(): void {
    const dirty = this.dirty;
    for (let round = 0; round < 100_000; round++) {
      for (let i = 0; i < dirty.length; i++) {
        const w = dirty[i]!;
        w.dirty = false;
        if (!w.deleted) this.reconcile(w);
      }
      dirty.length = 0;
      if (this.queue.length > 0) this.pass();
      if (dirty.length === 0) return;
    }
    throw new Error('embedded simulator: controllers did not settle');
  }

  private reconcile(w: Workload): void {
    switch (w.kind) {
      case 'Deployment':
      case 'ReplicaSet':
        return this.scaleTo(w, Math.max(0, w.replicas));
      case 'StatefulSet':
        return this.reconcileStatefulSet(w);
      case 'DaemonSet':
        return this.reconcileDaemonSet(w);
      case 'Job':
        return this.reconcileJob(w);
      case 'CronJob':
        return;
      case 'Pod':
        if (!w.podCreated) {
          w.podCreated = true;
          this.createPod(w, w.shape!, null, -1);
        }
        return;
    }
  }

  /** Keep `want` non-terminal pods; scale down removes Pending pods first, newest first (ReplicaSet ranking). */
  private scaleTo(w: Workload, want: number): void {
    const pods = w.pods;
    let active = 0;
    for (let i = 0; i < pods.length; i++) if (pods[i]!.phase !== 'Succeeded') active++;
    if (active < want) {
      for (let k = active; k < want; k++) this.createPod(w, w.shape!, null, -1);
      return;
    }
    let extra = active - want;
    for (let i = pods.length - 1; i >= 0 && extra > 0; i--) {
      const p = pods[i]!;
      if (p.phase === 'Pending') {
        this.deletePod(p, false);
        extra--;
      }
    }
    for (let i = pods.length - 1; i >= 0 && extra > 0; i--) {
      const p = pods[i]!;
      if (p.phase === 'Running') {
        this.deletePod(p, false);
        extra--;
      }
    }
  }

  private reconcileStatefulSet(w: Workload): void {
    const want = Math.max(0, w.replicas);
    const ords = w.ordinals;
    for (let i = ords.length - 1; i >= want; i--) {
      const p = ords[i];
      if (p) this.deletePod(p, false);
    }
    if (ords.length > want) ords.length = want;
    for (let i = 0; i < want; i++) {
      let p = ords[i] ?? null;
      if (p !== null && p.phase === 'Succeeded') {
        this.deletePod(p, false); // the StatefulSet controller recreates terminated pods
        p = null;
      }
      if (p === null) {
        p = this.createPod(w, w.shape!, null, i);
        ords[i] = p;
      }
      if (!w.parallel && p.phase !== 'Running') break; // OrderedReady: wait until this one is Running and Ready
    }
  }

  private reconcileDaemonSet(w: Workload): void {
    const pods = w.dsPods!;
    for (const node of this.nodes) {
      let p = pods.get(node.name);
      if (p !== undefined && p.phase === 'Succeeded') {
        this.deletePod(p, false);
        p = undefined;
      }
      const should = daemonShouldRun(w.shape!, node);
      if (should && p === undefined) pods.set(node.name, this.createPod(w, w.shape!, node.name, -1));
      else if (!should && p !== undefined) this.deletePod(p, false);
    }
  }

  private reconcileJob(w: Workload): void {
    if (w.done) return;
    const want = w.suspended
      ? 0
      : w.completions === null
        ? w.succeeded > 0
          ? 0
          : w.parallelism
        : Math.max(0, Math.min(w.parallelism, w.completions - w.succeeded));
    this.scaleTo(w, want);
    let active = 0;
    for (const p of w.pods) if (p.phase !== 'Succeeded') active++;
    if (
      (w.completions !== null && w.succeeded >= w.completions) ||
      (w.completions === null && w.succeeded > 0 && active === 0)
    )
      this.finishJob(w, false);
  }

  private finishJob(w: Workload, failed: boolean): void {
    w.done = true;
    w.failed = failed;
    if (w.ttl !== null) this.addTimer(this.now + Math.max(0, w.ttl), TimerKind.JobTtl, null, w);
    if (!w.isChild) return;
    // CronJob history limits: keep the newest successful / failed Jobs.
    const cron = w.root;
    const finished = cron.children.filter((c) => c.done && c.failed === failed);
    const limit = failed ? cron.failLimit : cron.successLimit;
    for (let i = 0; i < finished.length - limit; i++) this.deleteWorkload(finished[i]!);
  }

  // ---- scheduling ----------------------------------------------------------------------------------------------

  /** One scheduling pass: every pending pod, in queue order (priority desc, then creation), tried once. */
  private pass(): void {
    const q = this.queue;
    const n = q.length;
    let keep = 0;
    for (let i = 0; i < n; i++) {
      const p = q[i]!;
      if (!this.trySchedule(p)) q[keep++] = p;
    }
    q.length = keep;
  }

  private trySchedule(p: SimPodImpl): boolean {
    const s = p.shape;
    if (s.nodeName !== null) {
      // Pods with spec.nodeName skip the scheduler; KWOK runs them as soon as the node exists.
      const node = this.nodeByName.get(s.nodeName);
      if (node === undefined) return false;
      this.bind(p, node);
      return true;
    }
    if (s.blocked !== null) return false;
    const nodes = this.nodes;
    const node = this.scheduler.select(p, nodes);
    if (node !== null) {
      this.bind(p, node);
      return true;
    }
    if (s.priority > this.minPriority && !s.preemptNever) {
      const c = this.scheduler.preempt(p, nodes);
      if (c !== null) {
        for (const v of c.victims) this.deletePod(v, true);
        this.preemptions++;
        this.bind(p, c.node);
        return true;
      }
    }
    return false;
  }
}

function lifetimeOf(item: MsgValue): number {
  const m = asMap(item);
  if (!m) return -1; // "Empty"
  const f = m.get('Finished');
  if (Array.isArray(f) && f.length === 2) {
    const a = f[0];
    const b = f[1];
    const start = typeof a === 'bigint' ? Number(a) : typeof a === 'number' ? a : 0;
    const end = typeof b === 'bigint' ? Number(b) : typeof b === 'number' ? b : 0;
    return Math.max(0, end - start);
  }
  return -1; // Running: never finishes
}

export function runSimulation(trace: Trace, opts: SimulateOptions = {}): SimState {
  return new Simulation(trace, opts).run();
}
