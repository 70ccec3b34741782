// The seven actions and how they change a trace with history. A workload may appear many times (recorded scaling,
// template changes); its steady state is its last applied occurrence, which the replay ends with. An action moves
// the steady state by one step and every other occurrence by the same delta, each clamped at the bounds, so the
// history keeps its shape wherever the bounds allow. It is blocked only when the steady state cannot move at all.
import { canonicalQuantity, parseQuantity, type QuantityFormat } from '../trace/quantity.js';
import {
  effectiveRequest,
  RESOLUTION,
  setEffectiveRequest,
  writeContainerRequest,
  containerRequest,
  type ResourceName,
} from '../trace/podrequest.js';
import { fitHpasToReplicas } from '../trace/hpa.js';
import { editJournal, noteEdited, trackEdits } from '../trace/edits.js';
import { TraceError, type Trace } from '../trace/trace.js';
import {
  containerAt,
  currentObject,
  ensureIndexed,
  formatWorkload,
  hasReplicas,
  podSpecOf,
  replicasOf,
  requestOf,
  resolveContainer,
  setReplicas,
  templateOccurrences,
  type Occurrence,
  type ContainerRef,
  type WorkloadRef,
} from '../trace/workload.js';
import type { WorkloadResources } from './observation.js';
import { resolveLimits, type Limits, type Safeguards, DEFAULT_SAFEGUARDS } from './safeguards.js';
import { cpuFromMillis, memoryFromBytes } from '../trace/quantity.js';

/** Index order is the predecessor's action space, so learned tables and agents carry over. */
export const ACTIONS = ['noop', 'bump-cpu', 'bump-mem', 'scale-up', 'reduce-cpu', 'reduce-mem', 'scale-down'] as const;
export type ActionType = (typeof ACTIONS)[number];

export interface StepSizes {
  cpu: string;
  memory: string;
  replicas: number;
}

export const DEFAULT_STEPS: StepSizes = { cpu: '500m', memory: '256Mi', replicas: 1 };

/**
 * What resource actions move: `effective` — the pod's effective request (init containers, sidecars, overhead), so
 * a dominating init container is no trap; `container` — one container's request (the predecessor's behaviour).
 */
export const RESOURCE_MODES = ['effective', 'container'] as const;
export type ResourceMode = (typeof RESOURCE_MODES)[number];

/**
 * How resource actions size their change: `additive` adds or removes the step sizes (the predecessor's),
 * `proportional` multiplies the steady request by ×1.25 (bump) or ×0.8 (reduce), CPU rounded to 1m and memory to
 * 1Mi away from the request so every move changes it; other occurrences move by the same delta. Replica actions
 * are the same in both.
 */
export const ACTION_SETS = ['additive', 'proportional'] as const;
export type ActionSet = (typeof ACTION_SETS)[number];

export function parseActionSet(s: string): ActionSet {
  const k = s.trim().toLowerCase();
  if ((ACTION_SETS as readonly string[]).includes(k)) return k as ActionSet;
  throw new RangeError(`unknown action set "${s}" (use ${ACTION_SETS.join(' or ')})`);
}

const NANOS_PER_MI = 1_000_000_000n * 1024n * 1024n;

/** The proportional move from v (nanos): ×5/4 up, ×4/5 down, rounded away from v to 1m (CPU) or 1Mi (memory). */
export function proportionalDelta(v: bigint, dir: 1 | -1, resource: ResourceName): bigint {
  const unit = resource === 'cpu' ? RESOLUTION.cpu : v >= NANOS_PER_MI ? NANOS_PER_MI : RESOLUTION.memory;
  const exact = dir > 0 ? (v * 5n) / 4n : (v * 4n) / 5n;
  let n = dir > 0 ? ((exact + unit - 1n) / unit) * unit : (exact / unit) * unit;
  if (dir > 0 && n <= v) n = v + unit;
  if (dir < 0 && n >= v) n = v - unit;
  return n - v;
}

export interface ActionSettings {
  /** Default additive. */
  set?: ActionSet;
  steps: StepSizes;
  safeguards: Safeguards;
  /** Target container name for `container` mode; default the first app container. */
  container?: string;
  /** Default: `container` when a container is named, else `effective`. */
  resourceMode?: ResourceMode;
}

export function resourceModeOf(s: ActionSettings): ResourceMode {
  return s.resourceMode ?? (s.container ? 'container' : 'effective');
}

export function parseResourceMode(input: string): ResourceMode {
  const m = input.trim().toLowerCase();
  if ((RESOURCE_MODES as readonly string[]).includes(m)) return m as ResourceMode;
  throw new TraceError('resourceMode', `unknown resource mode "${input}"`, `use ${RESOURCE_MODES.join(' or ')}`);
}

export const DEFAULT_ACTION_SETTINGS: ActionSettings = { steps: DEFAULT_STEPS, safeguards: DEFAULT_SAFEGUARDS };

export interface ActionOutcome {
  action: ActionType;
  changed: boolean;
  blocked: boolean;
  reason?: string;
  /** The steady state stopped at a bound short of a whole step. */
  clamped?: boolean;
  /** What else happened: a clamp at a bound, HorizontalPodAutoscaler bounds widened. */
  note?: string;
  before: WorkloadResources;
  after: WorkloadResources;
}

const ALIASES: Record<string, ActionType> = {
  bump_cpu_small: 'bump-cpu',
  bump_mem_small: 'bump-mem',
  scale_up_replicas: 'scale-up',
  reduce_cpu_small: 'reduce-cpu',
  reduce_mem_small: 'reduce-mem',
  scale_down_replicas: 'scale-down',
  '+cpu': 'bump-cpu',
  '+mem': 'bump-mem',
  '+rep': 'scale-up',
  '-cpu': 'reduce-cpu',
  '-mem': 'reduce-mem',
  '-rep': 'scale-down',
};

/** Accepts our names, the predecessor's names, labels like "+CPU", or an index 0-6. */
export function parseAction(input: string | number): ActionType {
  if (typeof input === 'number' || /^\d+$/.test(String(input))) {
    const a = ACTIONS[Number(input)];
    if (a) return a;
  } else {
    const s = input.trim().toLowerCase();
    if ((ACTIONS as readonly string[]).includes(s)) return s as ActionType;
    const alias = ALIASES[s];
    if (alias) return alias;
  }
  throw new TraceError(
    'action',
    `unknown action "${input}"`,
    `use one of ${ACTIONS.join(', ')} (or an index 0-${ACTIONS.length - 1})`,
  );
}

export function actionIndex(a: ActionType): number {
  return ACTIONS.indexOf(a);
}

/**
 * Resources read from a trace whose edits are journaled (src/trace/edits.ts), by the journal version they were read
 * at: a step reads them up to three times (the policy's view, before and after the action) with no edit in between.
 */
const resourceReads = new WeakMap<Trace, Map<string, { version: number; resources: WorkloadResources }>>();

/** The workload's requests and replicas as the replay will end with them (last applied occurrence). */
export function readResources(trace: Trace, ref: WorkloadRef, container?: string): WorkloadResources {
  const journal = editJournal(trace);
  if (journal === undefined) return readResourcesNow(trace, ref, container);
  let reads = resourceReads.get(trace);
  if (reads === undefined) resourceReads.set(trace, (reads = new Map()));
  const key = `${ref.kind}|${ref.namespace}/${ref.name}|${container ?? ''}`;
  const hit = reads.get(key);
  if (hit !== undefined && hit.version === journal.version) return { ...hit.resources };
  const resources = readResourcesNow(trace, ref, container);
  if (reads.size >= 16) reads.clear();
  reads.set(key, { version: journal.version, resources: { ...resources } });
  return resources;
}

function readResourcesNow(trace: Trace, ref: WorkloadRef, container?: string): WorkloadResources {
  const obj = currentObject(trace, ref);
  const spec = podSpecOf(obj)!;
  const c = containerAt(spec, resolveContainer(spec, ref, container));
  const cpu = requestText(c, 'cpu');
  const memory = requestText(c, 'memory');
  // The common pod (one container with both requests, nothing else) is its own effective request.
  const containers = spec.get('containers');
  const plain =
    Array.isArray(containers) &&
    containers.length === 1 &&
    !spec.has('initContainers') &&
    !spec.has('overhead') &&
    !spec.has('resources') &&
    cpu !== '0' &&
    memory !== '0';
  return {
    cpu,
    memory,
    replicas: hasReplicas(ref.kind) ? replicasOf(obj) : 1,
    effectiveCpu: plain ? cpu : formatNanos('cpu', effectiveRequest(spec, 'cpu')),
    effectiveMemory: plain ? memory : formatNanos('memory', effectiveRequest(spec, 'memory')),
  };
}

function requestText(c: MsgMapLike, r: ResourceName): string {
  const v = requestOf(c, r);
  return v === undefined || v === null ? '0' : canonicalQuantity(v.valueOf() as string | number);
}

function formatNanos(r: ResourceName, nanos: bigint): string {
  const unit = RESOLUTION[r];
  const whole = (nanos + unit - 1n) / unit;
  return r === 'cpu' ? cpuFromMillis(whole) : memoryFromBytes(whole);
}

/** One step from `v` towards `dir`, stopped at the bound; a value already at or past the bound stays. */
export function shiftClamped(v: bigint, delta: bigint, lo: bigint, hi: bigint): bigint {
  if (delta < 0n) return v <= lo ? v : v + delta < lo ? lo : v + delta;
  return v >= hi ? v : v + delta > hi ? hi : v + delta;
}

interface Bounds {
  lo: bigint;
  hi: bigint;
  what: string;
  kind: ResourceName | 'replicas';
}

// No closures in Bounds: they are built for every checked move (six per mask), and under tsx each closure costs a
// property definition.
const WHAT = {
  cpu: ['the CPU request', "the pod's effective CPU request"],
  memory: ['the memory request', "the pod's effective memory request"],
} as const;

function bounds(kind: ResourceName | 'replicas', l: Limits, effective: boolean): Bounds {
  if (kind === 'cpu')
    return {
      lo: l.minCpuMillis * RESOLUTION.cpu,
      hi: l.maxCpuMillis * RESOLUTION.cpu,
      what: WHAT.cpu[effective ? 1 : 0],
      kind,
    };
  if (kind === 'memory')
    return {
      lo: l.minMemoryBytes * RESOLUTION.memory,
      hi: l.maxMemoryBytes * RESOLUTION.memory,
      what: WHAT.memory[effective ? 1 : 0],
      kind,
    };
  return { lo: BigInt(l.minReplicas), hi: BigInt(l.maxReplicas), what: 'replicas', kind };
}

function show(b: Bounds, v: bigint): string {
  return b.kind === 'replicas' ? String(v) : formatNanos(b.kind, v);
}

/** Why a steady state that cannot move is blocked, or the clamp note when it moved less than a step. */
function explain(b: Bounds, v: bigint, next: bigint, delta: bigint): { blocked?: string; clamped?: string } {
  const bound = delta < 0n ? `the floor of ${show(b, b.lo)}` : `the cap of ${show(b, b.hi)}`;
  if (next === v)
    return {
      blocked: `${b.what} is ${show(b, v)}, already ${v === (delta < 0n ? b.lo : b.hi) ? 'at' : delta < 0n ? 'below' : 'above'} ${bound}`,
    };
  if (next !== v + delta)
    return {
      clamped: `${b.what} stopped at ${bound} (${show(b, v)} ${delta < 0n ? '−' : '+'} a step would be ${show(b, v + delta < 0n ? 0n : v + delta)})`,
    };
  return {};
}

/**
 * Apply one action to the trace, in place. A blocked action changes nothing and says why in `reason`.
 * Throws TraceError when the workload or container is not in the trace.
 */
export function applyAction(
  trace: Trace,
  ref: WorkloadRef,
  action: ActionType,
  settings: ActionSettings = DEFAULT_ACTION_SETTINGS,
  dryRun = false,
): ActionOutcome {
  // Actions also arrive untyped (external agents, env server); anything else would fall through to reduce-mem.
  if (!(ACTIONS as readonly string[]).includes(action))
    throw new TraceError('action', `unknown action "${String(action)}"`, `use one of ${ACTIONS.join(', ')}`);
  const before = readResources(trace, ref, settings.container);
  // No closures in here: under tsx each one created costs a property definition, and this runs every step.
  const out: Outcome = { trace, ref, settings, action, before };
  if (action === 'noop') return done(out, false);

  const m = moveContext(trace, ref, settings);
  const { occurrences } = m;
  const move = checkMove(m, action);
  if (move.kindReason !== undefined) return done(out, false, move.kindReason);
  const { b, v, delta } = move;
  const why = explain(b, v, move.next, delta);
  if (why.blocked) return done(out, false, why.blocked);
  if (dryRun) return done(out, false);
  for (const x of occurrences) noteEdited(trace, x.obj);
  if (move.resource === 'replicas') {
    for (const o of occurrences) setReplicas(o.obj, Number(shiftClamped(BigInt(replicasOf(o.obj)), delta, b.lo, b.hi)));
    const notes = why.clamped ? [why.clamped] : [];
    notes.push(
      ...fitHpasToReplicas(
        trace,
        ref,
        occurrences.map((o) => replicasOf(o.obj)),
      ),
    );
    ensureIndexed(trace, occurrences[0]!.obj);
    return done(out, true, undefined, notes, why.clamped !== undefined);
  }
  const resource = move.resource;
  const format = move.format!;
  if (m.mode === 'effective') {
    for (const o of occurrences) {
      const spec = podSpecOf(o.obj)!;
      const cur = effectiveRequest(spec, resource);
      const next = shiftClamped(cur, delta, b.lo, b.hi);
      if (next !== cur) setEffectiveRequest(spec, resource, next, format);
    }
  } else {
    for (const c of m.targets!) {
      const cur = containerRequest(c, resource).nanos;
      const next = shiftClamped(cur, delta, b.lo, b.hi);
      if (next !== cur) writeContainerRequest(c, resource, next, format);
    }
  }
  ensureIndexed(trace, occurrences[0]!.obj);
  return done(out, true, undefined, why.clamped ? [why.clamped] : [], why.clamped !== undefined);
}

/** What every non-noop action of one state shares: the bounds, the occurrences, the steady one, the target. */
interface MoveContext {
  ref: WorkloadRef;
  settings: ActionSettings;
  limits: Limits;
  occurrences: Occurrence[];
  steady: Occurrence;
  mode: ResourceMode;
  /** Effective mode: the steady state's effective requests, read once per context. */
  effective: Partial<Record<ResourceName, bigint>>;
  /** Container mode: the target container in every occurrence that has it. */
  targets?: MsgMapLike[];
  steadyContainer?: MsgMapLike;
}

function moveContext(trace: Trace, ref: WorkloadRef, settings: ActionSettings): MoveContext {
  const limits = resolveLimits(settings.safeguards);
  const occurrences = templateOccurrences(trace, ref);
  const steady = steadyOccurrence(occurrences);
  // From the first action on, the trace's edits are journaled (incremental replay); the occurrences are noted as
  // edited before anything changes, so no edit goes unnoted even if one of them throws halfway.
  trackEdits(trace);
  return {
    ref,
    settings,
    limits,
    occurrences,
    steady,
    mode: resourceModeOf(settings),
    effective: {},
  };
}

/** Container mode: the target container of every occurrence (a TraceError when none has it). */
function containerTargets(m: MoveContext): void {
  if (m.targets !== undefined) return;
  const steadySpec = podSpecOf(m.steady.obj)!;
  const target = resolveContainer(steadySpec, m.ref, m.settings.container);
  const targets: MsgMapLike[] = [];
  for (const o of m.occurrences) {
    const found = findSameContainer(podSpecOf(o.obj)!, target);
    if (found) targets.push(containerAt(podSpecOf(o.obj)!, found));
  }
  if (targets.length === 0)
    throw new TraceError(
      'workload.container',
      `${formatWorkload(m.ref)} has no container "${target.name}" in any occurrence`,
    );
  m.targets = targets;
  m.steadyContainer = containerAt(steadySpec, target);
}

type Move =
  | { kindReason: string; resource: 'replicas' }
  | {
      kindReason?: undefined;
      resource: ResourceName | 'replicas';
      b: Bounds;
      v: bigint;
      delta: bigint;
      next: bigint;
      /** How a resource step is written (its quantity's format); absent for replicas. */
      format?: QuantityFormat;
    };

/**
 * Where one action would move the steady state: its bounds, value, delta and the clamped next value (next === v:
 * blocked). The one rule applyAction and actionMask both use.
 */
function checkMove(m: MoveContext, action: Exclude<ActionType, 'noop'>): Move {
  if (action === 'scale-up' || action === 'scale-down') {
    if (!hasReplicas(m.ref.kind))
      return { kindReason: `${m.ref.kind} has no replica count to scale`, resource: 'replicas' };
    const delta = BigInt(action === 'scale-up' ? m.settings.steps.replicas : -m.settings.steps.replicas);
    const b = bounds('replicas', m.limits, false);
    const v = BigInt(replicasOf(m.steady.obj));
    return { resource: 'replicas', b, v, delta, next: shiftClamped(v, delta, b.lo, b.hi) };
  }
  const resource: ResourceName = action === 'bump-cpu' || action === 'reduce-cpu' ? 'cpu' : 'memory';
  const step = parseQuantity(resource === 'cpu' ? m.settings.steps.cpu : m.settings.steps.memory);
  const dir: 1 | -1 = action === 'bump-cpu' || action === 'bump-mem' ? 1 : -1;
  const b = bounds(resource, m.limits, m.mode === 'effective');
  let v: bigint;
  if (m.mode === 'effective') v = m.effective[resource] ??= effectiveRequest(podSpecOf(m.steady.obj)!, resource);
  else {
    containerTargets(m);
    v = containerRequest(m.steadyContainer!, resource).nanos;
  }
  const delta = deltaFrom(m.settings, v, dir, resource, step.nanos);
  return { resource, b, v, delta, next: shiftClamped(v, delta, b.lo, b.hi), format: step.format };
}

interface Outcome {
  trace: Trace;
  ref: WorkloadRef;
  settings: ActionSettings;
  action: ActionType;
  before: WorkloadResources;
}

function done(o: Outcome, changed: boolean, reason?: string, notes: string[] = [], clamped = false): ActionOutcome {
  const { action, before } = o;
  return {
    action,
    changed,
    blocked: reason !== undefined,
    ...(reason !== undefined ? { reason: `${action} blocked: ${reason}` } : {}),
    ...(clamped ? { clamped } : {}),
    ...(notes.length ? { note: `${action}: ${notes.join('; ')}` } : {}),
    before,
    after: changed ? readResources(o.trace, o.ref, o.settings.container) : before,
  };
}

function deltaFrom(settings: ActionSettings, v: bigint, dir: 1 | -1, resource: ResourceName, step: bigint): bigint {
  return settings.set === 'proportional' && v > 0n ? proportionalDelta(v, dir, resource) : BigInt(dir) * step;
}

/**
 * Which actions would be allowed now (true) and which a bound or the workload's kind would block (false), in
 * action-index order; noop is always allowed. Nothing is changed. Equal to six dry runs of applyAction
 * (test/unit/arena/mask.test.ts checks it), computed from one read of the occurrences and bounds with the same checkMove rule.
 */
export function actionMask(
  trace: Trace,
  ref: WorkloadRef,
  settings: ActionSettings = DEFAULT_ACTION_SETTINGS,
): boolean[] {
  readResources(trace, ref, settings.container); // what applyAction reads first (and throws for) on every action
  const m = moveContext(trace, ref, settings);
  const mask: boolean[] = [];
  for (const a of ACTIONS) {
    if (a === 'noop') {
      mask.push(true);
      continue;
    }
    const move = checkMove(m, a);
    mask.push(move.kindReason === undefined && move.next !== move.v);
  }
  return mask;
}

type MsgMapLike = ReturnType<typeof containerAt>;

/** The occurrence the replay ends with: the last applied one. */
function steadyOccurrence(occ: Occurrence[]): Occurrence {
  const applied = occ.filter((o) => o.list === 'applied_objs');
  return applied[applied.length - 1] ?? occ[occ.length - 1]!;
}

function findSameContainer(spec: MsgMapLike, target: ContainerRef): ContainerRef | undefined {
  const list = spec.get(target.list);
  if (!Array.isArray(list)) return undefined;
  const byName = list.findIndex((c) => c instanceof Map && c.get('name') === target.name);
  if (byName >= 0) return { ...target, index: byName };
  return undefined;
}
