// The seven actions and how they change a trace. Resource actions edit the target container in every occurrence
// of the workload; scale actions shift spec.replicas by the delta everywhere, keeping the trace's scaling history.
import type { MsgMap } from '../trace/msgpack.js';
import { canonicalQuantity, formatQuantity, parseQuantity, type Quantity } from '../trace/quantity.js';
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
  setRequest,
  templateOccurrences,
  type ContainerRef,
  type WorkloadRef,
} from '../trace/workload.js';
import type { WorkloadResources } from './observation.js';
import { checkCpu, checkMemory, checkReplicas, resolveLimits, type Safeguards, DEFAULT_SAFEGUARDS } from './safeguards.js';

/** Index order is the predecessor's action space, so learned tables and agents carry over. */
export const ACTIONS = ['noop', 'bump-cpu', 'bump-mem', 'scale-up', 'reduce-cpu', 'reduce-mem', 'scale-down'] as const;
export type ActionType = (typeof ACTIONS)[number];

export interface StepSizes {
  cpu: string;
  memory: string;
  replicas: number;
}

export const DEFAULT_STEPS: StepSizes = { cpu: '500m', memory: '256Mi', replicas: 1 };

export interface ActionSettings {
  steps: StepSizes;
  safeguards: Safeguards;
  /** Target container name; default the first app container. */
  container?: string;
}

export const DEFAULT_ACTION_SETTINGS: ActionSettings = { steps: DEFAULT_STEPS, safeguards: DEFAULT_SAFEGUARDS };

export interface ActionOutcome {
  action: ActionType;
  changed: boolean;
  blocked: boolean;
  reason?: string;
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
  throw new TraceError('action', `unknown action "${input}"`, `use one of ${ACTIONS.join(', ')} (or an index 0-${ACTIONS.length - 1})`);
}

export function actionIndex(a: ActionType): number {
  return ACTIONS.indexOf(a);
}

/** The workload's requests and replicas as the replay will end with them (last applied occurrence). */
export function readResources(trace: Trace, ref: WorkloadRef, container?: string): WorkloadResources {
  const obj = currentObject(trace, ref);
  const spec = podSpecOf(obj)!;
  const c = containerAt(spec, resolveContainer(spec, ref, container));
  const text = (r: 'cpu' | 'memory') => {
    const v = requestOf(c, r);
    return v === undefined || v === null ? '0' : canonicalQuantity(v.valueOf() as string | number);
  };
  return { cpu: text('cpu'), memory: text('memory'), replicas: hasReplicas(ref.kind) ? replicasOf(obj) : 1 };
}

const NANOS_PER_MILLI = 1_000_000n;
const NANOS_PER_UNIT = 1_000_000_000n;

function roundUp(q: Quantity, unit: bigint): Quantity {
  const r = q.nanos % unit;
  return r === 0n ? q : { nanos: q.nanos - r + (q.nanos > 0n ? unit : 0n), format: q.format };
}

/**
 * Apply one action to the trace, in place. A blocked action changes nothing and says why in `reason`.
 * Throws TraceError when the workload or container is not in the trace.
 */
export function applyAction(trace: Trace, ref: WorkloadRef, action: ActionType, settings: ActionSettings = DEFAULT_ACTION_SETTINGS): ActionOutcome {
  // Actions also arrive untyped (external agents, env server); anything else would fall through to reduce-mem.
  if (!(ACTIONS as readonly string[]).includes(action)) throw new TraceError('action', `unknown action "${String(action)}"`, `use one of ${ACTIONS.join(', ')}`);
  const before = readResources(trace, ref, settings.container);
  const done = (changed: boolean, reason?: string): ActionOutcome => ({
    action,
    changed,
    blocked: reason !== undefined,
    ...(reason !== undefined ? { reason: `${action} blocked: ${reason}` } : {}),
    before,
    after: changed ? readResources(trace, ref, settings.container) : before,
  });
  if (action === 'noop') return done(false);

  const limits = resolveLimits(settings.safeguards);
  const occurrences = templateOccurrences(trace, ref);

  if (action === 'scale-up' || action === 'scale-down') {
    if (!hasReplicas(ref.kind)) return done(false, `${ref.kind} has no replica count to scale`);
    const delta = action === 'scale-up' ? settings.steps.replicas : -settings.steps.replicas;
    const dir = delta > 0 ? 1 : -1;
    const planned: Array<[MsgMap, number]> = occurrences.map((o) => [o.obj, replicasOf(o.obj) + delta]);
    for (const [, n] of planned) {
      const why = checkReplicas(n, dir, limits);
      if (why) return done(false, why);
    }
    for (const [obj, n] of planned) setReplicas(obj, n);
    ensureIndexed(trace, occurrences[0]!.obj);
    return done(true);
  }

  const resource = action === 'bump-cpu' || action === 'reduce-cpu' ? 'cpu' : 'memory';
  const dir: 1 | -1 = action.startsWith('bump') ? 1 : -1;
  const step = parseQuantity(resource === 'cpu' ? settings.steps.cpu : settings.steps.memory);
  const target = resolveContainer(podSpecOf(currentObject(trace, ref))!, ref, settings.container);

  const planned: Array<[MsgMap, string]> = [];
  for (const o of occurrences) {
    const spec = podSpecOf(o.obj)!;
    const ref2 = findSameContainer(spec, target);
    if (!ref2) continue;
    const c = containerAt(spec, ref2);
    const cur = requestOf(c, resource);
    const base: Quantity = cur === undefined || cur === null ? { nanos: 0n, format: step.format } : parseQuantity(cur.valueOf() as string | number);
    // Written values are rounded the way the API server would round them, so what we write is stored unchanged.
    const next = roundUp({ nanos: base.nanos + BigInt(dir) * step.nanos, format: base.nanos === 0n ? step.format : base.format }, resource === 'cpu' ? NANOS_PER_MILLI : NANOS_PER_UNIT);
    const why = resource === 'cpu' ? checkCpu(next.nanos / NANOS_PER_MILLI, dir, limits) : checkMemory(next.nanos / NANOS_PER_UNIT, dir, limits);
    if (why) return done(false, why);
    planned.push([c, formatQuantity(next)]);
  }
  if (planned.length === 0) throw new TraceError('workload.container', `${formatWorkload(ref)} has no container "${target.name}" in any occurrence`);
  for (const [c, v] of planned) setRequest(c, resource, v);
  ensureIndexed(trace, occurrences[0]!.obj);
  return done(true);
}

function findSameContainer(spec: MsgMap, target: ContainerRef): ContainerRef | undefined {
  const list = spec.get(target.list);
  if (!Array.isArray(list)) return undefined;
  const byName = list.findIndex((c) => c instanceof Map && c.get('name') === target.name);
  if (byName >= 0) return { ...target, index: byName };
  return undefined;
}
