// The simulated cluster: nodes (from the trace's Node objects or the default pool) and the pods bound to them.
// Nodes and pods point at each other, so they live together.
import type { MsgMap } from '../../trace/msgpack.js';
import { TraceError } from '../../trace/trace.js';
import type { WorkloadRef } from '../../trace/workload.js';
import { poolNodes as readPool, readNodeObject, type NodePool, type PoolNode } from '../../trace/nodepool.js';
import { exactNumber, milliUnits, unitsOf } from './quantities.js';
import type { Labels, Taint } from './selection.js';
import type { PodShape } from './shape.js';

// ---------------------------------------------------------------------------------------------------------------------
// Nodes

export interface Resources {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  /** Bytes. */
  ephemeralStorage: number;
  pods: number;
  /** Extended resources (nvidia.com/gpu, hugepages-2Mi, ...), integer units. */
  scalars: Record<string, number>;
}

export interface NodeSpec {
  name: string;
  labels: Labels;
  taints: Taint[];
  unschedulable: boolean;
  cpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
  scalars: Map<string, number> | null;
}

export class SimNode {
  readonly name: string;
  // Set from the node's spec by update(), which the constructor calls.
  labels!: Labels;
  taints!: Taint[];
  /** Taints the filter checks (NoSchedule, NoExecute). */
  hardTaints!: Taint[];
  /** Has the kubernetes.io/hostname label (PodTopologySpread's hostname constraint applies). */
  hasHostname!: boolean;
  /** Its topology.kubernetes.io/zone label, or undefined. */
  zone!: string | undefined;
  unschedulable!: boolean;
  allocCpu!: number;
  allocMem!: number;
  allocEph!: number;
  allocPods!: number;
  allocScalars!: Map<string, number> | null;
  reqCpu = 0;
  reqMem = 0;
  reqEph = 0;
  nzCpu = 0;
  nzMem = 0;
  reqScalars: Map<string, number> | null = null;
  /** Non-terminal pods bound here. */
  readonly pods: SimPodImpl[] = [];
  /** Position in the simulation's node order of creation; indexes SpreadGroup.spreadCounts. */
  index = -1;
  removed = false;
  /**
   * The scheduler's change log (set by the scheduler that indexes this node, at `pos` in its node list): every change
   * to the requests, the pod list or the spec appends the node, so the scheduler's per-shape node tables
   * (scheduler.ts) recompute only the nodes that changed.
   */
  log: SimNode[] | null = null;
  pos = -1;

  constructor(spec: NodeSpec) {
    this.name = spec.name;
    this.update(spec);
  }

  update(spec: NodeSpec): void {
    this.changed();
    this.labels = spec.labels;
    this.taints = spec.taints;
    this.hardTaints = hard(spec.taints);
    this.hasHostname = spec.labels.has('kubernetes.io/hostname');
    const zone = spec.labels.get('topology.kubernetes.io/zone');
    this.zone = typeof zone === 'string' ? zone : undefined;
    this.unschedulable = spec.unschedulable;
    this.allocCpu = spec.cpu;
    this.allocMem = spec.memory;
    this.allocEph = spec.ephemeralStorage;
    this.allocPods = spec.pods;
    this.allocScalars = spec.scalars;
  }

  /** A copy with the same spec and requests and no pods (the caller fills `pods`); built by the constructor, so
   * copies and originals share V8's object layout and the hot loops stay monomorphic. */
  copy(): SimNode {
    const c = new SimNode({
      name: this.name,
      labels: this.labels,
      taints: this.taints,
      unschedulable: this.unschedulable,
      cpu: this.allocCpu,
      memory: this.allocMem,
      ephemeralStorage: this.allocEph,
      pods: this.allocPods,
      scalars: this.allocScalars,
    });
    c.reqCpu = this.reqCpu;
    c.reqMem = this.reqMem;
    c.reqEph = this.reqEph;
    c.nzCpu = this.nzCpu;
    c.nzMem = this.nzMem;
    c.reqScalars = this.reqScalars === null ? null : new Map(this.reqScalars);
    c.index = this.index;
    c.removed = this.removed;
    return c;
  }

  /** Record a change in the scheduler's log; pod-list edits outside addPod/removePod must call it too. */
  changed(): void {
    if (this.log !== null) this.log.push(this);
  }

  addPod(p: SimPodImpl): void {
    const s = p.shape;
    this.changed();
    this.reqCpu += s.cpu;
    this.reqMem += s.mem;
    this.reqEph += s.eph;
    this.nzCpu += s.nzCpu;
    this.nzMem += s.nzMem;
    if (s.scalars !== null) {
      const m = (this.reqScalars ??= new Map());
      for (const r of s.scalars) m.set(r.name, (m.get(r.name) ?? 0) + r.value);
    }
    this.pods.push(p);
    const g = p.spreadGroup;
    if (g !== null) {
      const c = g.spreadCounts;
      while (c.length <= this.index) c.push(0);
      c[this.index]!++;
    }
  }

  removePod(p: SimPodImpl): void {
    const i = this.pods.indexOf(p);
    if (i < 0) return;
    this.pods.splice(i, 1);
    this.subtract(p.shape);
    this.changed();
    const g = p.spreadGroup;
    if (g !== null) g.spreadCounts[this.index]!--;
  }

  /** Bound pods of a spread group (SimPodImpl.spreadGroup), for PodTopologySpread scoring. */
  countGroup(group: SpreadGroup): number {
    const c = group.spreadCounts;
    return this.index < c.length ? c[this.index]! : 0;
  }

  /** Take a pod's requests off without touching the pod list (preemption dry runs). */
  subtract(s: PodShape): void {
    this.changed();
    this.reqCpu -= s.cpu;
    this.reqMem -= s.mem;
    this.reqEph -= s.eph;
    this.nzCpu -= s.nzCpu;
    this.nzMem -= s.nzMem;
    if (s.scalars !== null && this.reqScalars !== null)
      for (const r of s.scalars) this.reqScalars.set(r.name, (this.reqScalars.get(r.name) ?? 0) - r.value);
  }

  /** Put a pod's requests back (preemption dry runs). */
  restore(s: PodShape): void {
    this.changed();
    this.reqCpu += s.cpu;
    this.reqMem += s.mem;
    this.reqEph += s.eph;
    this.nzCpu += s.nzCpu;
    this.nzMem += s.nzMem;
    if (s.scalars !== null) {
      const m = (this.reqScalars ??= new Map());
      for (const r of s.scalars) m.set(r.name, (m.get(r.name) ?? 0) + r.value);
    }
  }

  get allocatable(): Resources {
    return {
      cpu: this.allocCpu,
      memory: this.allocMem,
      ephemeralStorage: this.allocEph,
      pods: this.allocPods,
      scalars: Object.fromEntries(this.allocScalars ?? []),
    };
  }

  get requested(): Resources {
    const scalars: Record<string, number> = {};
    if (this.reqScalars) for (const [k, v] of this.reqScalars) if (v !== 0) scalars[k] = v;
    return { cpu: this.reqCpu, memory: this.reqMem, ephemeralStorage: this.reqEph, pods: this.pods.length, scalars };
  }
}

function isHard(t: Taint): boolean {
  return t.effect === 'NoSchedule' || t.effect === 'NoExecute';
}

function hard(taints: Taint[]): Taint[] {
  return taints.every(isHard) ? taints : taints.filter(isHard);
}

/** A node from a v1 Node object in the trace, read by the one node reader (src/trace/nodepool.ts). */
export function nodeSpecFromObject(obj: MsgMap, field: string, warn: (m: string) => void): NodeSpec {
  return nodeSpecFromPoolNode(readNodeObject(obj, warn, field), `${field}.status.allocatable`);
}

/** A pool node in the simulator's exact numbers (millicores, bytes, counts). */
export function nodeSpecFromPoolNode(n: PoolNode, field: string): NodeSpec {
  const out: NodeSpec = {
    name: n.name,
    labels: new Map(Object.entries(n.labels ?? {})),
    taints: (n.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? '', effect: t.effect })),
    unschedulable: n.unschedulable === true,
    cpu: 0,
    memory: 0,
    ephemeralStorage: 0,
    pods: 0,
    scalars: null,
  };
  for (const [k, q] of Object.entries(n.allocatable)) {
    const m = milliUnits(q, () => `${field}.${k}`);
    const v = exactNumber(k === 'cpu' ? Number(m) : unitsOf(m), () => `${field}.${k}`);
    switch (k) {
      case 'cpu':
        out.cpu = v;
        break;
      case 'memory':
        out.memory = v;
        break;
      case 'ephemeral-storage':
        out.ephemeralStorage = v;
        break;
      case 'pods':
        out.pods = v;
        break;
      default:
        (out.scalars ??= new Map()).set(k, v);
    }
  }
  return out;
}

interface PoolTemplate {
  specs: { name: string; labels: Labels }[];
  cpu: number;
  memory: number;
  pods: number;
}

const POOL_CACHE = new Map<string, PoolTemplate>();
const POOL_TAINTS: Taint[] = [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }];

/** The episode's node pool as simulator nodes; a uniform pool (node-1..N like SimKube's virtual nodes) is cached. */
export function poolNodes(pool: NodePool): SimNode[] {
  if (pool.nodes) return pool.nodes.map((n, i) => new SimNode(nodeSpecFromPoolNode(n, `nodePool.nodes[${i}]`)));
  const key = `${pool.count}|${pool.cpu}|${pool.memory}|${pool.pods}`;
  let tpl = POOL_CACHE.get(key);
  if (!tpl) {
    if (!Number.isInteger(pool.count) || pool.count < 0)
      throw new TraceError('nodePool.count', `must be a non-negative integer, found ${pool.count}`);
    if (!Number.isInteger(pool.pods) || pool.pods < 0)
      throw new TraceError('nodePool.pods', `must be a non-negative integer, found ${pool.pods}`);
    const cpu = exactNumber(Number(milliUnits(pool.cpu, () => 'nodePool.cpu')), () => 'nodePool.cpu');
    const memory = exactNumber(unitsOf(milliUnits(pool.memory, () => 'nodePool.memory')), () => 'nodePool.memory');
    const specs = readPool(pool).map((n) => ({
      name: n.name,
      labels: new Map(Object.entries(n.labels ?? {})) as Labels,
    }));
    tpl = { specs, cpu, memory, pods: pool.pods };
    if (POOL_CACHE.size > 64) POOL_CACHE.clear();
    POOL_CACHE.set(key, tpl);
  }
  const out: SimNode[] = new Array(tpl.specs.length);
  for (let i = 0; i < tpl.specs.length; i++) {
    const s = tpl.specs[i]!;
    out[i] = new SimNode({
      name: s.name,
      labels: s.labels,
      taints: POOL_TAINTS,
      unschedulable: false,
      cpu: tpl.cpu,
      memory: tpl.memory,
      ephemeralStorage: 0,
      pods: tpl.pods,
      scalars: null,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Pods

export type PodPhase = 'Pending' | 'Running' | 'Succeeded';

/** A pod as the simulation reports it. */
export interface SimPod {
  readonly namespace: string;
  readonly name: string;
  /** The trace object that owns the pod (a CronJob for its Jobs' pods). */
  readonly owner: WorkloadRef;
  /** The object that created it, when that is not the owner (the Job of a CronJob). */
  readonly controller: string | null;
  /** Node the pod is (or was, when Succeeded) bound to. */
  readonly node: string | null;
  readonly phase: PodPhase;
  readonly priority: number;
  /** Trace timestamps (Unix seconds). */
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Effective requests the scheduler used (cpu millicores, memory bytes). */
  readonly requests: { readonly cpu: number; readonly memory: number };
  /** Why a Pending pod does not fit, one entry per distinct reason (e.g. "Insufficient cpu"); [] otherwise. */
  readonly reasons: readonly string[];
  /** The scheduler's message for a Pending pod ("0/3 nodes are available: 3 Insufficient cpu."), else null. */
  readonly message: string | null;
}

export interface Explanation {
  reasons: string[];
  message: string;
}

/**
 * The pods PodTopologySpread's default constraints count together (a workload controller): how many of them are
 * bound to each node, by SimNode.index, so scoring reads an array instead of scanning pods or hashing.
 */
export interface SpreadGroup {
  readonly spreadCounts: number[];
}

export interface PodOwnerInfo {
  readonly ref: WorkloadRef;
  readonly kind: string;
}

export class SimPodImpl implements SimPod {
  boundNode: SimNode | null = null;
  phase: PodPhase = 'Pending';
  startedAt: number | null = null;
  finishedAt: number | null = null;
  deleted = false;
  private explained: Explanation | null = null;
  /**
   * The pods PodTopologySpread's system default constraints count together with this one: those of the same
   * ReplicaSet (a Deployment's current one) or StatefulSet, whose selector the scheduler uses; null for other owners
   * (bare pods, Jobs, DaemonSets get no default constraints) and for pods with constraints of their own.
   */
  readonly spreadGroup: SpreadGroup | null;

  constructor(
    readonly seq: number,
    readonly namespace: string,
    readonly name: string,
    /** The internal controller object (workload or a CronJob's Job). */
    readonly ctl: PodOwnerInfo & SpreadGroup & { readonly name: string; readonly isChild: boolean },
    readonly owner: WorkloadRef,
    readonly shape: PodShape,
    readonly createdAt: number,
    /** Seconds from start to Succeeded, or -1 when it never finishes. */
    readonly lifetime: number,
    /** DaemonSet pods: the node their affinity names. */
    readonly dsNode: string | null,
    /** StatefulSet ordinal, else -1. */
    readonly ordinal: number,
    private readonly explainer: (p: SimPodImpl) => Explanation,
  ) {
    const k = ctl.kind;
    this.spreadGroup =
      shape.spreadDefault && (k === 'Deployment' || k === 'ReplicaSet' || k === 'StatefulSet') ? ctl : null;
  }

  /** A copy owned by `ctl` (a copy of this pod's controller), unbound (the caller sets `boundNode`). */
  copy(ctl: SimPodImpl['ctl'], explainer: (p: SimPodImpl) => Explanation): SimPodImpl {
    const c = new SimPodImpl(
      this.seq,
      this.namespace,
      this.name,
      ctl,
      this.owner,
      this.shape,
      this.createdAt,
      this.lifetime,
      this.dsNode,
      this.ordinal,
      explainer,
    );
    c.phase = this.phase;
    c.startedAt = this.startedAt;
    c.finishedAt = this.finishedAt;
    c.deleted = this.deleted;
    return c;
  }

  get priority(): number {
    return this.shape.priority;
  }

  get controller(): string | null {
    return this.ctl.isChild ? this.ctl.name : null;
  }

  get node(): string | null {
    return this.boundNode === null ? null : this.boundNode.name;
  }

  get requests(): { cpu: number; memory: number } {
    return { cpu: this.shape.cpu, memory: this.shape.mem };
  }

  private explain(): Explanation | null {
    if (this.phase !== 'Pending' || this.boundNode !== null) return null;
    return (this.explained ??= this.explainer(this));
  }

  get reasons(): readonly string[] {
    return this.explain()?.reasons ?? [];
  }

  get message(): string | null {
    return this.explain()?.message ?? null;
  }
}
