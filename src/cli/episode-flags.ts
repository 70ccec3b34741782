// The flags that describe an episode, shared by run, batch, bench and serve.
import { DEFAULT_MAX_STEPS, episodeSpec, type EpisodeSpec } from '../arena/episode.js';
import { parseRewardMode } from '../arena/reward.js';
import { DEFAULT_SAFEGUARDS } from '../arena/safeguards.js';
import { DEFAULT_NODE_POOL } from '../arena/backend.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { parseWorkloadArg, type WorkloadRef } from '../trace/workload.js';
import { int, num, optStr, str, type Flags } from './args.js';

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
} as const;

export const EPISODE_USAGE = `  --workload NS/NAME     the workload to fix (default default/web)
  --kind KIND            its kind (default Deployment)
  --container NAME       target container (default: the first app container)
  --target N             wanted ready replicas (default: the scenario's, else 3)
  --policy P             noop, random, heuristic, bump-cpu, bump-mem, scale-up, ... (default heuristic)
  --param K=V            policy parameter (repeatable)
  --reward MODE          binary, shaped, scale, cost-aware, max-punish (default shaped)
  --step-penalty X       cost-aware: penalty per step (default 0)
  --steps K              at most K steps (default 50)
  --seed S               seed for every random choice (default 0)
  --backend B            embedded (default), kwok or simkube
  --duration SECONDS     how long each replay runs (default: to the trace's last event)
  --cpu-step Q --mem-step Q --replica-step N        action sizes (500m, 256Mi, 1)
  --max-cpu Q --max-mem Q --max-replicas N          caps (16, 32Gi, 100)
  --min-cpu Q --min-mem Q --min-replicas N          floors (50m, 64Mi, 1)
  --nodes N --node-cpu Q --node-mem Q --node-pods N node pool when the trace has no Node objects (3, 16, 32Gi, 110)`;

export function policyParams(flags: Flags): Record<string, string> {
  const raw = (flags as Record<string, unknown>).param;
  const list = Array.isArray(raw) ? (raw as string[]) : [];
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new RangeError(`--param must be KEY=VALUE, got "${kv}"`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

const q = (flags: Flags, name: string, fallback: string) => canonicalQuantity(str(flags, name, fallback));

export function workloadFromFlags(flags: Flags, fallback?: WorkloadRef): WorkloadRef {
  const w = optStr(flags, 'workload');
  const kind = str(flags, 'kind', fallback?.kind ?? 'Deployment');
  if (w) return parseWorkloadArg(w, kind);
  return fallback ? { ...fallback, kind } : { kind, namespace: 'default', name: 'web' };
}

export function episodeFromFlags(flags: Flags, defaults: { workload?: WorkloadRef; target?: number } = {}): EpisodeSpec {
  const duration = optStr(flags, 'duration');
  const container = optStr(flags, 'container');
  return episodeSpec({
    workload: workloadFromFlags(flags, defaults.workload),
    target: int(flags, 'target', defaults.target ?? 3, 0, 10_000),
    maxSteps: int(flags, 'steps', DEFAULT_MAX_STEPS, 1, 1_000_000),
    seed: int(flags, 'seed', 0),
    reward: { mode: parseRewardMode(str(flags, 'reward', 'shaped')), stepPenalty: num(flags, 'step-penalty', 0) },
    actions: {
      steps: { cpu: q(flags, 'cpu-step', '500m'), memory: q(flags, 'mem-step', '256Mi'), replicas: int(flags, 'replica-step', 1, 1, 1000) },
      safeguards: {
        maxCpu: q(flags, 'max-cpu', DEFAULT_SAFEGUARDS.maxCpu),
        maxMemory: q(flags, 'max-mem', DEFAULT_SAFEGUARDS.maxMemory),
        maxReplicas: int(flags, 'max-replicas', DEFAULT_SAFEGUARDS.maxReplicas, 0),
        minCpu: q(flags, 'min-cpu', DEFAULT_SAFEGUARDS.minCpu),
        minMemory: q(flags, 'min-mem', DEFAULT_SAFEGUARDS.minMemory),
        minReplicas: int(flags, 'min-replicas', DEFAULT_SAFEGUARDS.minReplicas, 0),
      },
      ...(container ? { container } : {}),
    },
    nodePool: {
      count: int(flags, 'nodes', DEFAULT_NODE_POOL.count, 1, 100_000),
      cpu: q(flags, 'node-cpu', DEFAULT_NODE_POOL.cpu),
      memory: q(flags, 'node-mem', DEFAULT_NODE_POOL.memory),
      pods: int(flags, 'node-pods', DEFAULT_NODE_POOL.pods, 1),
    },
    ...(duration !== undefined ? { durationSeconds: int(flags, 'duration', 0, 1) } : {}),
  });
}
