// The embedded simulator's cluster model: nodes, pods, and the scheduling "shape" of a pod template
// (effective requests, selectors, tolerations) computed once per template from the decoded Map tree.
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';
import { MsgFloat } from '../../trace/msgpack.js';
import { parseQuantity, QuantityError } from '../../trace/quantity.js';
import { TraceError } from '../../trace/trace.js';
import type { WorkloadRef } from '../../trace/workload.js';

// ---------------------------------------------------------------------------------------------------------------------
// Errors

/** The trace uses something the embedded simulator does not model and that could change which pods stay Pending. */
export class UnsupportedFeatureError extends TraceError {
  override name = 'UnsupportedFeatureError';
  constructor(
    field: string,
    readonly feature: string,
    detail?: string,
  ) {
    super(field, `${feature} is not simulated by the embedded backend${detail ? ` (${detail})` : ''}`, 'remove it from the trace, or run this trace on the kwok or simkube backend');
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Quantities: milli-units after API defaulting (every ResourceList value is rounded up to milli scale), cached per string.

const MILLI_CACHE = new Map<string, bigint>();
const MILLI_CACHE_MAX = 50_000;
const NANOS_PER_MILLI = 1_000_000n;

/** A quantity as exact milli-units (ceil(q * 1000)); throws TraceError naming `field` when it is not a quantity. */
export function milliUnits(v: MsgValue | undefined, field: () => string): bigint {
  if (typeof v === 'string') {
    const hit = MILLI_CACHE.get(v);
    if (hit !== undefined) return hit;
    const m = parseMilli(v, field);
    if (MILLI_CACHE.size >= MILLI_CACHE_MAX) MILLI_CACHE.clear();
    MILLI_CACHE.set(v, m);
    return m;
  }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      if (v < 0) throw new TraceError(field(), `must not be negative, found ${v}`);
      return BigInt(v) * 1000n;
    }
    return parseMilli(String(v), field);
  }
  if (typeof v === 'bigint') {
    if (v < 0n) throw new TraceError(field(), `must not be negative, found ${v}`);
    return v * 1000n;
  }
  if (v instanceof MsgFloat) return parseMilli(String(v.value), field);
  throw new TraceError(field(), `must be a quantity string such as "500m" or "1Gi", found ${v === null ? 'nil' : typeof v}`);
}

function parseMilli(s: string, field: () => string): bigint {
  let nanos: bigint;
  try {
    nanos = parseQuantity(s).nanos;
  } catch (e) {
    if (e instanceof QuantityError) throw new TraceError(field(), e.message);
    throw e;
  }
  if (nanos < 0n) throw new TraceError(field(), `must not be negative, found "${s}"`);
  const q = nanos / NANOS_PER_MILLI;
  return q * NANOS_PER_MILLI === nanos ? q : q + 1n;
}

/** Milli-units -> the scheduler's integer value (`Quantity.Value()`, rounded up). */
export function unitsOf(milli: bigint): number {
  return Number((milli + 999n) / 1000n);
}

/** Node allocatable must stay exact in float64 integers; reject absurd sizes instead of rounding silently. */
function exactNumber(n: number, field: () => string): number {
  if (!Number.isSafeInteger(n)) throw new TraceError(field(), `${n} is too large for the embedded simulator (the limit is 2^53-1 units)`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------------------
// Resource vectors (milli-units) for the effective-request formula.

interface ResVec {
  cpu: bigint;
  mem: bigint;
  eph: bigint;
  other: Map<string, bigint> | null;
  hasCpu: boolean;
  hasMem: boolean;
}

function emptyVec(): ResVec {
  return { cpu: 0n, mem: 0n, eph: 0n, other: null, hasCpu: false, hasMem: false };
}

function setRes(v: ResVec, name: string, m: bigint): void {
  switch (name) {
    case 'cpu':
      v.cpu = m;
      v.hasCpu = true;
      return;
    case 'memory':
      v.mem = m;
      v.hasMem = true;
      return;
    case 'ephemeral-storage':
      v.eph = m;
      return;
    case 'pods':
      return;
    default:
      (v.other ??= new Map()).set(name, m);
  }
}

function addInto(t: ResVec, s: ResVec): void {
  t.cpu += s.cpu;
  t.mem += s.mem;
  t.eph += s.eph;
  if (s.other) {
    const o = (t.other ??= new Map());
    for (const [k, x] of s.other) o.set(k, (o.get(k) ?? 0n) + x);
  }
}

function maxInto(t: ResVec, s: ResVec): void {
  if (s.cpu > t.cpu) t.cpu = s.cpu;
  if (s.mem > t.mem) t.mem = s.mem;
  if (s.eph > t.eph) t.eph = s.eph;
  if (s.other) {
    const o = (t.other ??= new Map());
    for (const [k, x] of s.other) if (x > (o.get(k) ?? 0n)) o.set(k, x);
  }
}

function cloneVec(v: ResVec): ResVec {
  return { cpu: v.cpu, mem: v.mem, eph: v.eph, other: v.other ? new Map(v.other) : null, hasCpu: v.hasCpu, hasMem: v.hasMem };
}

/** Effective request per `resource.PodRequests`: sum of containers and sidecars vs the peak init phase, element-wise. */
function aggregate(containers: ResVec[], inits: ResVec[], sidecar: boolean[]): ResVec {
  const sum = emptyVec();
  for (const c of containers) addInto(sum, c);
  if (inits.length === 0) return sum;
  const sidecars = emptyVec();
  const initMax = emptyVec();
  for (let i = 0; i < inits.length; i++) {
    const ic = inits[i]!;
    if (sidecar[i]) {
      addInto(sum, ic);
      addInto(sidecars, ic);
      maxInto(initMax, sidecars);
    } else {
      const use = cloneVec(ic);
      addInto(use, sidecars);
      maxInto(initMax, use);
    }
  }
  maxInto(sum, initMax);
  return sum;
}

// ---------------------------------------------------------------------------------------------------------------------
// Tolerations, taints, node selection terms

export const enum TolOp {
  Equal = 0,
  Exists = 1,
  Other = 2,
}

export interface Toleration {
  key: string;
  op: TolOp;
  value: string;
  effect: string;
}

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== '' && t.key !== taint.key) return false;
  if (t.op === TolOp.Exists) return true;
  if (t.op === TolOp.Equal) return t.value === taint.value;
  return false;
}

export const enum SelOp {
  In = 0,
  NotIn = 1,
  Exists = 2,
  DoesNotExist = 3,
  Gt = 4,
  Lt = 5,
  Invalid = 6,
}

export interface Requirement {
  key: string;
  op: SelOp;
  values: string[];
  /** Gt / Lt operand; NaN when it is not an integer (the term then matches nothing). */
  num: number;
}

export interface SelectorTerm {
  exprs: Requirement[];
  fields: Requirement[];
}

/** Node labels: either a decoded trace map or a plain Map for the default pool. */
export type Labels = ReadonlyMap<unknown, unknown>;

function labelOf(labels: Labels, key: string): string | undefined {
  const v = labels.get(key);
  return typeof v === 'string' ? v : undefined;
}

const INT_RE = /^[+-]?\d+$/;

function matchReq(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case SelOp.In:
      return value !== undefined && r.values.includes(value);
    case SelOp.NotIn:
      return value === undefined || !r.values.includes(value);
    case SelOp.Exists:
      return value !== undefined;
    case SelOp.DoesNotExist:
      return value === undefined;
    case SelOp.Gt:
    case SelOp.Lt: {
      if (value === undefined || Number.isNaN(r.num) || !INT_RE.test(value)) return false;
      const n = Number(value);
      return r.op === SelOp.Gt ? n > r.num : n < r.num;
    }
    default:
      return false;
  }
}

function matchExprs(exprs: readonly Requirement[], node: SimNode): boolean {
  for (const r of exprs) if (!matchReq(r, labelOf(node.labels, r.key))) return false;
  return true;
}

function matchTerm(t: SelectorTerm, node: SimNode): boolean {
  if (t.exprs.length === 0 && t.fields.length === 0) return false;
  if (!matchExprs(t.exprs, node)) return false;
  for (const r of t.fields) {
    if (r.key !== 'metadata.name' || (r.op !== SelOp.In && r.op !== SelOp.NotIn)) return false;
    if (!matchReq(r, node.name)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------------
// Pod shape: everything the scheduler needs from a pod spec, computed once per template.

export interface ScalarRequest {
  name: string;
  value: number;
}

export interface PodShape {
  /** Effective requests: cpu in millicores, memory and ephemeral-storage in bytes. */
  readonly cpu: number;
  readonly mem: number;
  readonly eph: number;
  readonly scalars: readonly ScalarRequest[] | null;
  /** All requests zero: only the pod count is checked. */
  readonly zero: boolean;
  /** Requests with the 100m / 200Mi defaults for containers that set none (scoring only). */
  readonly nzCpu: number;
  readonly nzMem: number;
  readonly priority: number;
  readonly preemptNever: boolean;
  readonly nodeSelector: readonly (readonly [string, string])[];
  /** Required node affinity terms (OR), or null for none. */
  readonly affinity: readonly SelectorTerm[] | null;
  readonly tolerations: readonly Toleration[];
  /** Tolerates node.kubernetes.io/unschedulable:NoSchedule (DaemonSet pods do). */
  readonly tolUnschedulable: boolean;
  /** spec.nodeName: bound without the scheduler. */
  readonly nodeName: string | null;
  /** Why the scheduler never considers this pod (scheduling gates, another scheduler), or null. */
  readonly blocked: string | null;
  /** No topologySpreadConstraints of its own: PodTopologySpread scores with the system default constraints. */
  readonly spreadDefault: boolean;
  /** Scheduler cache: the node-static filter results (unschedulable, taints, selection) per node index. */
  staticMasks: number[] | null;
  staticVersion: number;
}

export interface ShapeContext {
  /** Field path of the pod spec, for errors. */
  readonly field: string;
  /** "Deployment default/web", for warnings (one per workload, not per event). */
  readonly owner: string;
  /** SimKube removes every container's ports from templates of tracked GVKs. */
  readonly portsStripped: boolean;
  /** DaemonSet pods get the daemon tolerations. */
  readonly daemon: boolean;
  readonly priorityClasses: ReadonlyMap<string, { value: number; preemptNever: boolean; globalDefault: boolean }>;
  warn(message: string): void;
}

const KWOK_TOLERATION: Toleration = { key: 'kwok-provider', op: TolOp.Exists, value: '', effect: 'NoSchedule' };
// Added to every pod by the DefaultTolerationSeconds admission plugin.
const DEFAULT_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', op: TolOp.Exists, value: '', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', op: TolOp.Exists, value: '', effect: 'NoExecute' },
];
// Added to DaemonSet pods by the DaemonSet controller.
const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/disk-pressure', op: TolOp.Exists, value: '', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', op: TolOp.Exists, value: '', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', op: TolOp.Exists, value: '', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', op: TolOp.Exists, value: '', effect: 'NoSchedule' },
];
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' };

const SYSTEM_PRIORITIES: Record<string, number> = { 'system-cluster-critical': 2000000000, 'system-node-critical': 2000001000 };

const DEFAULT_CPU_MILLI = 100n; // 100m, in cpu milli-units
const DEFAULT_MEM_MILLI = 200n * 1024n * 1024n * 1000n; // 200Mi, in milli-bytes

function asMap(v: MsgValue | undefined): MsgMap | undefined {
  return v instanceof Map ? v : undefined;
}

function asList(v: MsgValue | undefined): MsgValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

function str(v: MsgValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function num(v: MsgValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function nonEmptyList(v: MsgValue | undefined): boolean {
  return Array.isArray(v) && v.length > 0;
}

/** Requests of one container after defaulting (missing requests copied from limits). */
function containerVec(c: MsgMap, field: string): ResVec {
  const v = emptyVec();
  const res = asMap(c.get('resources'));
  if (!res) return v;
  const req = asMap(res.get('requests'));
  const lim = asMap(res.get('limits'));
  if (req) {
    for (const [k, q] of req) {
      if (typeof k !== 'string') continue;
      setRes(v, k, milliUnits(q, () => `${field}.resources.requests.${k}`));
    }
  }
  if (lim) {
    for (const [k, q] of lim) {
      if (typeof k !== 'string' || (req && req.has(k))) continue;
      setRes(v, k, milliUnits(q, () => `${field}.resources.limits.${k}`));
    }
  }
  return v;
}

function nonZeroVec(v: ResVec): ResVec {
  return { cpu: v.hasCpu ? v.cpu : DEFAULT_CPU_MILLI, mem: v.hasMem ? v.mem : DEFAULT_MEM_MILLI, eph: 0n, other: null, hasCpu: true, hasMem: true };
}

function checkPorts(c: MsgMap, field: string, hostNetwork: boolean): void {
  const ports = asList(c.get('ports'));
  if (!ports) return;
  for (let i = 0; i < ports.length; i++) {
    const p = asMap(ports[i]);
    const hp = p ? num(p.get('hostPort')) : undefined;
    if ((hp !== undefined && hp > 0) || (hostNetwork && p)) throw new UnsupportedFeatureError(`${field}.ports[${i}]`, 'hostPort', 'the NodePorts filter');
  }
}

function parseRequirements(list: MsgValue | undefined): Requirement[] {
  const out: Requirement[] = [];
  for (const e of asList(list) ?? []) {
    const m = asMap(e);
    if (!m) continue;
    const opText = str(m.get('operator'));
    const values = (asList(m.get('values')) ?? []).map((x) => (typeof x === 'string' ? x : String(x)));
    const op =
      opText === 'In' ? SelOp.In : opText === 'NotIn' ? SelOp.NotIn : opText === 'Exists' ? SelOp.Exists : opText === 'DoesNotExist' ? SelOp.DoesNotExist : opText === 'Gt' ? SelOp.Gt : opText === 'Lt' ? SelOp.Lt : SelOp.Invalid;
    const first = values[0];
    const n = (op === SelOp.Gt || op === SelOp.Lt) && values.length === 1 && first !== undefined && INT_RE.test(first) ? Number(first) : NaN;
    out.push({ key: str(m.get('key')), op, values, num: n });
  }
  return out;
}

function parseToleration(v: MsgValue): Toleration | undefined {
  const m = asMap(v);
  if (!m) return undefined;
  const op = str(m.get('operator'));
  return { key: str(m.get('key')), op: op === '' || op === 'Equal' ? TolOp.Equal : op === 'Exists' ? TolOp.Exists : TolOp.Other, value: str(m.get('value')), effect: str(m.get('effect')) };
}

/**
 * Read a pod spec into a shape, applying what happens before the scheduler sees the pod:
 * SimKube's webhook (nodeSelector type=virtual, the kwok-provider toleration), API defaulting (requests from limits,
 * milli rounding), admission (default tolerations, priority from the class), and the DaemonSet controller's tolerations.
 */
export function buildShape(spec: MsgMap, ctx: ShapeContext): PodShape {
  const f = ctx.field;
  const hostNetwork = spec.get('hostNetwork') === true;

  // Unsupported features that can change the Pending set: fail loudly.
  const volumes = asList(spec.get('volumes'));
  if (volumes) {
    for (let i = 0; i < volumes.length; i++) {
      const vol = asMap(volumes[i]);
      if (!vol) continue;
      if (vol.has('persistentVolumeClaim')) throw new UnsupportedFeatureError(`${f}.volumes[${i}].persistentVolumeClaim`, 'a PersistentVolumeClaim volume', 'volume binding');
      if (vol.has('ephemeral')) throw new UnsupportedFeatureError(`${f}.volumes[${i}].ephemeral`, 'a generic ephemeral volume', 'volume binding');
    }
  }
  if (nonEmptyList(spec.get('resourceClaims'))) throw new UnsupportedFeatureError(`${f}.resourceClaims`, 'dynamic resource allocation (resourceClaims)');
  const affinity = asMap(spec.get('affinity'));
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const a = asMap(affinity?.get(kind));
    if (!a) continue;
    if (nonEmptyList(a.get('requiredDuringSchedulingIgnoredDuringExecution'))) throw new UnsupportedFeatureError(`${f}.affinity.${kind}.requiredDuringSchedulingIgnoredDuringExecution`, `required inter-pod ${kind === 'podAffinity' ? 'affinity' : 'anti-affinity'}`, 'the InterPodAffinity filter');
    if (nonEmptyList(a.get('preferredDuringSchedulingIgnoredDuringExecution'))) ctx.warn(`${ctx.owner}: preferred ${kind} terms only score nodes; the embedded scheduler ignores them`);
  }
  const spread = asList(spec.get('topologySpreadConstraints'));
  if (spread) {
    for (let i = 0; i < spread.length; i++) {
      const c = asMap(spread[i]);
      if (!c) continue;
      if (str(c.get('whenUnsatisfiable')) === 'ScheduleAnyway') ctx.warn(`${ctx.owner}: topologySpreadConstraints with ScheduleAnyway only score nodes; the embedded scheduler ignores them`);
      else throw new UnsupportedFeatureError(`${f}.topologySpreadConstraints[${i}]`, 'a topology spread constraint with whenUnsatisfiable: DoNotSchedule', 'the PodTopologySpread filter');
    }
  }

  // Requests.
  const containers: ResVec[] = [];
  const containersNz: ResVec[] = [];
  const cl = asList(spec.get('containers')) ?? [];
  for (let i = 0; i < cl.length; i++) {
    const c = asMap(cl[i]);
    if (!c) continue;
    const cf = `${f}.containers[${i}]`;
    if (!ctx.portsStripped) checkPorts(c, cf, hostNetwork);
    const v = containerVec(c, cf);
    containers.push(v);
    containersNz.push(nonZeroVec(v));
  }
  const inits: ResVec[] = [];
  const initsNz: ResVec[] = [];
  const sidecar: boolean[] = [];
  const il = asList(spec.get('initContainers'));
  if (il) {
    for (let i = 0; i < il.length; i++) {
      const c = asMap(il[i]);
      if (!c) continue;
      const cf = `${f}.initContainers[${i}]`;
      if (!ctx.portsStripped) checkPorts(c, cf, hostNetwork);
      const v = containerVec(c, cf);
      inits.push(v);
      initsNz.push(nonZeroVec(v));
      sidecar.push(c.get('restartPolicy') === 'Always');
    }
  }
  const eff = aggregate(containers, inits, sidecar);
  const nz = aggregate(containersNz, initsNz, sidecar);

  // Pod-level resources (cpu, memory, hugepages-*) replace the container aggregate; requests default to limits.
  const podRes = asMap(spec.get('resources'));
  if (podRes) {
    const req = asMap(podRes.get('requests'));
    const lim = asMap(podRes.get('limits'));
    for (const [src, list] of [
      ['requests', req],
      ['limits', lim],
    ] as const) {
      if (!list) continue;
      for (const [k, q] of list) {
        if (typeof k !== 'string' || (src === 'limits' && req?.has(k))) continue;
        if (k !== 'cpu' && k !== 'memory' && !k.startsWith('hugepages-')) continue;
        const m = milliUnits(q, () => `${f}.resources.${src}.${k}`);
        setRes(eff, k, m);
        if (k === 'cpu') nz.cpu = m;
        else if (k === 'memory') nz.mem = m;
      }
    }
  }

  // Overhead (RuntimeClass) is added on top.
  const overhead = asMap(spec.get('overhead'));
  const runtimeClass = str(spec.get('runtimeClassName'));
  if (runtimeClass && !overhead) ctx.warn(`${ctx.owner}: runtimeClassName "${runtimeClass}" is not resolved (no RuntimeClass overhead or scheduling constraints are added)`);
  if (overhead) {
    const ov = emptyVec();
    for (const [k, q] of overhead) if (typeof k === 'string') setRes(ov, k, milliUnits(q, () => `${f}.overhead.${k}`));
    addInto(eff, ov);
    nz.cpu += ov.cpu;
    nz.mem += ov.mem;
  }

  let scalars: ScalarRequest[] | null = null;
  if (eff.other) {
    for (const [name, m] of eff.other) {
      if (m === 0n) continue;
      (scalars ??= []).push({ name, value: unitsOf(m) });
    }
  }
  const cpu = Number(eff.cpu);
  const mem = unitsOf(eff.mem);
  const eph = unitsOf(eff.eph);

  // Node selection: the webhook sets nodeSelector.type=virtual (overwriting) and adds the kwok-provider toleration.
  const nodeSelector: [string, string][] = [];
  const ns = asMap(spec.get('nodeSelector'));
  if (ns) for (const [k, v] of ns) if (typeof k === 'string' && k !== 'type') nodeSelector.push([k, typeof v === 'string' ? v : String(v)]);
  nodeSelector.push(['type', 'virtual']);

  let terms: SelectorTerm[] | null = null;
  const na = asMap(affinity?.get('nodeAffinity'));
  if (na) {
    const req = asMap(na.get('requiredDuringSchedulingIgnoredDuringExecution'));
    if (req) {
      terms = [];
      for (const t of asList(req.get('nodeSelectorTerms')) ?? []) {
        const tm = asMap(t);
        terms.push({ exprs: parseRequirements(tm?.get('matchExpressions')), fields: parseRequirements(tm?.get('matchFields')) });
      }
    }
    if (nonEmptyList(na.get('preferredDuringSchedulingIgnoredDuringExecution'))) ctx.warn(`${ctx.owner}: preferred nodeAffinity terms only score nodes; the embedded scheduler ignores them`);
  }

  const tolerations: Toleration[] = [];
  let hasKwok = false;
  for (const t of asList(spec.get('tolerations')) ?? []) {
    const tol = parseToleration(t);
    if (!tol) continue;
    if (tol.key === 'kwok-provider') hasKwok = true;
    tolerations.push(tol);
  }
  if (!hasKwok) tolerations.push(KWOK_TOLERATION);
  for (const d of DEFAULT_TOLERATIONS) if (!tolerations.some((t) => t.key === d.key && t.effect === d.effect)) tolerations.push(d);
  if (ctx.daemon) {
    for (const d of DAEMON_TOLERATIONS) tolerations.push(d);
    if (hostNetwork) tolerations.push({ key: 'node.kubernetes.io/network-unavailable', op: TolOp.Exists, value: '', effect: 'NoSchedule' });
  }
  const tolUnschedulable = tolerations.some((t) => tolerates(t, UNSCHEDULABLE_TAINT));

  // Priority: the class (admission) decides; a global default class applies when none is named.
  let priority = 0;
  let preemptNever = spec.get('preemptionPolicy') === 'Never';
  const className = str(spec.get('priorityClassName'));
  const explicit = num(spec.get('priority'));
  if (className) {
    const pc = ctx.priorityClasses.get(className);
    const sys = SYSTEM_PRIORITIES[className];
    if (pc) {
      priority = pc.value;
      if (pc.preemptNever) preemptNever = true;
    } else if (sys !== undefined) priority = sys;
    else {
      ctx.warn(`${ctx.owner}: PriorityClass "${className}" is not in the trace; using priority ${explicit ?? 0}`);
      priority = explicit ?? 0;
    }
  } else {
    let def: { value: number; preemptNever: boolean } | undefined;
    for (const pc of ctx.priorityClasses.values()) if (pc.globalDefault) def = pc;
    if (def) {
      priority = def.value;
      if (def.preemptNever) preemptNever = true;
    } else priority = explicit ?? 0;
  }

  let blocked: string | null = null;
  const scheduler = spec.get('schedulerName');
  if (nonEmptyList(spec.get('schedulingGates'))) blocked = 'SchedulingGated';
  else if (typeof scheduler === 'string' && scheduler !== '' && scheduler !== 'default-scheduler') {
    blocked = `no scheduler named "${scheduler}" runs in the simulation`;
    ctx.warn(`${ctx.owner}: schedulerName "${scheduler}" is not the default scheduler; its pods stay Pending`);
  }
  const nodeName = str(spec.get('nodeName')) || null;

  return {
    cpu,
    mem,
    eph,
    scalars,
    zero: cpu === 0 && mem === 0 && eph === 0 && scalars === null,
    nzCpu: Number(nz.cpu),
    nzMem: unitsOf(nz.mem),
    priority,
    preemptNever,
    nodeSelector,
    affinity: terms,
    tolerations,
    tolUnschedulable,
    nodeName,
    blocked,
    spreadDefault: spread === undefined || spread.length === 0,
    staticMasks: null,
    staticVersion: -1,
  };
}

/** nodeSelector and required node affinity (both must match). `dsNode` is the DaemonSet's node-name affinity. */
export function matchesNodeSelection(shape: PodShape, node: SimNode, dsNode: string | null): boolean {
  if (dsNode !== null && node.name !== dsNode) return false;
  const sel = shape.nodeSelector;
  for (let i = 0; i < sel.length; i++) {
    const kv = sel[i]!;
    if (node.labels.get(kv[0]) !== kv[1]) return false;
  }
  const terms = shape.affinity;
  if (terms !== null) {
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      // The DaemonSet controller replaces each term's matchFields with its node-name requirement (checked above).
      if (dsNode !== null ? matchExprs(t.exprs, node) : matchTerm(t, node)) return true;
    }
    return false;
  }
  return true;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, or null. */
export function untoleratedTaint(shape: PodShape, node: SimNode): Taint | null {
  const taints = node.hardTaints;
  const tols = shape.tolerations;
  outer: for (let i = 0; i < taints.length; i++) {
    const taint = taints[i]!;
    for (let j = 0; j < tols.length; j++) if (tolerates(tols[j]!, taint)) continue outer;
    return taint;
  }
  return null;
}

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
  removed = false;

  constructor(spec: NodeSpec) {
    this.name = spec.name;
    this.update(spec);
  }

  update(spec: NodeSpec): void {
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

  addPod(p: SimPodImpl): void {
    const s = p.shape;
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
  }

  removePod(p: SimPodImpl): void {
    const i = this.pods.indexOf(p);
    if (i < 0) return;
    this.pods.splice(i, 1);
    this.subtract(p.shape);
  }

  /** Bound pods of a spread group (SimPodImpl.spreadGroup), for PodTopologySpread scoring. */
  countGroup(group: object): number {
    const pods = this.pods;
    let c = 0;
    for (let i = 0; i < pods.length; i++) if (pods[i]!.spreadGroup === group) c++;
    return c;
  }

  /** Take a pod's requests off without touching the pod list (preemption dry runs). */
  subtract(s: PodShape): void {
    this.reqCpu -= s.cpu;
    this.reqMem -= s.mem;
    this.reqEph -= s.eph;
    this.nzCpu -= s.nzCpu;
    this.nzMem -= s.nzMem;
    if (s.scalars !== null && this.reqScalars !== null) for (const r of s.scalars) this.reqScalars.set(r.name, (this.reqScalars.get(r.name) ?? 0) - r.value);
  }

  /** Put a pod's requests back (preemption dry runs). */
  restore(s: PodShape): void {
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
    return { cpu: this.allocCpu, memory: this.allocMem, ephemeralStorage: this.allocEph, pods: this.allocPods, scalars: Object.fromEntries(this.allocScalars ?? []) };
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

// KWOK's node-initialize stage fills these in when a Node has no status.
const KWOK_DEFAULT_CAPACITY = { cpu: 1000 * 1000, memory: 1024 ** 4, pods: 1_000_000 };

/** A node from a v1 Node object in the trace (status.allocatable, defaulting to status.capacity as a whole). */
export function nodeSpecFromObject(obj: MsgMap, field: string, warn: (m: string) => void): NodeSpec {
  const md = asMap(obj.get('metadata'));
  const name = str(md?.get('name'));
  const labels: Labels = asMap(md?.get('labels')) ?? new Map();
  const spec = asMap(obj.get('spec'));
  const taints: Taint[] = [];
  for (const t of asList(spec?.get('taints')) ?? []) {
    const m = asMap(t);
    if (m) taints.push({ key: str(m.get('key')), value: str(m.get('value')), effect: str(m.get('effect')) });
  }
  const status = asMap(obj.get('status'));
  const capacity = asMap(status?.get('capacity'));
  const allocRaw = status?.get('allocatable');
  const alloc = asMap(allocRaw) ?? capacity;
  const src = asMap(allocRaw) ? 'allocatable' : 'capacity';
  const out: NodeSpec = { name, labels, taints, unschedulable: spec?.get('unschedulable') === true, cpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalars: null };
  if (!alloc) {
    warn(`${field}: Node "${name}" has no status.capacity or status.allocatable; using KWOK's defaults (cpu 1k, memory 1Ti, pods 1M)`);
    out.cpu = KWOK_DEFAULT_CAPACITY.cpu;
    out.memory = KWOK_DEFAULT_CAPACITY.memory;
    out.pods = KWOK_DEFAULT_CAPACITY.pods;
    return out;
  }
  for (const [k, q] of alloc) {
    if (typeof k !== 'string') continue;
    const m = milliUnits(q, () => `${field}.status.${src}.${k}`);
    const n = exactNumber(k === 'cpu' ? Number(m) : unitsOf(m), () => `${field}.status.${src}.${k}`);
    switch (k) {
      case 'cpu':
        out.cpu = n;
        break;
      case 'memory':
        out.memory = n;
        break;
      case 'ephemeral-storage':
        out.ephemeralStorage = n;
        break;
      case 'pods':
        out.pods = n;
        break;
      default:
        (out.scalars ??= new Map()).set(k, n);
    }
  }
  if (!alloc.has('pods')) warn(`${field}: Node "${name}" has no pods in status.${src}; no pod fits on it ("Too many pods")`);
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

export interface PoolInput {
  count: number;
  cpu: string;
  memory: string;
  pods: number;
}

/** Nodes `node-1..N` like SimKube's KWOK virtual nodes: labelled type=virtual, tainted kwok-provider=true:NoSchedule. */
export function poolNodes(pool: PoolInput): SimNode[] {
  const key = `${pool.count}|${pool.cpu}|${pool.memory}|${pool.pods}`;
  let tpl = POOL_CACHE.get(key);
  if (!tpl) {
    if (!Number.isInteger(pool.count) || pool.count < 0) throw new TraceError('nodePool.count', `must be a non-negative integer, found ${pool.count}`);
    if (!Number.isInteger(pool.pods) || pool.pods < 0) throw new TraceError('nodePool.pods', `must be a non-negative integer, found ${pool.pods}`);
    const cpu = exactNumber(Number(milliUnits(pool.cpu, () => 'nodePool.cpu')), () => 'nodePool.cpu');
    const memory = exactNumber(unitsOf(milliUnits(pool.memory, () => 'nodePool.memory')), () => 'nodePool.memory');
    const specs = [];
    for (let i = 1; i <= pool.count; i++) {
      const name = `node-${i}`;
      specs.push({
        name,
        labels: new Map<string, string>([
          ['type', 'virtual'],
          ['kubernetes.io/hostname', name],
          ['kubernetes.io/os', 'linux'],
          ['kubernetes.io/arch', 'amd64'],
        ]),
      });
    }
    tpl = { specs, cpu, memory, pods: pool.pods };
    if (POOL_CACHE.size > 64) POOL_CACHE.clear();
    POOL_CACHE.set(key, tpl);
  }
  const out: SimNode[] = new Array(tpl.specs.length);
  for (let i = 0; i < tpl.specs.length; i++) {
    const s = tpl.specs[i]!;
    out[i] = new SimNode({ name: s.name, labels: s.labels, taints: POOL_TAINTS, unschedulable: false, cpu: tpl.cpu, memory: tpl.memory, ephemeralStorage: 0, pods: tpl.pods, scalars: null });
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
  readonly spreadGroup: object | null;

  constructor(
    readonly seq: number,
    readonly namespace: string,
    readonly name: string,
    /** The internal controller object (workload or a CronJob's Job). */
    readonly ctl: PodOwnerInfo & { readonly name: string; readonly isChild: boolean },
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
    this.spreadGroup = shape.spreadDefault && (k === 'Deployment' || k === 'ReplicaSet' || k === 'StatefulSet') ? ctl : null;
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
