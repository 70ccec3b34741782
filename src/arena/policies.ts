// Policies pick one action from what they observe. Every random choice uses ctx.rng, seeded from (seed, step),
// so an episode replays identically and a restarted operator picks the same action again.
import { cpuMillis, quantityUnits } from '../trace/quantity.js';
import { ACTIONS, type ActionSettings, type ActionType } from './actions.js';
import { atTarget, type Observation, type WorkloadResources } from './observation.js';
import { resolveLimits } from './safeguards.js';
import { randomInt } from '../util/rng.js';

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

const constant = (name: string, action: ActionType): Policy => ({ name, decide: () => action });

export const noopPolicy = constant('noop', 'noop');
export const bumpCpuPolicy = constant('bump-cpu', 'bump-cpu');
export const bumpMemPolicy = constant('bump-mem', 'bump-mem');
export const scaleUpPolicy = constant('scale-up', 'scale-up');

export const randomPolicy: Policy = { name: 'random', decide: (ctx) => ACTIONS[randomInt(ctx.rng, ACTIONS.length)]! };

/**
 * Goes the right way: requests no node can hold are reduced, missing replicas added, surplus removed,
 * and a workload at target is left alone. (The predecessor bumped CPU when pods were Pending.)
 */
export const heuristicPolicy: Policy = {
  name: 'heuristic',
  decide(ctx) {
    const { obs, target, resources, largestNode, settings } = ctx;
    if (atTarget(obs, target)) return 'noop';
    const limits = resolveLimits(settings.safeguards);
    const cpu = cpuMillis(resources.cpu);
    const mem = quantityUnits(resources.memory);
    const canReduceCpu = cpu - cpuMillis(settings.steps.cpu) >= limits.minCpuMillis;
    const canReduceMem = mem - quantityUnits(settings.steps.memory) >= limits.minMemoryBytes;

    // A pod that fits no node: shrink what does not fit.
    if (cpu > largestNode.cpuMillis && canReduceCpu) return 'reduce-cpu';
    if (mem > largestNode.memoryBytes && canReduceMem) return 'reduce-mem';

    const step = settings.steps.replicas;
    if (resources.replicas > target && resources.replicas - step >= limits.minReplicas) return 'scale-down';
    if (resources.replicas < target && resources.replicas + step <= limits.maxReplicas) return 'scale-up';

    if (obs.pending > 0) {
      // Pods fit a node but not all of them fit the cluster: shrink the resource that packs worst, if it can shrink.
      const perNode = Math.max(1, Math.ceil(target / Math.max(1, ctx.nodeCount)));
      const cpuShare = (Number(cpu) * perNode) / Number(largestNode.cpuMillis || 1n);
      const memShare = (Number(mem) * perNode) / Number(largestNode.memoryBytes || 1n);
      const order: ActionType[] = cpuShare >= memShare ? ['reduce-cpu', 'reduce-mem'] : ['reduce-mem', 'reduce-cpu'];
      for (const a of order) {
        const share = a === 'reduce-cpu' ? cpuShare : memShare;
        const can = a === 'reduce-cpu' ? canReduceCpu : canReduceMem;
        if (share > 1 && can) return a;
      }
      if (cpuShare >= memShare ? canReduceCpu : canReduceMem) return order[0]!;
    }
    // Replicas already match but the observation lags (e.g. pods not Ready yet): wait.
    return 'noop';
  },
};

const BUILTIN: Record<string, Policy> = {
  noop: noopPolicy,
  random: randomPolicy,
  heuristic: heuristicPolicy,
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
