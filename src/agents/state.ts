// The discrete state the tabular learners see. It is built from relations (below / at / above the target, fits the
// largest node or not), never from absolute sizes or the scenario's name, so what is learned on one scenario
// applies to any other workload, target and node pool.
import type { Observation } from '../arena/observation.js';
import type { PolicyContext } from '../arena/policies.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';

export type Relation = 'lt' | 'eq' | 'gt';

export interface DiscreteState {
  /** ready pods vs the target */
  ready: Relation;
  /** any pod Pending */
  pending: boolean;
  /** all pods (ready, pending and neither) vs the target */
  total: Relation;
  /** the CPU request fits the largest node's allocatable */
  cpuFits: boolean;
  /** the memory request fits the largest node's allocatable */
  memFits: boolean;
}

/** The feature names, in key order; written into saved tables so a table built with other features is refused. */
export const STATE_FEATURES = ['ready', 'pending', 'total', 'cpuFits', 'memFits'] as const;
export const STATE_COUNT = 3 * 2 * 3 * 2 * 2;

export function relation(a: number, b: number): Relation {
  return a < b ? 'lt' : a > b ? 'gt' : 'eq';
}

export function observationState(obs: Observation, target: number, cpuFits: boolean, memFits: boolean): DiscreteState {
  return { ready: relation(obs.ready, target), pending: obs.pending > 0, total: relation(obs.total, target), cpuFits, memFits };
}

export function discretize(ctx: Pick<PolicyContext, 'obs' | 'target' | 'resources' | 'largestNode'>): DiscreteState {
  const cpuFits = cpuMillis(ctx.resources.cpu) <= ctx.largestNode.cpuMillis;
  const memFits = quantityUnits(ctx.resources.memory) <= ctx.largestNode.memoryBytes;
  return observationState(ctx.obs, ctx.target, cpuFits, memFits);
}

/** A readable key, e.g. "ready=lt pending=yes total=eq cpu=fits mem=over". */
export function stateKey(s: DiscreteState): string {
  return `ready=${s.ready} pending=${s.pending ? 'yes' : 'no'} total=${s.total} cpu=${s.cpuFits ? 'fits' : 'over'} mem=${s.memFits ? 'fits' : 'over'}`;
}

const KEY_RE = /^ready=(lt|eq|gt) pending=(yes|no) total=(lt|eq|gt) cpu=(fits|over) mem=(fits|over)$/;

export function isStateKey(k: string): boolean {
  return KEY_RE.test(k);
}

export function allStateKeys(): string[] {
  const rel: Relation[] = ['lt', 'eq', 'gt'];
  const out: string[] = [];
  for (const ready of rel) for (const pending of [false, true]) for (const total of rel) for (const cpuFits of [true, false]) for (const memFits of [true, false]) out.push(stateKey({ ready, pending, total, cpuFits, memFits }));
  return out;
}
