// The predecessor's ε-greedy agent: a stateless multi-armed bandit over the seven actions. It ignores what it
// observes; with probability ε it picks uniformly, otherwise the action with the best mean reward so far (ties at
// random). Kept for completeness and comparison: without state it cannot tell "reduce CPU" situations from
// "scale up" ones, so it learns one favourite action.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ACTIONS, actionIndex, type ActionType } from '../arena/actions.js';
import type { Policy, PolicyContext, Transition } from '../arena/policies.js';
import { randomInt } from '../util/rng.js';
import { ParamReader, type Params } from './params.js';

/** The predecessor's checkpoint shape: {n_actions, epsilon, counts, values, reward_history}. */
export interface EpsilonGreedyJson {
  n_actions: number;
  epsilon: number;
  counts: number[];
  values: number[];
  reward_history: number[];
}

/** reward_history keeps the latest this many rewards (the predecessor's grew without bound). */
export const REWARD_HISTORY_LIMIT = 1000;

export class EpsilonGreedyPolicy implements Policy {
  readonly name = 'epsilon-greedy';
  counts: number[];
  values: number[];
  rewardHistory: number[] = [];

  constructor(
    public epsilon = 0.1,
    public frozen = false,
  ) {
    if (!(epsilon >= 0 && epsilon <= 1))
      throw new RangeError(`epsilon-greedy: epsilon must be in [0, 1], got ${epsilon}`);
    this.counts = new Array<number>(ACTIONS.length).fill(0);
    this.values = new Array<number>(ACTIONS.length).fill(0);
  }

  decide(ctx: PolicyContext): ActionType {
    // Actions blocked on this trace are never picked again (noop never is blocked).
    const open = (i: number) => !ctx.blocked?.includes(ACTIONS[i]!);
    const allowed = ACTIONS.flatMap((_, i) => (open(i) ? [i] : []));
    if (this.epsilon > 0 && ctx.rng() < this.epsilon) return ACTIONS[allowed[randomInt(ctx.rng, allowed.length)]!]!;
    const best = Math.max(...this.values.filter((_, i) => open(i)));
    const ties = this.values.flatMap((v, i) => (v >= best - 1e-12 && open(i) ? [i] : []));
    return ACTIONS[ties[randomInt(ctx.rng, ties.length)]!]!;
  }

  learn(t: Transition): void {
    if (this.frozen) return;
    const a = actionIndex(t.action);
    this.counts[a] = this.counts[a]! + 1;
    this.values[a] = this.values[a]! + (t.reward - this.values[a]!) / this.counts[a]!;
    this.rewardHistory.push(t.reward);
    if (this.rewardHistory.length > REWARD_HISTORY_LIMIT)
      this.rewardHistory.splice(0, this.rewardHistory.length - REWARD_HISTORY_LIMIT);
  }

  toJSON(): EpsilonGreedyJson {
    return {
      n_actions: ACTIONS.length,
      epsilon: this.epsilon,
      counts: [...this.counts],
      values: [...this.values],
      reward_history: [...this.rewardHistory],
    };
  }

  static fromJSON(json: unknown, epsilon?: number, frozen = false): EpsilonGreedyPolicy {
    const j = json as Partial<EpsilonGreedyJson> | null;
    const n = ACTIONS.length;
    const okArray = (a: unknown) =>
      Array.isArray(a) && a.length === n && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (typeof j !== 'object' || j === null || j.n_actions !== n || !okArray(j.counts) || !okArray(j.values)) {
      throw new RangeError(
        `not an epsilon-greedy checkpoint: expected {n_actions: ${n}, epsilon, counts[${n}], values[${n}], reward_history}`,
      );
    }
    const p = new EpsilonGreedyPolicy(epsilon ?? (typeof j.epsilon === 'number' ? j.epsilon : 0.1), frozen);
    p.counts = [...j.counts!];
    p.values = [...j.values!];
    p.rewardHistory = Array.isArray(j.reward_history)
      ? j.reward_history.filter((x): x is number => typeof x === 'number').slice(-REWARD_HISTORY_LIMIT)
      : [];
    return p;
  }
}

export function saveEpsilonGreedy(path: string, p: EpsilonGreedyPolicy): void {
  writeFileAtomic(path, `${JSON.stringify(p.toJSON())}\n`);
}

export function loadEpsilonGreedy(path: string, epsilon?: number, frozen = false): EpsilonGreedyPolicy {
  try {
    return EpsilonGreedyPolicy.fromJSON(JSON.parse(readFileSync(path, 'utf8')), epsilon, frozen);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new RangeError(`${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Parameters: epsilon (default 0.1, or 0 with a loaded model), model (a checkpoint file), frozen. */
export function epsilonGreedyFromParams(params: Params): EpsilonGreedyPolicy {
  const r = new ParamReader('epsilon-greedy', params);
  r.only(['epsilon', 'model', 'frozen']);
  const model = r.str('model');
  const frozen = r.bool('frozen', false);
  if (model) return loadEpsilonGreedy(model, r.has('epsilon') ? r.num('epsilon', 0, 0, 1) : 0, frozen);
  return new EpsilonGreedyPolicy(r.num('epsilon', 0.1, 0, 1), frozen);
}
