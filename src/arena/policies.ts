// Policies pick one action from what they observe. Every random choice uses ctx.rng, seeded from (seed, step),
// so an episode replays identically and a restarted operator picks the same action again.
import { cpuMillis, quantityUnits } from '../trace/quantity.js';
import { ACTIONS, resourceModeOf, type ActionSettings, type ActionType } from './actions.js';
import { atTarget, type Observation, type WorkloadResources } from './observation.js';
import { resolveLimits } from './safeguards.js';
import { randomInt } from '../util/rng.js';
import { rightsizeAction } from './usage/rightsize.js';
import type { WindowDemand } from './usage/model.js';

export interface NodeCapacity {
  cpuMillis: bigint;
  memoryBytes: bigint;
}

export interface PolicyContext {
  obs: Observation;
  target: number;
  resources: WorkloadResources;
  step: number;
  maxSteps: number;
  /** Allocatable of the largest node (per resource), what a single pod can at most request. */
  largestNode: NodeCapacity;
  /** Number of schedulable nodes. */
  nodeCount: number;
  settings: ActionSettings;
  rng: () => number;
  /**
   * Actions already blocked on the current trace (since the last action that changed it). Blocking depends only on
   * the trace, so playing one of them again is blocked again: built-in policies never do.
   */
  blocked?: readonly ActionType[];
  /** The previous step of this episode, if any. */
  last?: PastStep;
  /** With usage: per-pod demand samples (cores, bytes) of the window the observation covers. */
  usage?: WindowDemand;
}

/** What a policy may remember of a step. */
export interface PastStep {
  action: ActionType;
  changed: boolean;
  blocked: boolean;
  /** The observation the action was decided on. */
  before: Observation;
}

/** The actions blocked since the last step that changed the trace, newest last. */
export function blockedSinceChange(history: readonly Pick<PastStep, 'action' | 'changed' | 'blocked'>[]): ActionType[] {
  const out: ActionType[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.changed) break;
    if (h.blocked && !out.includes(h.action)) out.unshift(h.action);
  }
  return out;
}

/** The first of `preferred` not blocked on this state, else noop. */
export function firstAllowed(ctx: PolicyContext, ...preferred: ActionType[]): ActionType {
  return preferred.find((a) => !ctx.blocked?.includes(a)) ?? 'noop';
}

export interface Transition {
  obs: Observation;
  action: ActionType;
  reward: number;
  next: Observation;
  done: boolean;
  target: number;
}

export interface Policy {
  readonly name: string;
  decide(ctx: PolicyContext): ActionType | Promise<ActionType>;
  /** Learning policies update from each transition. */
  learn?(t: Transition): void;
  /** Decides by asking something outside this process, so the same question may not get the same answer twice. */
  readonly remote?: boolean;
}

// Once its one action is blocked on this trace, a constant policy waits instead of repeating it.
const constant = (name: string, action: ActionType): Policy => ({ name, decide: (ctx) => firstAllowed(ctx, action) });

export const noopPolicy = constant('noop', 'noop');
export const bumpCpuPolicy = constant('bump-cpu', 'bump-cpu');
export const bumpMemPolicy = constant('bump-mem', 'bump-mem');
export const scaleUpPolicy = constant('scale-up', 'scale-up');

export const randomPolicy: Policy = {
  name: 'random',
  decide(ctx) {
    const allowed = ctx.blocked?.length ? ACTIONS.filter((a) => !ctx.blocked!.includes(a)) : ACTIONS;
    return allowed[randomInt(ctx.rng, allowed.length)]!;
  },
};

/**
 * Goes the right way: requests no node can hold are reduced, missing replicas added, surplus removed, and a
 * workload at target is left alone. (The predecessor bumped CPU when pods were Pending.) It reasons on the request
 * its actions move (the pod's effective request by default, so a dominating init container is seen), never plays
 * an action already blocked on this trace, and under contention (pods that fit a node but not the cluster, e.g.
 * because other workloads hold it) shrinks the resource that packs worst, switching to the other one when the last
 * reduction left as many pods Pending.
 */
export const heuristicPolicy: Policy = {
  name: 'heuristic',
  decide(ctx) {
    const { obs, target, resources, largestNode, settings } = ctx;
    const allowed = (a: ActionType) => !ctx.blocked?.includes(a);
    // With usage the task goes on at the goal: keep requests inside the usage band.
    if (atTarget(obs, target)) return rightsizeAction(obs, resources, settings.set, settings.steps, allowed) ?? 'noop';
    const limits = resolveLimits(settings.safeguards);
    const effective = resourceModeOf(settings) === 'effective';
    const cpu = cpuMillis((effective ? resources.effectiveCpu : undefined) ?? resources.cpu);
    const mem = quantityUnits((effective ? resources.effectiveMemory : undefined) ?? resources.memory);
    // Steps stop at the floor, so anything above it can still shrink.
    const canReduceCpu = cpu > limits.minCpuMillis && allowed('reduce-cpu');
    const canReduceMem = mem > limits.minMemoryBytes && allowed('reduce-mem');

    // A pod that fits no node: shrink what does not fit.
    if (cpu > largestNode.cpuMillis && canReduceCpu) return 'reduce-cpu';
    if (mem > largestNode.memoryBytes && canReduceMem) return 'reduce-mem';

    if (resources.replicas > target && resources.replicas > limits.minReplicas && allowed('scale-down'))
      return 'scale-down';
    if (resources.replicas < target && resources.replicas < limits.maxReplicas && allowed('scale-up'))
      return 'scale-up';

    if (obs.pending > 0) {
      // Pods fit a node but not all of them fit the cluster: shrink the resource that packs worst, if it can shrink.
      const perNode = Math.max(1, Math.ceil(target / Math.max(1, ctx.nodeCount)));
      const cpuShare = (Number(cpu) * perNode) / Number(largestNode.cpuMillis || 1n);
      const memShare = (Number(mem) * perNode) / Number(largestNode.memoryBytes || 1n);
      let order: ActionType[] = cpuShare >= memShare ? ['reduce-cpu', 'reduce-mem'] : ['reduce-mem', 'reduce-cpu'];
      const can = (a: ActionType) => (a === 'reduce-cpu' ? canReduceCpu : canReduceMem);
      // The workload alone cannot pack onto the nodes: shrink what overflows.
      for (const a of order) if ((a === 'reduce-cpu' ? cpuShare : memShare) > 1 && can(a)) return a;
      // Contention with other workloads: keep going if the last reduction placed pods, else switch resource.
      const last = ctx.last;
      if (last && last.changed && (last.action === 'reduce-cpu' || last.action === 'reduce-mem')) {
        const other: ActionType = last.action === 'reduce-cpu' ? 'reduce-mem' : 'reduce-cpu';
        order = last.before.pending > obs.pending ? [last.action, other] : [other, last.action];
      }
      for (const a of order) if (can(a)) return a;
    }
    // Replicas match: with usage, pods not Ready because of OOM kills or throttling get more; else wait (the
    // observation lags, e.g. pods not Ready yet, or nothing can move).
    return rightsizeAction(obs, resources, settings.set, settings.steps, allowed) ?? 'noop';
  },
};

/**
 * The bar a learned policy must clear: it never looks at pods (Ready, Pending) or at the cluster beyond the size of
 * its largest node. Replicas go to the target first; then it shrinks whichever request is the larger share of a
 * node, the other one once that one cannot move. It stops only because the episode ends at the goal.
 */
export const blindPolicy: Policy = {
  name: 'blind',
  decide(ctx) {
    const { resources, target, largestNode, settings } = ctx;
    const allowed = (a: ActionType) => !ctx.blocked?.includes(a);
    const limits = resolveLimits(settings.safeguards);
    if (resources.replicas > target && resources.replicas > limits.minReplicas && allowed('scale-down'))
      return 'scale-down';
    if (resources.replicas < target && resources.replicas < limits.maxReplicas && allowed('scale-up'))
      return 'scale-up';
    const effective = resourceModeOf(settings) === 'effective';
    const cpu = cpuMillis((effective ? resources.effectiveCpu : undefined) ?? resources.cpu);
    const mem = quantityUnits((effective ? resources.effectiveMemory : undefined) ?? resources.memory);
    const cpuShare = Number(cpu) / Number(largestNode.cpuMillis || 1n);
    const memShare = Number(mem) / Number(largestNode.memoryBytes || 1n);
    const canCpu = cpu > limits.minCpuMillis && allowed('reduce-cpu');
    const canMem = mem > limits.minMemoryBytes && allowed('reduce-mem');
    const order: ActionType[] = cpuShare >= memShare ? ['reduce-cpu', 'reduce-mem'] : ['reduce-mem', 'reduce-cpu'];
    return order.find((a) => (a === 'reduce-cpu' ? canCpu : canMem)) ?? 'noop';
  },
};

const BUILTIN: Record<string, Policy> = {
  noop: noopPolicy,
  random: randomPolicy,
  heuristic: heuristicPolicy,
  blind: blindPolicy,
  'bump-cpu': bumpCpuPolicy,
  'bump-mem': bumpMemPolicy,
  'scale-up': scaleUpPolicy,
};

const extra = new Map<string, (params: Record<string, string>) => Policy>();

/** Register a policy factory (learned and external policies plug in here). */
export function registerPolicy(name: string, factory: (params: Record<string, string>) => Policy): void {
  extra.set(name, factory);
}

export function policyNames(): string[] {
  return [...Object.keys(BUILTIN), ...extra.keys()];
}

export function getPolicy(name: string, params: Record<string, string> = {}): Policy {
  const key = name.trim().toLowerCase().replace(/_/g, '-');
  const p = BUILTIN[key === 'scale-replicas' ? 'scale-up' : key];
  if (p) return p;
  const f = extra.get(key);
  if (f) return f(params);
  throw new RangeError(`unknown policy "${name}" (available: ${policyNames().join(', ')})`);
}

export function observationKey(o: Observation): string {
  return `${o.ready}/${o.pending}/${o.total}`;
}
