// sim-arena bench: policies × scenarios × episodes on one backend; writes report.json, report.md and solve-rate.svg.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { getPolicy, type Policy } from '../arena/policies.js';
import { registerAgents } from '../agents/index.js';
import { loadQTable, QTablePolicy, qTableFromParams, serializeQTable } from '../agents/q-table.js';
import { aggregate, runBench, type PolicyEntry } from '../bench/harness.js';
import { buildReport, leaderboardTable, writeReport, type BenchMeta } from '../bench/report.js';
import {
  canonicalScenarios,
  generatedScenarios,
  loadRegistry,
  selectScenarios,
  splitBenchScenarios,
  type BenchScenario,
} from '../bench/scenarios.js';
import { parseSplit, SPLITS, type SplitName } from '../trace/splits.js';
import { createBackend, parseBackendName } from '../sim/index.js';
import { int, optStr, parse, str, type Flags } from './args.js';
import { EPISODE_OPTIONS, EPISODE_USAGE, usageSourceFromFlags } from './episode-flags.js';
import { describeUsageSource } from '../arena/usage/source.js';
import { UsageError } from './errors.js';
import { fixed, progress } from './format.js';
import {
  checkUsageCovers,
  curveWindow,
  rejectPerScenarioFlags,
  SCENARIO_SET_OPTIONS,
  saveModel,
  specFactory,
  trainOn,
  writeCurvePlot,
} from './train.js';

export const DEFAULT_POLICIES = 'heuristic,blind,random,q-table,vpa-like,noop';

const USAGE = `usage: sim-arena bench --out DIR [options]
  Runs every policy on every scenario, K episodes each (the same K seeds for every policy), and writes
  DIR/report.json (settings, aggregates, every episode and step), DIR/report.md (tables), DIR/solve-rate.svg
  and DIR/command.txt.
  --policies LIST        comma-separated (default ${DEFAULT_POLICIES})
  --split S              an official split: train, val, test or real (README "Evaluation protocol");
                         instead of --scenarios
  --scenarios LIST       all (the predecessor's 12 + our 9 canonical; default), legacy, canonical, generated,
                         or ids/names (legacy:scale-up, canonical:composite, cpu-slight = both)
  --seeds N              run every policy over N seeds: S, S+1, …, S+N-1 (default 1); report.json's aggregates
                         carry ci95, the half-width of the 95% CI of the mean return
  --episodes-per-scenario K   per scenario and seed (default 1 with --split or --seeds, else 5)
  --seed S               (default 0)
  --model FILE           the q-table to evaluate; without it one is trained first, once per seed, on the train
                         split with --split (on the canonical scenarios otherwise; never on legacy ones) and saved
                         as DIR/q-table.json (DIR/q-table-seed-S.json per seed) with its curve
  --train-episodes N     training episodes for that (default 3000)
  --train-generated N    also train on N generated scenarios (default 0)
  --generated N          add N generated scenarios to the registry (pick them with --scenarios generated)
  --legacy DIR           the predecessor's fixtures (default: ../shared/fixtures/legacy-sim-arena, SIM_ARENA_LEGACY_DIR)
  --param POLICY:K=V     a parameter for one policy, e.g. external:url=http://127.0.0.1:8080/act (repeatable)
  --kubeconfig FILE      kwok/simkube backends
${EPISODE_USAGE.split('\n')
  .filter((l) => !/--(workload|kind|target|policy|param) /.test(l))
  .join('\n')}`;

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Per-policy parameters from --param POLICY:K=V. */
export function perPolicyParams(flags: Flags, policies: string[]): Record<string, Record<string, string>> {
  const raw = (flags as Record<string, unknown>).param;
  const list = Array.isArray(raw) ? (raw as string[]) : [];
  const out: Record<string, Record<string, string>> = Object.fromEntries(policies.map((p) => [p, {}]));
  for (const item of list) {
    const m = /^([^:=]+):([^=]+)=(.*)$/s.exec(item);
    if (!m) throw new UsageError(`--param must be POLICY:KEY=VALUE in bench, got "${item}"`);
    const [, policy, key, value] = m as unknown as [string, string, string, string];
    if (!out[policy]) throw new UsageError(`--param ${item}: policy ${policy} is not in --policies`);
    out[policy][key] = value;
  }
  return out;
}

export async function benchCommand(argv: string[]): Promise<number> {
  registerAgents();
  const { flags } = parse(
    argv,
    {
      ...EPISODE_OPTIONS,
      ...SCENARIO_SET_OPTIONS,
      policies: { type: 'string' },
      'episodes-per-scenario': { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      'train-episodes': { type: 'string' },
      'train-generated': { type: 'string' },
      kubeconfig: { type: 'string' },
      split: { type: 'string' },
      seeds: { type: 'string' },
    },
    USAGE,
  );
  rejectPerScenarioFlags(flags, 'bench');
  if (flags.policy !== undefined) throw new UsageError('bench: use --policies (a comma-separated list)');
  const startedAt = new Date();
  const started = performance.now();
  const outDir = str(flags, 'out');
  const seed = int(flags, 'seed', 0);
  const seeds = int(flags, 'seeds', 1, 1, 1000);
  const splitFlag = optStr(flags, 'split');
  if (splitFlag !== undefined && flags.scenarios !== undefined)
    throw new UsageError('bench: give --split or --scenarios, not both');
  if (splitFlag !== undefined && flags.generated !== undefined)
    throw new UsageError('bench: --generated adds to --scenarios; a split has its own generated scenarios');
  let split: SplitName | undefined;
  try {
    split = splitFlag === undefined ? undefined : parseSplit(splitFlag);
  } catch {
    throw new UsageError(`--split must be one of ${SPLITS.join(', ')}, got "${splitFlag}"`);
  }
  const k = int(flags, 'episodes-per-scenario', split || flags.seeds !== undefined ? 1 : 5, 1, 1_000_000);
  const policyNames = [
    ...new Set(
      str(flags, 'policies', DEFAULT_POLICIES)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (policyNames.length === 0) throw new UsageError('--policies is empty');
  const params = perPolicyParams(flags, policyNames);
  const legacy = optStr(flags, 'legacy');
  const registry = split
    ? { scenarios: [] as BenchScenario[], legacyDir: null, notes: [] as string[] }
    : loadRegistry({
        ...(legacy ? { legacyDir: legacy } : {}),
        generated: int(flags, 'generated', 0, 0, 1_000_000),
        generatedSeed: seed,
      });
  const scenarios = split
    ? splitBenchScenarios(split)
    : selectScenarios(registry.scenarios, str(flags, 'scenarios', 'all'));
  const notes = [...registry.notes];
  for (const n of registry.notes) process.stderr.write(`sim-arena bench: ${n}\n`);
  const spec = specFactory(flags);
  checkUsageCovers(flags, scenarios, spec);
  const kubeconfig = optStr(flags, 'kubeconfig');
  const backend = await createBackend(
    parseBackendName(str(flags, 'backend', 'embedded')),
    kubeconfig ? { kubeconfig } : {},
  );
  try {
    // Check every policy can be built before spending time (unknown names, bad parameters).
    const entries: PolicyEntry[] = [];
    let qTable: BenchMeta['qTable'];
    for (const name of policyNames) {
      if (name === 'q-table') {
        const { entry, info } = await qTableEntry(
          flags,
          params[name]!,
          outDir,
          seed,
          seeds,
          split !== undefined,
          backend,
          spec,
        );
        entries.push(entry);
        qTable = info;
        notes.push(
          info.source === 'trained'
            ? `q-table: trained here for ${String(info.episodes)} episodes on ${String(info.trainingScenarios)} scenarios (${String(info.trainingSet)}; no legacy or test scenario was seen in training)${seeds > 1 ? `, once per seed` : ''}, then evaluated greedily with learning off.`
            : `q-table: loaded from ${String(info.model)}, evaluated greedily with learning off.`,
        );
        continue;
      }
      getPolicy(name, params[name]);
      entries.push({ name, make: () => getPolicy(name, params[name]) as Policy });
    }
    const total = entries.length * scenarios.length * k * seeds;
    process.stderr.write(
      `sim-arena bench: ${entries.length} policies × ${scenarios.length} scenarios${split ? ` (${split} split)` : ''} × ${k} episodes × ${seeds} seed(s) = ${total} episodes on ${backend.name}\n`,
    );
    const episodes = await runBench({
      policies: entries,
      scenarios,
      episodesPerScenario: k,
      seed,
      seeds,
      backend,
      spec,
      onEpisode: (_e, done, n) => progress('bench', done, n),
    });
    const sample = spec(scenarios[0]!, 0);
    const meta: BenchMeta = {
      command: ['sim-arena', 'bench', ...argv].map(shellQuote).join(' '),
      backend: backend.name,
      seed,
      seeds,
      split: split ?? null,
      episodesPerScenario: k,
      maxSteps: sample.maxSteps,
      reward: sample.reward.mode,
      usage: describeUsageSource(usageSourceFromFlags(flags)),
      policies: entries.map((e) => e.name),
      scenarios: scenarios.map((s) => ({
        id: s.id,
        source: s.source,
        problemType: s.problemType,
        target: s.target,
        origin: s.origin,
        description: s.description,
      })),
      legacyDir: registry.legacyDir,
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - started) / 1000,
      node: process.version,
      notes,
      ...(qTable ? { qTable } : {}),
    };
    const report = buildReport(meta, episodes);
    const paths = writeReport(outDir, report);
    process.stdout.write(`${leaderboardTable(report.summary)}\n\n`);
    const all = aggregate(episodes);
    process.stdout.write(
      `${episodes.length} episodes in ${fixed(meta.seconds, 1)} s${all.errors ? `, ${all.errors} failed (see report.md)` : ''}; wrote ${paths.json}, ${paths.markdown}, ${paths.plot}\n`,
    );
    return all.errors ? 1 : 0;
  } finally {
    await backend.close?.();
  }
}

async function qTableEntry(
  flags: Flags,
  userParams: Record<string, string>,
  outDir: string,
  seed: number,
  seeds: number,
  onSplits: boolean,
  backend: Awaited<ReturnType<typeof createBackend>>,
  spec: ReturnType<typeof specFactory>,
): Promise<{ entry: PolicyEntry; info: Record<string, unknown> }> {
  const model = optStr(flags, 'model');
  // One table per bench seed (the training seed is part of what a seed varies), or the one loaded for all.
  const tables = new Map<number, string>();
  let info: Record<string, unknown>;
  if (model) {
    loadQTable(model); // refuses a file that is not a usable table, naming it
    const text = readFileSync(model, 'utf8');
    for (let r = 0; r < seeds; r++) tables.set(seed + r, text);
    info = { source: 'loaded', model };
  } else {
    const episodes = int(flags, 'train-episodes', 3000, 1, 10_000_000);
    const generated = int(flags, 'train-generated', 0, 0, 1_000_000);
    const { model: _m, table: _t, frozen: _f, ...hp } = userParams;
    const runs: Array<Record<string, unknown>> = [];
    let trainScenarios: BenchScenario[] = [];
    for (let r = 0; r < seeds; r++) {
      const runSeed = seed + r;
      trainScenarios = [
        ...(onSplits ? splitBenchScenarios('train') : canonicalScenarios()),
        ...generatedScenarios(generated, runSeed),
      ];
      const learner = qTableFromParams(hp);
      process.stderr.write(
        `sim-arena bench: training q-table (seed ${runSeed}) for ${episodes} episodes on ${trainScenarios.length} scenarios first (give --model FILE to skip)\n`,
      );
      const run = await trainOn(learner, trainScenarios, episodes, runSeed, backend, spec, 'train q-table');
      const path = join(outDir, seeds > 1 ? `q-table-seed-${runSeed}.json` : 'q-table.json');
      saveModel(path, learner);
      writeCurvePlot(
        join(outDir, seeds > 1 ? `q-table-curve-seed-${runSeed}.svg` : 'q-table-curve.svg'),
        run.curve,
        curveWindow(episodes),
        `q-table training: ${episodes} episodes on ${trainScenarios.length} scenarios, seed ${runSeed}`,
      );
      tables.set(runSeed, serializeQTable(learner));
      const last = run.curve.slice(-50);
      runs.push({
        seed: runSeed,
        model: path,
        seconds: Math.round(run.seconds * 10) / 10,
        statesVisited: learner.table.size,
        updates: learner.updates,
        finalEpsilon: learner.hp.epsilon,
        last50: {
          meanReturn: last.reduce((a, c) => a + c.return, 0) / Math.max(1, last.length),
          solveRate: last.filter((c) => c.solved).length / Math.max(1, last.length),
        },
      });
    }
    const base = onSplits ? `the train split (${splitBenchScenarios('train').length} scenarios)` : 'the 9 canonical';
    info = {
      source: 'trained',
      model: runs.length === 1 ? runs[0]!.model : runs.map((x) => x.model),
      episodes,
      trainingScenarios: trainScenarios.length,
      trainingSet: generated ? `${base} + ${generated} generated (seeded per run)` : base,
      ...(runs.length === 1 ? runs[0] : { runs }),
      trainingSeed: seed,
    };
  }
  // Evaluate greedily with learning off unless the user says otherwise (e.g. q-table:epsilon=0.05).
  const evalParams = (runSeed: number): Record<string, string> => {
    const p: Record<string, string> = {
      epsilon: '0',
      frozen: 'true',
      ...userParams,
      table: tables.get(runSeed) ?? tables.values().next().value!,
    };
    delete p.model;
    return p;
  };
  const check = qTableFromParams(evalParams(seed));
  info.evaluation = { epsilon: check.hp.epsilon, frozen: check.frozen };
  return {
    entry: { name: 'q-table', make: (runSeed: number): QTablePolicy => qTableFromParams(evalParams(runSeed)) },
    info,
  };
}
