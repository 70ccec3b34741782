// sim-arena train: train a learning policy (q-table, epsilon-greedy) on the embedded simulator over the canonical
// scenarios (and optionally a generated corpus); write the model and a learning curve.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { EpisodeSpec } from '../arena/episode.js';
import type { Policy } from '../arena/policies.js';
import { registerAgents } from '../agents/index.js';
import { EpsilonGreedyPolicy, epsilonGreedyFromParams, saveEpsilonGreedy } from '../agents/epsilon-greedy.js';
import { QTablePolicy, qTableFromParams, saveQTable } from '../agents/q-table.js';
import { movingAverage, train, type CurvePoint } from '../agents/train.js';
import { runBenchEpisode, type EpisodeRecord } from '../bench/harness.js';
import { generatedScenarios, loadRegistry, selectScenarios, type BenchScenario } from '../bench/scenarios.js';
import { learningCurveSvg } from '../bench/svg.js';
import { createBackend, parseBackendName } from '../sim/index.js';
import type { Backend } from '../arena/backend.js';
import { bool, int, optStr, parse, str, type Flags } from './args.js';
import {
  EPISODE_OPTIONS,
  EPISODE_USAGE,
  episodeFromFlags,
  policyParams,
  usageSourceFromFlags,
} from './episode-flags.js';
import { UsageError } from './errors.js';
import { fixed, progress, table } from './format.js';
import { checkOutputPaths, writeJson } from './load.js';

export const LEARNING_POLICIES = ['q-table', 'epsilon-greedy'] as const;

const USAGE = `usage: sim-arena train --episodes N [options]
  Trains on the embedded simulator (no cluster) and writes the model as JSON.
  --policy P             q-table (default) or epsilon-greedy
  --episodes N           training episodes (required)
  --scenarios LIST       all (the 9 canonical scenarios; default), canonical, legacy, or names/ids, comma-separated
  --generated N          also train on N scenarios of the seeded generated corpus (seed --seed)
  --seed S               seed for scenario order, exploration and the corpus (default 0)
  --out FILE             write the trained model (default: print a summary only)
  --model FILE           continue from a saved model
  --plot FILE            write the learning curve (return per episode and moving average) as SVG
  --curve FILE           write the learning curve as JSON
  --window N             moving-average window (default: episodes/50, at least 10)
  --legacy DIR           the predecessor's fixtures (for legacy:* scenarios)
  --param K=V            hyperparameters: alpha, gamma, epsilon, epsilonMin, epsilonDecay (q-table); epsilon (epsilon-greedy)
  --quiet                no evaluation table
${EPISODE_USAGE}`;

export const SCENARIO_SET_OPTIONS = {
  scenarios: { type: 'string' },
  generated: { type: 'string' },
  legacy: { type: 'string' },
  seed: { type: 'string' },
} as const;

/** Flags that would give every scenario the same workload or target, which is wrong for a set of scenarios. */
export function rejectPerScenarioFlags(flags: Flags, command: string): void {
  for (const f of ['target', 'workload', 'kind'])
    if (flags[f] !== undefined) throw new UsageError(`${command}: --${f} does not apply, every scenario has its own`);
}

/**
 * Episode settings for one scenario and episode seed, from the shared episode flags. With --usage the file is read
 * against each scenario's trace; --usage-synth synthesizes each episode's load, seeded by the episode seed.
 */
export function specFactory(flags: Flags): (s: BenchScenario, seed: number) => EpisodeSpec {
  episodeFromFlags(flags, {}); // validate the flags once, up front
  const withUsage = usageSourceFromFlags(flags) !== undefined;
  return (s, seed) =>
    episodeFromFlags(
      flags,
      { workload: s.workload, target: s.target, seed, ...(s.nodePool ? { nodePool: s.nodePool } : {}) },
      withUsage ? s.trace() : undefined,
    );
}

/** With --usage FILE, every scenario's workload must have a series in it: checked before any episode runs. */
export function checkUsageCovers(
  flags: Flags,
  scenarios: BenchScenario[],
  spec: (s: BenchScenario, seed: number) => EpisodeSpec,
): void {
  if (usageSourceFromFlags(flags)?.kind !== 'file') return;
  for (const s of scenarios) {
    try {
      spec(s, 0);
    } catch (e) {
      throw new UsageError(
        `--usage ${String(flags.usage)} does not fit scenario ${s.id}: ${(e as Error).message} (for a set of scenarios, --usage-synth PATTERNS synthesizes load for each)`,
      );
    }
  }
}

export function learningPolicy(name: string, params: Record<string, string>): QTablePolicy | EpsilonGreedyPolicy {
  if (name === 'q-table') return qTableFromParams(params);
  if (name === 'epsilon-greedy') return epsilonGreedyFromParams(params);
  throw new UsageError(`--policy ${name} does not learn (train: ${LEARNING_POLICIES.join(', ')})`);
}

export function saveModel(path: string, p: Policy): void {
  if (p instanceof QTablePolicy) saveQTable(path, p);
  else if (p instanceof EpsilonGreedyPolicy) saveEpsilonGreedy(path, p);
  else throw new Error(`cannot save policy ${p.name}`);
}

/** A greedy, non-learning copy for evaluation. */
export function frozenCopy(p: QTablePolicy | EpsilonGreedyPolicy): Policy {
  if (p instanceof QTablePolicy) return QTablePolicy.fromJSON(p.toJSON(), { epsilon: 0 }, { frozen: true });
  return EpsilonGreedyPolicy.fromJSON(p.toJSON(), 0, true);
}

/** A moving-average window that suits the number of episodes. */
export function curveWindow(episodes: number): number {
  return Math.max(10, Math.round(episodes / 50));
}

export function writeCurvePlot(path: string, curve: CurvePoint[], window: number, title: string): void {
  const returns = curve.map((c) => c.return);
  writeFileAtomic(path, learningCurveSvg(returns, movingAverage(returns, window), title, window));
}

export interface TrainRun {
  policy: QTablePolicy | EpsilonGreedyPolicy;
  curve: CurvePoint[];
  scenarios: BenchScenario[];
  seconds: number;
}

export async function trainOn(
  policy: QTablePolicy | EpsilonGreedyPolicy,
  scenarios: BenchScenario[],
  episodes: number,
  seed: number,
  backend: Backend,
  spec: (s: BenchScenario, seed: number) => EpisodeSpec,
  label = 'train',
): Promise<TrainRun> {
  const started = performance.now();
  const curve = await train({
    policy,
    scenarios,
    episodes,
    seed,
    backend,
    spec: (s, sd) => spec(s as BenchScenario, sd),
    onEpisode: (p) => {
      if (p.episode % 10 === 0 || p.episode === episodes) progress(label, p.episode, episodes);
    },
  });
  return { policy, curve, scenarios, seconds: (performance.now() - started) / 1000 };
}

export async function trainCommand(argv: string[]): Promise<number> {
  registerAgents();
  const { flags } = parse(
    argv,
    {
      ...EPISODE_OPTIONS,
      ...SCENARIO_SET_OPTIONS,
      episodes: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      plot: { type: 'string' },
      curve: { type: 'string' },
      window: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    USAGE,
  );
  rejectPerScenarioFlags(flags, 'train');
  const policyName = str(flags, 'policy', 'q-table');
  const episodes = int(flags, 'episodes', undefined, 1, 10_000_000);
  const seed = int(flags, 'seed', 0);
  const window = int(flags, 'window', curveWindow(episodes), 1, 100_000);
  const params = policyParams(flags);
  const model = optStr(flags, 'model');
  if (model) params.model = model;
  if (model && params.epsilon === undefined) {
    // Continue where the model left off: its saved exploration rate (a loaded model otherwise acts greedily).
    const saved = JSON.parse(readFileSync(model, 'utf8')) as {
      hyperparameters?: { epsilon?: unknown };
      epsilon?: unknown;
    };
    const eps = saved.hyperparameters?.epsilon ?? saved.epsilon;
    if (typeof eps === 'number') params.epsilon = String(eps);
  }
  const policy = learningPolicy(policyName, params);

  const legacy = optStr(flags, 'legacy');
  const registry = loadRegistry(legacy ? { legacyDir: legacy } : {});
  const generated = int(flags, 'generated', 0, 0, 1_000_000);
  const scenarios = [
    ...selectScenarios(registry.scenarios, str(flags, 'scenarios', 'all'), ['canonical']),
    ...generatedScenarios(generated, seed),
  ];
  const spec = specFactory(flags);
  checkUsageCovers(flags, scenarios, spec);
  const out = optStr(flags, 'out');
  const plot = optStr(flags, 'plot');
  const curvePath = optStr(flags, 'curve');
  // Every output path is checked before training, so a bad one fails in a second instead of after the run.
  checkOutputPaths({ '--out': out, '--plot': plot, '--curve': curvePath });
  const backend = await createBackend(parseBackendName(str(flags, 'backend', 'embedded')));
  try {
    const run = await trainOn(policy, scenarios, episodes, seed, backend, spec);
    const title = `${policyName}: ${episodes} episodes on ${scenarios.length} scenario(s), seed ${seed}`;
    if (out) saveModel(out, policy);
    if (plot) writeCurvePlot(plot, run.curve, window, title);
    if (curvePath)
      writeJson(curvePath, {
        policy: policyName,
        seed,
        window,
        scenarios: scenarios.map((s) => s.id),
        episodes: run.curve,
      });

    const returns = run.curve.map((c) => c.return);
    const avg = movingAverage(returns, window);
    const lines = [
      `trained ${policyName} for ${episodes} episodes on ${scenarios.length} scenario(s) in ${fixed(run.seconds, 1)} s (backend ${backend.name}, seed ${seed})`,
    ];
    if (returns.length > window)
      lines.push(
        `return: first ${window} episodes average ${fixed(avg[window - 1]!)}, last ${window} average ${fixed(avg[avg.length - 1]!)}`,
      );
    else lines.push(`return: average ${fixed(avg[avg.length - 1]!)} over ${returns.length} episodes`);
    if (policy instanceof QTablePolicy)
      lines.push(
        `table: ${policy.table.size} states visited, ${policy.updates} updates, epsilon now ${fixed(policy.hp.epsilon)}`,
      );
    if (!bool(flags, 'quiet')) {
      // Greedy evaluation, one episode per training scenario (learning off).
      const evals: EpisodeRecord[] = [];
      for (const s of scenarios) {
        const frozen = frozenCopy(policy);
        evals.push(await runBenchEpisode({ name: policyName, make: () => frozen }, s, 1, seed, backend, spec(s, seed)));
      }
      const solved = evals.filter((e) => e.solved).length;
      lines.push(
        '',
        table(
          ['scenario', 'target', 'solved', 'steps', 'return', 'actions'],
          evals.map((e) => [
            e.scenario,
            e.target,
            e.solved ? 'yes' : 'no',
            e.stepsToSolve ?? e.steps,
            fixed(e.return),
            Object.entries(e.actionCounts)
              .map(([a, n]) => `${a}×${n}`)
              .join(' '),
          ]),
        ),
      );
      lines.push('', `greedy evaluation: ${solved}/${evals.length} solved`);
    }
    if (out) lines.push(`wrote ${out}`);
    if (plot) lines.push(`wrote ${plot}`);
    if (curvePath) lines.push(`wrote ${curvePath}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await backend.close?.();
  }
}
