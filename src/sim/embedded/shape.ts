// Pod shape: everything the scheduler needs from a pod spec, computed once per template from the decoded Map tree
// (effective requests, selectors, tolerations, priority).
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';
import { UnsupportedFeatureError } from './errors.js';
import { milliUnits, unitsOf } from './quantities.js';
import { addInto, aggregate, emptyVec, setRes, type ResVec } from './resources.js';
import {
  INT_RE,
  SelOp,
  tolerates,
  TolOp,
  type PodSelection,
  type Requirement,
  type SelectorTerm,
  type Taint,
  type Toleration,
} from './selection.js';
import { asList, asMap, nonEmptyList, num, str } from './values.js';

export interface ScalarRequest {
  name: string;
  value: number;
}

export interface PodShape extends PodSelection {
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

const SYSTEM_PRIORITIES: Record<string, number> = {
  'system-cluster-critical': 2000000000,
  'system-node-critical': 2000001000,
};

const DEFAULT_CPU_MILLI = 100n; // 100m, in cpu milli-units
const DEFAULT_MEM_MILLI = 200n * 1024n * 1024n * 1000n; // 200Mi, in milli-bytes

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
      setRes(
        v,
        k,
        milliUnits(q, () => `${field}.resources.requests.${k}`),
      );
    }
  }
  if (lim) {
    for (const [k, q] of lim) {
      if (typeof k !== 'string' || (req && req.has(k))) continue;
      setRes(
        v,
        k,
        milliUnits(q, () => `${field}.resources.limits.${k}`),
      );
    }
  }
  return v;
}

function nonZeroVec(v: ResVec): ResVec {
  return {
    cpu: v.hasCpu ? v.cpu : DEFAULT_CPU_MILLI,
    mem: v.hasMem ? v.mem : DEFAULT_MEM_MILLI,
    eph: 0n,
    other: null,
    hasCpu: true,
    hasMem: true,
  };
}

function checkPorts(c: MsgMap, field: string, hostNetwork: boolean): void {
  const ports = asList(c.get('ports'));
  if (!ports) return;
  for (let i = 0; i < ports.length; i++) {
    const p = asMap(ports[i]);
    const hp = p ? num(p.get('hostPort')) : undefined;
    if ((hp !== undefined && hp > 0) || (hostNetwork && p))
      throw new UnsupportedFeatureError(`${field}.ports[${i}]`, 'hostPort', 'the NodePorts filter');
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
      opText === 'In'
        ? SelOp.In
        : opText === 'NotIn'
          ? SelOp.NotIn
          : opText === 'Exists'
            ? SelOp.Exists
            : opText === 'DoesNotExist'
              ? SelOp.DoesNotExist
              : opText === 'Gt'
                ? SelOp.Gt
                : opText === 'Lt'
                  ? SelOp.Lt
                  : SelOp.Invalid;
    const first = values[0];
    const n =
      (op === SelOp.Gt || op === SelOp.Lt) && values.length === 1 && first !== undefined && INT_RE.test(first)
        ? Number(first)
        : NaN;
    out.push({ key: str(m.get('key')), op, values, num: n });
  }
  return out;
}

function parseToleration(v: MsgValue): Toleration | undefined {
  const m = asMap(v);
  if (!m) return undefined;
  const op = str(m.get('operator'));
  return {
    key: str(m.get('key')),
    op: op === '' || op === 'Equal' ? TolOp.Equal : op === 'Exists' ? TolOp.Exists : TolOp.Other,
    value: str(m.get('value')),
    effect: str(m.get('effect')),
  };
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
      if (vol.has('persistentVolumeClaim'))
        throw new UnsupportedFeatureError(
          `${f}.volumes[${i}].persistentVolumeClaim`,
          'a PersistentVolumeClaim volume',
          'volume binding',
        );
      if (vol.has('ephemeral'))
        throw new UnsupportedFeatureError(
          `${f}.volumes[${i}].ephemeral`,
          'a generic ephemeral volume',
          'volume binding',
        );
    }
  }
  if (nonEmptyList(spec.get('resourceClaims')))
    throw new UnsupportedFeatureError(`${f}.resourceClaims`, 'dynamic resource allocation (resourceClaims)');
  const affinity = asMap(spec.get('affinity'));
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const a = asMap(affinity?.get(kind));
    if (!a) continue;
    if (nonEmptyList(a.get('requiredDuringSchedulingIgnoredDuringExecution')))
      throw new UnsupportedFeatureError(
        `${f}.affinity.${kind}.requiredDuringSchedulingIgnoredDuringExecution`,
        `required inter-pod ${kind === 'podAffinity' ? 'affinity' : 'anti-affinity'}`,
        'the InterPodAffinity filter',
      );
    if (nonEmptyList(a.get('preferredDuringSchedulingIgnoredDuringExecution')))
      ctx.warn(`${ctx.owner}: preferred ${kind} terms only score nodes; the embedded scheduler ignores them`);
  }
  const spread = asList(spec.get('topologySpreadConstraints'));
  if (spread) {
    for (let i = 0; i < spread.length; i++) {
      const c = asMap(spread[i]);
      if (!c) continue;
      if (str(c.get('whenUnsatisfiable')) === 'ScheduleAnyway')
        ctx.warn(
          `${ctx.owner}: topologySpreadConstraints with ScheduleAnyway only score nodes; the embedded scheduler ignores them`,
        );
      else
        throw new UnsupportedFeatureError(
          `${f}.topologySpreadConstraints[${i}]`,
          'a topology spread constraint with whenUnsatisfiable: DoNotSchedule',
          'the PodTopologySpread filter',
        );
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
  if (runtimeClass && !overhead)
    ctx.warn(
      `${ctx.owner}: runtimeClassName "${runtimeClass}" is not resolved (no RuntimeClass overhead or scheduling constraints are added)`,
    );
  if (overhead) {
    const ov = emptyVec();
    for (const [k, q] of overhead)
      if (typeof k === 'string')
        setRes(
          ov,
          k,
          milliUnits(q, () => `${f}.overhead.${k}`),
        );
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
  if (ns)
    for (const [k, v] of ns)
      if (typeof k === 'string' && k !== 'type') nodeSelector.push([k, typeof v === 'string' ? v : String(v)]);
  nodeSelector.push(['type', 'virtual']);

  let terms: SelectorTerm[] | null = null;
  const na = asMap(affinity?.get('nodeAffinity'));
  if (na) {
    const req = asMap(na.get('requiredDuringSchedulingIgnoredDuringExecution'));
    if (req) {
      terms = [];
      for (const t of asList(req.get('nodeSelectorTerms')) ?? []) {
        const tm = asMap(t);
        terms.push({
          exprs: parseRequirements(tm?.get('matchExpressions')),
          fields: parseRequirements(tm?.get('matchFields')),
        });
      }
    }
    if (nonEmptyList(na.get('preferredDuringSchedulingIgnoredDuringExecution')))
      ctx.warn(`${ctx.owner}: preferred nodeAffinity terms only score nodes; the embedded scheduler ignores them`);
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
  for (const d of DEFAULT_TOLERATIONS)
    if (!tolerations.some((t) => t.key === d.key && t.effect === d.effect)) tolerations.push(d);
  if (ctx.daemon) {
    for (const d of DAEMON_TOLERATIONS) tolerations.push(d);
    if (hostNetwork)
      tolerations.push({
        key: 'node.kubernetes.io/network-unavailable',
        op: TolOp.Exists,
        value: '',
        effect: 'NoSchedule',
      });
  }
  const tolUnschedulable = tolerations.some((t) => tolerates(t, UNSCHEDULABLE_TAINT));

  // Priority: the class (admission) decides; a global default class applies when none is named.
  let priority: number;
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
