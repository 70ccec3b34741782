// The benchmark harness: every policy × scenario × episode, each episode on a fresh copy of the scenario's trace,
// with per-step metrics and aggregates.
//
// Attribution. The predecessor matched per-step agent metadata by a run-wide list index that restarted per episode
// while the list did not, so from the second scenario on tool calls and latency landed on the wrong steps. Here
// every number comes from the episode that produced it: step metrics are the arena's own StepRecords for that
// episode, and per-decision metadata (decide latency, what the policy reports about the call) is captured by a
// wrapper created for that one episode and keyed by the step number the arena passed to decide(). A step is solved
// when the observation *after* its action is at the target; an episode that starts at the target is solved in 0
// steps and its policy is never consulted.
import { runEpisode, type EpisodeSpec, type StepRecord } from '../arena/episode.js';
import { ACTIONS, type ActionType } from '../arena/actions.js';
import type { Observation, WorkloadResources } from '../arena/observation.js';
import type { Policy, PolicyContext } from '../arena/policies.js';
import { mixSeed } from '../util/rng.js';
import type { Backend } from '../arena/backend.js';
import type { BenchScenario, ProblemType, ScenarioSource } from './scenarios.js';
import { ci95HalfWidth, groupMeans, mean, sampleSd } from './stats.js';

export interface PolicyEntry {
  /** name in reports */
  name: string;
  /**
   * A policy for one episode (called once per episode, so no state leaks between episodes unless shared on purpose).
   * `runSeed` is the bench seed the episode belongs to: a learned policy trained once per seed picks its own.
   */
  make(runSeed: number): Policy;
}

export interface StepMetrics {
  step: number;
  action: ActionType;
  actionIndex: number;
  changed: boolean;
  blocked: boolean;
  blockedReason?: string;
  observationBefore: Observation;
  observation: Observation;
  resources: WorkloadResources;
  reward: number;
  solved: boolean;
  /** time the policy took to decide this step */
  decideMs: number;
  /** what the policy reported about this decision (external: attempts, latency, error) */
  info?: unknown;
}

export interface EpisodeRecord {
  policy: string;
  scenario: string;
  name: string;
  source: ScenarioSource;
  problemType: ProblemType;
  target: number;
  /** 1-based episode number within (policy, scenario) */
  episode: number;
  /** the episode's own seed (from the run seed, the scenario and the episode number) */
  seed: number;
  /** the bench seed this episode belongs to (--seed S --seeds N runs S, S+1, …, S+N-1) */
  runSeed: number;
  /** the official split the scenario came from, if any */
  split?: string;
  solved: boolean;
  /** at the target before any action (the policy was never asked) */
  initiallySolved: boolean;
  stepsToSolve: number | null;
  steps: number;
  return: number;
  blockedActions: number;
  actionCounts: Partial<Record<ActionType, number>>;
  initial: { observation: Observation | null; resources: WorkloadResources | null };
  final: { observation: Observation | null; resources: WorkloadResources | null };
  seconds: number;
  error?: string;
  history: StepMetrics[];
}

export interface Aggregate {
  episodes: number;
  errors: number;
  solved: number;
  solveRate: number;
  /** over solved episodes; null when none was solved */
  meanStepsToSolve: number | null;
  /** steps executed, over every episode */
  meanSteps: number;
  meanReturn: number;
  /** half-width of the 95% CI of meanReturn: Student's t over per-scenario mean returns (src/bench/stats.ts); null below 2 scenarios */
  ci95: number | null;
  /** scenarios the episodes cover (the n of ci95) */
  scenarios: number;
  /** bench seeds the episodes cover */
  seeds: number;
  /** sample standard deviation of the per-seed mean returns (0 with one seed) */
  seedSd: number;
  /** the official split of every episode, null when none or mixed */
  split: string | null;
  blockedActions: number;
  meanBlocked: number;
}

export interface BenchSummary {
  byPolicy: Record<string, Aggregate>;
  byPolicyAndProblem: Record<string, Record<string, Aggregate>>;
  byPolicyAndScenario: Record<string, Record<string, Aggregate>>;
  /** policies best first: solve rate, then mean steps to solve (fewer first), then mean return */
  ranking: string[];
}

export interface BenchOptions {
  policies: PolicyEntry[];
  scenarios: BenchScenario[];
  episodesPerScenario: number;
  seed: number;
  /** run every policy over this many bench seeds: seed, seed+1, … (default 1) */
  seeds?: number;
  backend: Backend;
  /** Episode settings for a scenario and an episode seed. */
  spec(s: BenchScenario, seed: number): EpisodeSpec;
  onEpisode?(e: EpisodeRecord, done: number, total: number): void;
}

/**
 * The seed of episode k of a scenario. It does not depend on the policy, so every policy meets the same episodes
 * (paired comparison), and it does not depend on which other scenarios were selected.
 */
export function episodeSeed(seed: number, scenarioId: string, episode: number): number {
  let h = 0;
  for (const c of scenarioId) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return mixSeed(seed, h, episode);
}

interface DecisionMeta {
  decideMs: number;
  info?: unknown;
}

/** Wrap a policy for one episode, recording each decision's metadata under the step number it was asked for. */
function instrument(policy: Policy, meta: Map<number, DecisionMeta>): Policy {
  const withInfo = policy as Policy & { takeStepInfo?: () => unknown };
  return {
    name: policy.name,
    async decide(ctx: PolicyContext) {
      const t0 = performance.now();
      try {
        return await policy.decide(ctx);
      } finally {
        const info = withInfo.takeStepInfo?.();
        meta.set(ctx.step, { decideMs: performance.now() - t0, ...(info !== undefined ? { info } : {}) });
      }
    },
    ...(policy.learn ? { learn: policy.learn.bind(policy) } : {}),
  };
}

function stepMetrics(r: StepRecord, meta: DecisionMeta | undefined): StepMetrics {
  return {
    step: r.step,
    action: r.action,
    actionIndex: r.actionIndex,
    changed: r.changed,
    blocked: r.blocked,
    ...(r.blockedReason !== undefined ? { blockedReason: r.blockedReason } : {}),
    observationBefore: r.observationBefore,
    observation: r.observation,
    resources: r.resources,
    reward: r.reward,
    solved: r.solved,
    decideMs: meta?.decideMs ?? 0,
    ...(meta?.info !== undefined ? { info: meta.info } : {}),
  };
}

/** One episode of one policy on one scenario. Failures are recorded (with the steps done so far), never thrown. */
export async function runBenchEpisode(
  entry: PolicyEntry,
  s: BenchScenario,
  episode: number,
  seed: number,
  backend: Backend,
  spec: EpisodeSpec,
  runSeed = seed,
): Promise<EpisodeRecord> {
  const meta = new Map<number, DecisionMeta>();
  const steps: StepRecord[] = [];
  const started = performance.now();
  const base = {
    policy: entry.name,
    scenario: s.id,
    name: s.name,
    source: s.source,
    problemType: s.problemType,
    target: spec.target,
    episode,
    seed,
    runSeed,
    ...(s.split ? { split: s.split } : {}),
  };
  try {
    const policy = instrument(entry.make(runSeed), meta);
    const r = await runEpisode(spec, s.trace(), policy, backend, (rec) => steps.push(rec));
    const history = r.history.map((h) => stepMetrics(h, meta.get(h.step)));
    return {
      ...base,
      solved: r.solved,
      initiallySolved: r.stepsToSolve === 0,
      stepsToSolve: r.stepsToSolve,
      steps: r.steps,
      return: r.totalReward,
      blockedActions: history.filter((h) => h.blocked).length,
      actionCounts: countActions(history),
      initial: { observation: r.initial, resources: r.initialResources },
      final: {
        observation: history.length ? history[history.length - 1]!.observation : r.initial,
        resources: r.finalResources,
      },
      seconds: (performance.now() - started) / 1000,
      history,
    };
  } catch (e) {
    const history = steps.map((h) => stepMetrics(h, meta.get(h.step)));
    const last = history[history.length - 1];
    return {
      ...base,
      solved: false,
      initiallySolved: false,
      stepsToSolve: null,
      steps: history.length,
      return: history.reduce((a, h) => a + h.reward, 0),
      blockedActions: history.filter((h) => h.blocked).length,
      actionCounts: countActions(history),
      initial: { observation: history[0]?.observationBefore ?? null, resources: null },
      final: { observation: last?.observation ?? null, resources: last?.resources ?? null },
      seconds: (performance.now() - started) / 1000,
      error: e instanceof Error ? e.message : String(e),
      history,
    };
  }
}

function countActions(history: StepMetrics[]): Partial<Record<ActionType, number>> {
  const out: Partial<Record<ActionType, number>> = {};
  for (const a of ACTIONS) {
    const n = history.filter((h) => h.action === a).length;
    if (n) out[a] = n;
  }
  return out;
}

export async function runBench(o: BenchOptions): Promise<EpisodeRecord[]> {
  if (!(o.episodesPerScenario >= 1)) throw new RangeError('bench: episodes per scenario must be at least 1');
  const seeds = o.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1))
    throw new RangeError('bench: seeds must be a whole number of at least 1');
  const total = o.policies.length * o.scenarios.length * o.episodesPerScenario * seeds;
  const out: EpisodeRecord[] = [];
  for (let r = 0; r < seeds; r++) {
    const runSeed = o.seed + r;
    for (const p of o.policies) {
      for (const s of o.scenarios) {
        for (let k = 1; k <= o.episodesPerScenario; k++) {
          const seed = episodeSeed(runSeed, s.id, k);
          const rec = await runBenchEpisode(p, s, k, seed, o.backend, o.spec(s, seed), runSeed);
          out.push(rec);
          o.onEpisode?.(rec, out.length, total);
        }
      }
    }
  }
  return out;
}

export function aggregate(eps: EpisodeRecord[]): Aggregate {
  const solved = eps.filter((e) => e.solved);
  const blocked = eps.reduce((a, e) => a + e.blockedActions, 0);
  const splits = new Set(eps.map((e) => e.split ?? null));
  return {
    episodes: eps.length,
    errors: eps.filter((e) => e.error !== undefined).length,
    solved: solved.length,
    solveRate: eps.length ? solved.length / eps.length : 0,
    meanStepsToSolve: solved.length ? mean(solved.map((e) => e.stepsToSolve ?? 0)) : null,
    meanSteps: mean(eps.map((e) => e.steps)),
    meanReturn: mean(eps.map((e) => e.return)),
    ci95: ci95HalfWidth(
      groupMeans(
        eps,
        (e) => e.scenario,
        (e) => e.return,
      ),
    ),
    scenarios: new Set(eps.map((e) => e.scenario)).size,
    seeds: new Set(eps.map((e) => e.runSeed)).size,
    seedSd: sampleSd(
      groupMeans(
        eps,
        (e) => String(e.runSeed),
        (e) => e.return,
      ),
    ),
    split: splits.size === 1 ? [...splits][0]! : null,
    blockedActions: blocked,
    meanBlocked: eps.length ? blocked / eps.length : 0,
  };
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

export function summarize(eps: EpisodeRecord[]): BenchSummary {
  const byPolicy: Record<string, Aggregate> = {};
  const byPolicyAndProblem: Record<string, Record<string, Aggregate>> = {};
  const byPolicyAndScenario: Record<string, Record<string, Aggregate>> = {};
  for (const [p, list] of groupBy(eps, (e) => e.policy)) {
    byPolicy[p] = aggregate(list);
    byPolicyAndProblem[p] = Object.fromEntries(
      [...groupBy(list, (e) => e.problemType)].map(([k, v]) => [k, aggregate(v)]),
    );
    byPolicyAndScenario[p] = Object.fromEntries(
      [...groupBy(list, (e) => e.scenario)].map(([k, v]) => [k, aggregate(v)]),
    );
  }
  const ranking = Object.keys(byPolicy).sort((a, b) => {
    const x = byPolicy[a]!;
    const y = byPolicy[b]!;
    if (y.solveRate !== x.solveRate) return y.solveRate - x.solveRate;
    const sx = x.meanStepsToSolve ?? Infinity;
    const sy = y.meanStepsToSolve ?? Infinity;
    if (sx !== sy) return sx - sy;
    return y.meanReturn - x.meanReturn;
  });
  return { byPolicy, byPolicyAndProblem, byPolicyAndScenario, ranking };
}
