// Training a learning policy: many episodes over a set of scenarios, each on a fresh copy of its trace.
// Scenarios come in a seeded shuffled order, reshuffled every pass, so each pass covers all of them once.
import type { NodePool } from '../trace/nodepool.js';
import { runEpisode, type EpisodeSpec } from '../arena/episode.js';
import type { Policy } from '../arena/policies.js';
import { mixSeed, mulberry32, randomInt } from '../util/rng.js';
import type { Backend } from '../arena/backend.js';
import type { Trace } from '../trace/trace.js';
import type { WorkloadRef } from '../trace/workload.js';

export interface TrainingScenario {
  name: string;
  target: number;
  workload: WorkloadRef;
  /** The scenario's own node pool (default: the episode flags'). */
  nodePool?: NodePool;
  /** A fresh, unshared copy of the starting trace (episodes change traces in place). */
  trace(): Trace;
}

export interface CurvePoint {
  episode: number;
  scenario: string;
  seed: number;
  return: number;
  solved: boolean;
  steps: number;
  stepsToSolve: number | null;
  /** exploration rate after the episode, for policies that have one */
  epsilon?: number;
}

export interface TrainOptions {
  policy: Policy;
  scenarios: TrainingScenario[];
  episodes: number;
  seed: number;
  backend: Backend;
  /** The episode settings for a scenario and episode seed. */
  spec(s: TrainingScenario, seed: number): EpisodeSpec;
  onEpisode?(p: CurvePoint): void;
}

/** A seeded permutation of 0..n-1. */
export function shuffled(n: number, seed: number): number[] {
  const rng = mulberry32(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export async function train(o: TrainOptions): Promise<CurvePoint[]> {
  if (o.scenarios.length === 0) throw new RangeError('train: no scenarios to train on');
  if (!o.policy.learn) throw new RangeError(`train: policy ${o.policy.name} does not learn`);
  const curve: CurvePoint[] = [];
  let order: number[] = [];
  for (let ep = 0; ep < o.episodes; ep++) {
    const pass = Math.floor(ep / o.scenarios.length);
    if (ep % o.scenarios.length === 0) order = shuffled(o.scenarios.length, mixSeed(o.seed, 0x7a1, pass));
    const s = o.scenarios[order[ep % o.scenarios.length]!]!;
    const seed = mixSeed(o.seed, ep);
    const r = await runEpisode(o.spec(s, seed), s.trace(), o.policy, o.backend);
    const eps =
      (o.policy as { hp?: { epsilon?: number }; epsilon?: number }).hp?.epsilon ??
      (o.policy as { epsilon?: number }).epsilon;
    const p: CurvePoint = {
      episode: ep + 1,
      scenario: s.name,
      seed,
      return: r.totalReward,
      solved: r.solved,
      steps: r.steps,
      stepsToSolve: r.stepsToSolve,
      ...(typeof eps === 'number' ? { epsilon: eps } : {}),
    };
    curve.push(p);
    o.onEpisode?.(p);
  }
  return curve;
}

/** Trailing moving average over `window` points (shorter at the start). */
export function movingAverage(xs: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i]!;
    if (i >= window) sum -= xs[i - window]!;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}
