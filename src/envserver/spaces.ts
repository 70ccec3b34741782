// The env's Gymnasium spaces and the observation vector: a Box of float32 with fixed bounds that every observation
// stays inside (each component is clipped into its bounds and rounded to float32), and Discrete(7) for the actions.
// The predecessor's vector could go negative under a declared low of 0; here the bounds are a promise.
import { ACTIONS } from '../arena/actions.js';
import type { NodeCapacity } from '../arena/policies.js';
import { atTarget, type Observation, type WorkloadResources } from '../arena/observation.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';

/** Counts are divided by the target (at least 1) and clipped to this many targets. */
export const RATIO_MAX = 4;
/** Requests are divided by the largest node's allocatable and clipped to this many nodes. */
export const NODE_FRACTION_MAX = 4;

export interface ObservationComponent {
  name: string;
  low: number;
  high: number;
  description: string;
}

/** Index order is part of the API: clients index the vector by position. */
export const OBSERVATION_COMPONENTS: readonly ObservationComponent[] = [
  { name: 'ready_ratio', low: 0, high: RATIO_MAX, description: 'ready pods / max(1, target)' },
  { name: 'pending_ratio', low: 0, high: RATIO_MAX, description: 'pending pods / max(1, target)' },
  { name: 'total_ratio', low: 0, high: RATIO_MAX, description: 'pods of the workload / max(1, target)' },
  { name: 'replicas_ratio', low: 0, high: RATIO_MAX, description: 'spec.replicas / max(1, target)' },
  {
    name: 'cpu_node_fraction',
    low: 0,
    high: NODE_FRACTION_MAX,
    description: "the container's CPU request / the largest node's allocatable CPU (above 1: fits no node)",
  },
  {
    name: 'memory_node_fraction',
    low: 0,
    high: NODE_FRACTION_MAX,
    description: "the container's memory request / the largest node's allocatable memory (above 1: fits no node)",
  },
  { name: 'at_target', low: 0, high: 1, description: '1 when ready = total = target and nothing is pending, else 0' },
  { name: 'progress', low: 0, high: 1, description: 'step / maxSteps' },
  { name: 'last_blocked', low: 0, high: 1, description: '1 when a safeguard blocked the last action, else 0' },
];

export const OBSERVATION_SIZE = OBSERVATION_COMPONENTS.length;

/** Appended for envs created with usage (README "Usage and right-sizing"); absent otherwise, so the Box stays 9 wide. */
export const USAGE_COMPONENTS: readonly ObservationComponent[] = [
  { name: 'oom_kills_ratio', low: 0, high: RATIO_MAX, description: 'OOM kills in the step window / max(1, target)' },
  {
    name: 'throttling',
    low: 0,
    high: 1,
    description: 'mean throttled CPU fraction of running pods over the step window',
  },
  {
    name: 'cpu_usage_ratio',
    low: 0,
    high: RATIO_MAX,
    description: "per-pod CPU usage p95 / the container's CPU request (below 1: slack)",
  },
  {
    name: 'memory_usage_ratio',
    low: 0,
    high: RATIO_MAX,
    description: "per-pod memory working set p95 / the container's memory request (above 1: OOM kills)",
  },
];

export function components(withUsage: boolean): readonly ObservationComponent[] {
  return withUsage ? [...OBSERVATION_COMPONENTS, ...USAGE_COMPONENTS] : OBSERVATION_COMPONENTS;
}

export interface BoxSpace {
  type: 'Box';
  shape: [number];
  dtype: 'float32';
  low: number[];
  high: number[];
  names: string[];
  descriptions: string[];
}

export interface DiscreteSpace {
  type: 'Discrete';
  n: number;
  start: 0;
  actions: string[];
}

export interface Spaces {
  observation_space: BoxSpace;
  action_space: DiscreteSpace;
}

export function spaces(withUsage = false): Spaces {
  const cs = components(withUsage);
  return {
    observation_space: {
      type: 'Box',
      shape: [cs.length],
      dtype: 'float32',
      low: cs.map((c) => c.low),
      high: cs.map((c) => c.high),
      names: cs.map((c) => c.name),
      descriptions: cs.map((c) => c.description),
    },
    action_space: { type: 'Discrete', n: ACTIONS.length, start: 0, actions: [...ACTIONS] },
  };
}

/** Clip into [lo, hi] as a float32; NaN becomes lo, so nothing ever leaves the bounds (which are float32-exact). */
export function clip32(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return lo;
  const v = Math.fround(Math.min(hi, Math.max(lo, x)));
  // Rounding to float32 can only cross a bound that is not itself a float32; ours are small integers.
  return v < lo ? lo : v > hi ? hi : v;
}

export interface VectorInput {
  obs: Observation;
  resources: WorkloadResources;
  target: number;
  largestNode: NodeCapacity;
  step: number;
  maxSteps: number;
  lastBlocked: boolean;
  /** Append the usage components (an env created with usage). */
  withUsage?: boolean;
}

function ratio(n: bigint, d: bigint): number {
  if (d <= 0n) return n > 0n ? Number.POSITIVE_INFINITY : 0;
  return Number(n) / Number(d);
}

/** The observation vector (plain numbers, each a float32 value inside its component's bounds). */
export function observationVector(v: VectorInput): number[] {
  const t = Math.max(1, v.target);
  const raw = [
    v.obs.ready / t,
    v.obs.pending / t,
    v.obs.total / t,
    v.resources.replicas / t,
    ratio(cpuMillis(v.resources.cpu), v.largestNode.cpuMillis),
    ratio(quantityUnits(v.resources.memory), v.largestNode.memoryBytes),
    atTarget(v.obs, v.target) ? 1 : 0,
    v.maxSteps > 0 ? v.step / v.maxSteps : 1,
    v.lastBlocked ? 1 : 0,
  ];
  if (v.withUsage) {
    const u = v.obs.usage;
    raw.push(
      (v.obs.oomKills ?? 0) / t,
      v.obs.throttling ?? 0,
      u && u.cpu.request > 0 ? u.cpu.p95 / u.cpu.request : 0,
      u && u.memory.request > 0 ? u.memory.p95 / u.memory.request : 0,
    );
  }
  const cs = components(v.withUsage === true);
  return raw.map((x, i) => clip32(x, cs[i]!.low, cs[i]!.high));
}

/** True when every component is a finite number inside its bounds. */
export function inBounds(vec: readonly number[], withUsage = false): boolean {
  const cs = components(withUsage);
  return (
    vec.length === cs.length &&
    vec.every((x, i) => Number.isFinite(x) && x >= cs[i]!.low && x <= cs[i]!.high && Math.fround(x) === x)
  );
}
