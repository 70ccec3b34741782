// The discrete state the tabular learners see. It is built from relations (below / at / above the target, fits the
// largest node or not, and by how many action steps not), never from absolute sizes or the scenario's name, so what
// is learned on one scenario applies to any other workload, target and node pool.
//
// Why "by how many steps" and not only "fits?": with a yes/no flag, a memory request 32 steps too large is one
// state for 31 consecutive reductions, in which reducing and doing nothing look alike to Q-learning (both come
// back to the same state with the same reward); only the last reduction differs. Bucketing the excess in powers of
// two (1, 2-3, 4-7, 8-15, 16+ steps) makes progress visible every few steps while keeping the table small.
import type { Observation } from '../arena/observation.js';
import type { PolicyContext } from '../arena/policies.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';

export type Relation = 'lt' | 'eq' | 'gt';

/** How a request compares with the largest node: fits, or too large by at least 1, 2, 4, 8 or 16 action steps. */
export type Fit = 'fits' | 'over1' | 'over2' | 'over4' | 'over8' | 'over16';
export const FITS: readonly Fit[] = ['fits', 'over1', 'over2', 'over4', 'over8', 'over16'];

export interface DiscreteState {
  /** ready pods vs the target */
  ready: Relation;
  /** any pod Pending */
  pending: boolean;
  /** all pods (ready, pending and neither) vs the target */
  total: Relation;
  /** the CPU request vs the largest node's allocatable */
  cpu: Fit;
  /** the memory request vs the largest node's allocatable */
  mem: Fit;
}

/** The feature names, in key order; written into saved tables so a table built with other features is refused. */
export const STATE_FEATURES = ['ready', 'pending', 'total', 'cpuFit', 'memFit'] as const;
export const STATE_COUNT = 3 * 2 * 3 * FITS.length * FITS.length;

export function relation(a: number, b: number): Relation {
  return a < b ? 'lt' : a > b ? 'gt' : 'eq';
}

/** `request` against `capacity`, in whole action steps of size `step`. */
export function fitLevel(request: bigint, capacity: bigint, step: bigint): Fit {
  if (request <= capacity) return 'fits';
  const s = step > 0n ? step : 1n;
  const k = (request - capacity + s - 1n) / s;
  if (k >= 16n) return 'over16';
  if (k >= 8n) return 'over8';
  if (k >= 4n) return 'over4';
  if (k >= 2n) return 'over2';
  return 'over1';
}

/** How many action steps each request is above the largest node (0 when it fits), capped at 64. */
export function excessSteps(ctx: Pick<PolicyContext, 'resources' | 'largestNode' | 'settings'>): {
  cpu: number;
  mem: number;
} {
  const k = (request: bigint, capacity: bigint, step: bigint) => {
    if (request <= capacity) return 0;
    const s = step > 0n ? step : 1n;
    const n = (request - capacity + s - 1n) / s;
    return n > 64n ? 64 : Number(n);
  };
  return {
    cpu: k(cpuMillis(ctx.resources.cpu), ctx.largestNode.cpuMillis, cpuMillis(ctx.settings.steps.cpu)),
    mem: k(quantityUnits(ctx.resources.memory), ctx.largestNode.memoryBytes, quantityUnits(ctx.settings.steps.memory)),
  };
}

export function observationState(obs: Observation, target: number, cpu: Fit, mem: Fit): DiscreteState {
  return { ready: relation(obs.ready, target), pending: obs.pending > 0, total: relation(obs.total, target), cpu, mem };
}

export function discretize(
  ctx: Pick<PolicyContext, 'obs' | 'target' | 'resources' | 'largestNode' | 'settings'>,
): DiscreteState {
  const cpu = fitLevel(cpuMillis(ctx.resources.cpu), ctx.largestNode.cpuMillis, cpuMillis(ctx.settings.steps.cpu));
  const mem = fitLevel(
    quantityUnits(ctx.resources.memory),
    ctx.largestNode.memoryBytes,
    quantityUnits(ctx.settings.steps.memory),
  );
  return observationState(ctx.obs, ctx.target, cpu, mem);
}

/** A readable key, e.g. "ready=lt pending=yes total=eq cpu=fits mem=over4". */
export function stateKey(s: DiscreteState): string {
  return `ready=${s.ready} pending=${s.pending ? 'yes' : 'no'} total=${s.total} cpu=${s.cpu} mem=${s.mem}`;
}

const KEY_RE =
  /^ready=(lt|eq|gt) pending=(yes|no) total=(lt|eq|gt) cpu=(fits|over1|over2|over4|over8|over16) mem=(fits|over1|over2|over4|over8|over16)$/;

export function isStateKey(k: string): boolean {
  return KEY_RE.test(k);
}

export function allStateKeys(): string[] {
  const rel: Relation[] = ['lt', 'eq', 'gt'];
  const out: string[] = [];
  for (const ready of rel)
    for (const pending of [false, true])
      for (const total of rel)
        for (const cpu of FITS) for (const mem of FITS) out.push(stateKey({ ready, pending, total, cpu, mem }));
  return out;
}
