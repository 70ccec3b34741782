// sim-arena run: one episode, printed step by step (or as one JSON object).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseHooks, type EpisodeHooks } from '../arena/hooks.js';
import { checkWritableDir, writeFileAtomic } from '../util/atomic-write.js';
import { runEpisode, type EpisodeResult, type EpisodeSpec } from '../arena/episode.js';
import { getPolicy } from '../arena/policies.js';
import { createBackend, parseBackendName } from '../sim/index.js';
import { formatWorkload } from '../trace/workload.js';
import { bool, optStr, parse, str } from './args.js';
import { EPISODE_OPTIONS, EPISODE_USAGE, episodeFromFlags, policyParams } from './episode-flags.js';
import { historyTable, stepLine, summaryLine } from './format.js';
import { loadTraceOrScenario, writeJson } from './load.js';
import { UsageError } from './errors.js';
import { HOOK_JOB_OPTIONS, HOOK_JOB_USAGE, hookJobOptionsFromFlags } from './hook-flags.js';
import { hooksBackendError } from '../api/episode.js';
import { formatObservation } from '../arena/observation.js';

const USAGE = `usage: sim-arena run (--trace FILE | --scenario NAME) [options]
  --json                 print one JSON object (solved, steps, totalReward, history, ...)
  --out-dir DIR          write DIR/steps.jsonl and DIR/summary.json
  --kubeconfig FILE      kwok/simkube backends
  --hooks FILE           kwok/simkube backends: commands run around each replay (YAML/JSON with lists preStart,
                         preRun, postRun, postStop of {cmd, args, sendSim, ignoreFailure}; SimKube's own hook files,
                         with preStartHooks etc., are read too). simkube: SimKube runs them; kwok: Jobs (below)
${HOOK_JOB_USAGE}
${EPISODE_USAGE}`;

export function resultJson(spec: EpisodeSpec, policy: string, backend: string, label: string, result: EpisodeResult) {
  return {
    trace: label,
    workload: formatWorkload(spec.workload),
    target: spec.target,
    policy,
    backend,
    reward: spec.reward.mode,
    seed: spec.seed,
    maxSteps: spec.maxSteps,
    solved: result.solved,
    steps: result.steps,
    stepsToSolve: result.stepsToSolve,
    totalReward: result.totalReward,
    initial: { observation: result.initial, resources: result.initialResources },
    final: { resources: result.finalResources },
    history: result.history,
  };
}

/** A hooks file: our stage names (as in ArenaEpisode spec.hooks) or SimKube's (preStartHooks, ...). */
export function readHooksFile(path: string): EpisodeHooks {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--hooks ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc))
    doc = Object.fromEntries(
      Object.entries(doc).map(([k, v]) => [k.replace(/^(pre|post)(Start|Run|Stop)Hooks$/, '$1$2'), v]),
    );
  try {
    return parseHooks(doc, `--hooks ${path}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function checkOutDir(dir: string): void {
  if (dir === '') throw new UsageError('--out-dir needs a folder path, got an empty string');
  try {
    checkWritableDir(dir);
  } catch (e) {
    throw new UsageError(
      `--out-dir ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a writable folder`,
    );
  }
}

export async function runCommand(argv: string[]): Promise<number> {
  const { flags } = parse(
    argv,
    {
      ...EPISODE_OPTIONS,
      trace: { type: 'string' },
      scenario: { type: 'string' },
      json: { type: 'boolean' },
      'out-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      hooks: { type: 'string' },
      ...HOOK_JOB_OPTIONS,
    },
    USAGE,
  );
  const { trace, meta, label, nodePool } = loadTraceOrScenario(optStr(flags, 'trace'), optStr(flags, 'scenario'));
  const spec = episodeFromFlags(
    flags,
    { ...(meta ? { workload: meta.workload, target: meta.target } : {}), ...(nodePool ? { nodePool } : {}) },
    trace,
  );
  const policyName = str(flags, 'policy', 'heuristic');
  const policy = getPolicy(policyName, policyParams(flags));
  const backendName = parseBackendName(str(flags, 'backend', 'embedded'));
  const kubeconfig = optStr(flags, 'kubeconfig');
  const json = bool(flags, 'json');
  const outDir = optStr(flags, 'out-dir');
  if (outDir !== undefined) checkOutDir(outDir);
  const hooksFile = optStr(flags, 'hooks');
  const hooks = hooksFile === undefined ? undefined : readHooksFile(hooksFile);
  const hooksRefused = hooks ? hooksBackendError(backendName) : undefined;
  if (hooksRefused) throw new UsageError(`--hooks: ${hooksRefused}; use --backend kwok or simkube`);
  const hookJobs = hookJobOptionsFromFlags(flags);
  const backend = await createBackend(backendName, {
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(spec.durationSeconds ? { stepSeconds: spec.durationSeconds } : {}),
    ...(hooks ? { hooks, hookJobs } : {}),
  });
  // Steps are kept until the episode ends: a failed run leaves an earlier run's files in --out-dir as they were.
  const stepLines: string[] = [];
  if (!json)
    process.stdout.write(
      `episode: ${label}, ${formatWorkload(spec.workload)}, target ${spec.target}, policy ${policy.name}, reward ${spec.reward.mode}, backend ${backend.name}, seed ${spec.seed}\n`,
    );
  try {
    const result = await runEpisode(spec, trace, policy, backend, (r) => {
      if (!json && r.step === 1) process.stdout.write(`start     ${formatObservation(r.observationBefore)}\n`);
      if (!json) process.stdout.write(`${stepLine(r)}\n`);
      if (outDir) stepLines.push(`${JSON.stringify(r)}\n`);
    });
    const out = resultJson(spec, policy.name, backend.name, label, result);
    if (outDir) {
      writeFileAtomic(join(outDir, 'steps.jsonl'), stepLines.join(''));
      writeJson(join(outDir, 'summary.json'), out);
    }
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      if (result.history.length === 0) process.stdout.write(`start     ${formatObservation(result.initial)}\n`);
      else process.stdout.write(`\n${historyTable(result)}\n`);
      process.stdout.write(`\n${summaryLine(result, spec.target)}\n`);
    }
    return 0;
  } finally {
    await backend.close?.();
  }
}
