// The flags that describe an episode, shared by run, batch, bench and serve.
import { DEFAULT_MAX_STEPS, episodeSpec, type EpisodeSpec } from '../arena/episode.js';
import { parseRewardMode } from '../arena/reward.js';
import { DEFAULT_SAFEGUARDS } from '../arena/safeguards.js';
import { DEFAULT_NODE_POOL, type NodePool } from '../arena/backend.js';
import { readNodePoolFile } from './load.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { parseWorkloadArg, type WorkloadRef } from '../trace/workload.js';
import { bool, int, num, optStr, str, type Flags } from './args.js';
import { readFileSync } from 'node:fs';
import { parseActionSet, parseResourceMode } from '../arena/actions.js';
import type { EpisodeUsage } from '../arena/usage/run.js';
import { DEFAULT_USAGE_SETTINGS } from '../arena/usage/model.js';
import { DEFAULT_SYNTH_LEVELS, usageForEpisode, type UsageSource } from '../arena/usage/source.js';
import type { Trace } from '../trace/trace.js';
import { parseUsageJson } from '../trace/usage/format.js';
import { parsePatterns, type Pattern } from '../trace/usage/synth.js';
import { UsageError } from './errors.js';
import { checkEpisodeSpec, flagName, INT_RANGES, specProblems } from '../arena/spec-rules.js';
import { DEFAULT_ACTION_SETTINGS } from '../arena/actions.js';

export const EPISODE_OPTIONS = {
  workload: { type: 'string' },
  kind: { type: 'string' },
  container: { type: 'string' },
  target: { type: 'string' },
  policy: { type: 'string' },
  param: { type: 'string', multiple: true },
  reward: { type: 'string' },
  'step-penalty': { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  duration: { type: 'string' },
  'cpu-step': { type: 'string' },
  'mem-step': { type: 'string' },
  'replica-step': { type: 'string' },
  'max-cpu': { type: 'string' },
  'max-mem': { type: 'string' },
  'max-replicas': { type: 'string' },
  'min-cpu': { type: 'string' },
  'min-mem': { type: 'string' },
  'min-replicas': { type: 'string' },
  nodes: { type: 'string' },
  'node-cpu': { type: 'string' },
  'node-mem': { type: 'string' },
  'node-pods': { type: 'string' },
  usage: { type: 'string' },
  'usage-synth': { type: 'string' },
  'usage-cpu': { type: 'string' },
  'usage-mem': { type: 'string' },
  'step-duration': { type: 'string' },
  'stop-at-goal': { type: 'boolean' },
  'usage-noise': { type: 'string' },
  'missing-limits': { type: 'string' },
  actions: { type: 'string' },
  'node-pool': { type: 'string' },
  'resource-mode': { type: 'string' },
} as const;

export const EPISODE_USAGE = `  --workload NS/NAME     the workload to fix (default default/web)
  --kind KIND            its kind (default Deployment)
  --resource-mode M      what resource actions move: effective (the pod's effective request: init containers,
                         sidecars, overhead; the default) or container (one container's request)
  --container NAME       target container in container mode (default: the first app container; implies container)
  --target N             wanted ready replicas (default: the scenario's, else 3)
  --policy P             noop, random, heuristic, blind, bump-cpu, bump-mem, scale-up, ... (default heuristic)
  --param K=V            policy parameter (repeatable)
  --reward MODE          binary, shaped, scale, cost-aware, max-punish, rightsizing (default shaped; rightsizing with --usage)
  --step-penalty X       cost-aware: penalty per step (default 0)
  --steps K              at most K steps (default 50)
  --seed S               seed for every random choice (default 0)
  --backend B            embedded (default), kwok or simkube
  --duration SECONDS     how long each replay runs (default: to the trace's last event)
  --cpu-step Q --mem-step Q --replica-step N        action sizes (500m, 256Mi, 1)
  --max-cpu Q --max-mem Q --max-replicas N          caps (16, 32Gi, 100)
  --min-cpu Q --min-mem Q --min-replicas N          floors (50m, 64Mi, 1)
  --nodes N --node-cpu Q --node-mem Q --node-pods N a uniform node pool (3, 16, 32Gi, 110)
  --node-pool FILE       a node-pool document (JSON: {count, cpu, memory, pods} or {nodes: [...]}); default: the
                         trace's own (NAME.nodepool.json next to it, or its converted Node objects), else the above
  --actions SET          additive (default: the step sizes above) or proportional (×1.25 / ×0.8 of the request)
  --usage FILE           usage (sim-arena usage file or a Prometheus export): OOM kills, throttling, slack; the
                         episode then runs to --steps unless --stop-at-goal. With many traces (batch, bench,
                         train) the file is read against each and must have a series for each one's workload
  --usage-synth P        instead of --usage: seeded load synthesized for each episode's workload, patterns
                         constant, diurnal, bursty, trend, noise combined with + (seed: the episode's seed)
  --usage-cpu Q --usage-mem Q                       its per-pod levels (${DEFAULT_SYNTH_LEVELS.cpu}, ${DEFAULT_SYNTH_LEVELS.memory})
  --step-duration S      seconds of usage clock per step (default 30)
  --stop-at-goal         end at the goal even with usage
  --usage-noise X        per-pod noise on usage (default 0.05; 0 for none)
  --missing-limits M     a container without a limit: request (default: the request acts as the limit) or none`;

const SYNTH_ONLY = ['usage-cpu', 'usage-mem'];
const USAGE_SETTING_FLAGS = ['step-duration', 'usage-noise', 'missing-limits'];
const sources = new WeakMap<Flags, UsageSource | null>();
const warned = new Set<string>();

/**
 * --usage FILE (read and parsed once per command) or --usage-synth PATTERNS with its levels; undefined without
 * either. Bad input is a UsageError naming the flag.
 */
export function usageSourceFromFlags(flags: Flags): UsageSource | undefined {
  const cached = sources.get(flags);
  if (cached !== undefined) return cached ?? undefined;
  const path = optStr(flags, 'usage');
  const synth = optStr(flags, 'usage-synth');
  let source: UsageSource | null = null;
  if (path !== undefined && synth !== undefined) throw new UsageError('give --usage FILE or --usage-synth, not both');
  if (synth === undefined)
    for (const f of SYNTH_ONLY)
      if (optStr(flags, f) !== undefined) throw new UsageError(`--${f} goes with --usage-synth PATTERNS`);
  if (path === undefined && synth === undefined)
    for (const f of USAGE_SETTING_FLAGS)
      if (optStr(flags, f) !== undefined) throw new UsageError(`--${f} needs --usage FILE or --usage-synth`);
  if (path !== undefined) {
    if (path === '') throw new UsageError('--usage needs a file name');
    source = { kind: 'file', label: path, value: parseUsageJson(readFileSync(path, 'utf8')) };
  } else if (synth !== undefined) {
    let patterns: Pattern[];
    try {
      patterns = parsePatterns(synth);
    } catch (e) {
      throw new UsageError(`--usage-synth: ${(e as Error).message}`);
    }
    source = {
      kind: 'synth',
      patterns,
      cpu: q(flags, 'usage-cpu', DEFAULT_SYNTH_LEVELS.cpu),
      memory: q(flags, 'usage-mem', DEFAULT_SYNTH_LEVELS.memory),
    };
  }
  sources.set(flags, source);
  return source ?? undefined;
}

function usageSettingsFromFlags(flags: Flags) {
  const missing = str(flags, 'missing-limits', DEFAULT_USAGE_SETTINGS.missingLimits);
  if (missing !== 'request' && missing !== 'none')
    throw new UsageError(`--missing-limits must be request or none, got "${missing}"`);
  const noise = num(flags, 'usage-noise', DEFAULT_USAGE_SETTINGS.noise);
  if (!(noise >= 0 && noise <= 1)) throw new UsageError(`--usage-noise must be from 0 to 1, got "${noise}"`);
  return {
    ...DEFAULT_USAGE_SETTINGS,
    stepSeconds: int(flags, 'step-duration', DEFAULT_USAGE_SETTINGS.stepSeconds, 1, 86_400 * 365),
    noise,
    missingLimits: missing as 'request' | 'none',
  };
}

/** The episode's usage from --usage / --usage-synth, for this trace, workload and seed; warnings go to stderr once. */
function usageFromFlags(
  flags: Flags,
  trace: Trace,
  workload: WorkloadRef,
  container: string | undefined,
  seed: number,
  maxSteps: number,
): EpisodeUsage | undefined {
  const source = usageSourceFromFlags(flags);
  if (!source) return undefined;
  const settings = usageSettingsFromFlags(flags);
  const { usage, warnings } = usageForEpisode(source, trace, workload, container, seed, maxSteps, settings);
  for (const w of warnings) {
    if (warned.has(w)) continue;
    warned.add(w);
    process.stderr.write(`warning: ${w}\n`);
  }
  return usage;
}

export function policyParams(flags: Flags): Record<string, string> {
  const raw = (flags as Record<string, unknown>).param;
  const list = Array.isArray(raw) ? (raw as string[]) : [];
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--param must be KEY=VALUE, got "${kv}"`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** A quantity flag; a bad one is a usage error that names the flag. */
const q = (flags: Flags, name: string, fallback: string) => {
  const v = str(flags, name, fallback);
  try {
    return canonicalQuantity(v);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message} (a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi)`);
  }
};

/** A whole-number flag within the shared range of its field (spec-rules.ts). */
const ranged = (flags: Flags, name: string, field: keyof typeof INT_RANGES, fallback: number) =>
  int(flags, name, fallback, INT_RANGES[field][0], INT_RANGES[field][1]);

export function workloadFromFlags(flags: Flags, fallback?: WorkloadRef): WorkloadRef {
  const w = optStr(flags, 'workload');
  const kind = str(flags, 'kind', fallback?.kind ?? 'Deployment');
  if (w) return parseWorkloadArg(w, kind);
  return fallback ? { ...fallback, kind } : { kind, namespace: 'default', name: 'web' };
}

const UNIFORM_POOL_FLAGS = ['nodes', 'node-cpu', 'node-mem', 'node-pods'];

/** --node-pool FILE, else the uniform --nodes… flags when given, else the trace's own pool, else the default. */
function nodePoolFromFlags(flags: Flags, tracePool?: NodePool): NodePool {
  const file = optStr(flags, 'node-pool');
  const uniform = UNIFORM_POOL_FLAGS.some((f) => optStr(flags, f) !== undefined);
  if (file && uniform)
    throw new UsageError('give --node-pool FILE or --nodes/--node-cpu/--node-mem/--node-pods, not both');
  if (file) return readNodePoolFile(file);
  if (!uniform && tracePool) return tracePool;
  return {
    count: ranged(flags, 'nodes', 'nodePool.count', DEFAULT_NODE_POOL.count),
    cpu: q(flags, 'node-cpu', DEFAULT_NODE_POOL.cpu),
    memory: q(flags, 'node-mem', DEFAULT_NODE_POOL.memory),
    pods: ranged(flags, 'node-pods', 'nodePool.pods', DEFAULT_NODE_POOL.pods),
  };
}

/**
 * The episode the flags describe. `defaults.seed` (commands that run many seeds) replaces --seed. With --usage or
 * --usage-synth the trace is needed to build the episode's usage; without it the flags are only checked.
 */
export function episodeFromFlags(
  flags: Flags,
  defaults: { workload?: WorkloadRef; target?: number; nodePool?: NodePool; seed?: number } = {},
  trace?: Trace,
): EpisodeSpec {
  const duration = optStr(flags, 'duration');
  const container = optStr(flags, 'container');
  const mode = optStr(flags, 'resource-mode');
  const workload = workloadFromFlags(flags, defaults.workload);
  const seed = defaults.seed ?? ranged(flags, 'seed', 'seed', 0);
  const maxSteps = ranged(flags, 'steps', 'maxSteps', DEFAULT_MAX_STEPS);
  const source = usageSourceFromFlags(flags);
  if (source) usageSettingsFromFlags(flags);
  const usage = trace ? usageFromFlags(flags, trace, workload, container, seed, maxSteps) : undefined;
  const actionSet = parseActionSet(str(flags, 'actions', 'additive'));
  let rewardMode;
  try {
    rewardMode = parseRewardMode(str(flags, 'reward', source ? 'rightsizing' : 'shaped'));
  } catch (e) {
    throw new UsageError(`--reward: ${(e as Error).message}`);
  }
  const spec = episodeSpec({
    ...(usage ? { usage } : {}),
    ...(bool(flags, 'stop-at-goal') ? { stopAtGoal: true } : {}),
    workload,
    target: ranged(flags, 'target', 'target', defaults.target ?? 3),
    maxSteps,
    seed,
    reward: { mode: rewardMode, stepPenalty: num(flags, 'step-penalty', 0) },
    actions: {
      steps: {
        cpu: q(flags, 'cpu-step', '500m'),
        memory: q(flags, 'mem-step', '256Mi'),
        replicas: ranged(flags, 'replica-step', 'actions.replicaStep', 1),
      },
      safeguards: {
        maxCpu: q(flags, 'max-cpu', DEFAULT_SAFEGUARDS.maxCpu),
        maxMemory: q(flags, 'max-mem', DEFAULT_SAFEGUARDS.maxMemory),
        maxReplicas: ranged(flags, 'max-replicas', 'safeguards.maxReplicas', DEFAULT_SAFEGUARDS.maxReplicas),
        minCpu: q(flags, 'min-cpu', DEFAULT_SAFEGUARDS.minCpu),
        minMemory: q(flags, 'min-mem', DEFAULT_SAFEGUARDS.minMemory),
        minReplicas: ranged(flags, 'min-replicas', 'safeguards.minReplicas', DEFAULT_SAFEGUARDS.minReplicas),
      },
      ...(container ? { container } : {}),
      ...(actionSet !== 'additive' ? { set: actionSet } : {}),
      ...(mode !== undefined ? { resourceMode: parseResourceMode(mode) } : {}),
    },
    nodePool: nodePoolFromFlags(flags, defaults.nodePool),
    ...(duration !== undefined ? { durationSeconds: ranged(flags, 'duration', 'durationSeconds', 0) } : {}),
  });
  try {
    return checkEpisodeSpec(spec, flagName);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--cpu-step`, `--mem-step`, `--replica-step` alone (trace apply), under the same rules as an episode's. */
export function actionStepsFromFlags(flags: Flags): { cpu: string; memory: string; replicas: number } {
  const steps = {
    cpu: q(flags, 'cpu-step', '500m'),
    memory: q(flags, 'mem-step', '256Mi'),
    replicas: ranged(flags, 'replica-step', 'actions.replicaStep', 1),
  };
  const bad = specProblems(
    episodeSpec({
      workload: { kind: 'Deployment', namespace: 'default', name: 'x' },
      target: 0,
      actions: { ...DEFAULT_ACTION_SETTINGS, steps },
    }),
  ).find((p) => p.field.startsWith('actions.'));
  if (bad) throw new UsageError(`${flagName(bad.field)} ${bad.problem}`);
  return steps;
}
