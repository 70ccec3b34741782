// The ArenaEpisode resource: its types, and turning its spec into the arena's EpisodeSpec with errors that say
// what to fix (the CRD schema already rejects most bad input; this catches what a schema cannot).
import { checkEpisodeSpec, type SpecField } from '../arena/spec-rules.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseResourceMode, type ActionType, type ResourceMode } from '../arena/actions.js';
import { parseNodePool, type NodePool } from '../trace/nodepool.js';
import { episodeSpec, type EpisodeSpec } from '../arena/episode.js';
import type { Observation, WorkloadResources } from '../arena/observation.js';
import { policyNames } from '../arena/policies.js';
import { parseActionSet } from '../arena/actions.js';
import { DEFAULT_USAGE_SETTINGS, type UsageSettings } from '../arena/usage/model.js';
import { parseRewardMode } from '../arena/reward.js';
import { resolveLimits } from '../arena/safeguards.js';
import { BACKEND_NAMES, type BackendName } from '../arena/backend.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { hasHooks, parseHooks, type EpisodeHooks } from '../arena/hooks.js';
import type { Condition } from '../controller/conditions.js';
import { EPISODE_DEFAULTS as D } from './defaults.js';

type Quantityish = string | number;

export interface ArenaEpisodeSpec {
  trace: { configMapRef: { name: string; key?: string } };
  workload: { kind?: string; namespace?: string; name: string; container?: string };
  targetReplicas: number;
  policy?: {
    name?: string;
    seed?: number;
    parameters?: Record<string, string>;
    agentURL?: string;
    agentTokenSecretRef?: { name: string; key?: string };
  };
  reward?: { mode?: string; stepPenalty?: number };
  maxSteps?: number;
  stepDuration?: string;
  backend?: BackendName;
  actions?: {
    set?: string;
    cpuStep?: Quantityish;
    memoryStep?: Quantityish;
    replicaStep?: number;
    resourceMode?: string;
  };
  usage?: {
    configMapRef: { name: string; key?: string };
    noise?: number;
    missingLimits?: string;
    stopAtGoal?: boolean;
  };
  safeguards?: {
    maxCpu?: Quantityish;
    maxMemory?: Quantityish;
    maxReplicas?: number;
    minCpu?: Quantityish;
    minMemory?: Quantityish;
    minReplicas?: number;
  };
  nodePool?: { count?: number; cpu?: Quantityish; memory?: Quantityish; pods?: number; nodes?: object[] };
  /** Commands run around each replay, in SimKube's stages (src/arena/hooks.ts); backends kwok (as Jobs) and simkube. */
  hooks?: EpisodeHooks;
  simkube?: {
    driverImage?: string;
    driverNamespace?: string;
    speed?: number;
    virtualNsPrefix?: string;
    traceDir?: string;
  };
}

export interface HistoryEntry {
  step: number;
  observation: Observation;
  requests: WorkloadResources;
  action: ActionType;
  blocked: boolean;
  blockedReason?: string;
  note?: string;
  reward: number;
  simulation?: string;
  startTime?: string;
  endTime?: string;
}

/** The decided-but-not-yet-observed half of a step, persisted so a restart never decides twice. */
export interface PendingStep {
  step: number;
  action: ActionType;
  changed: boolean;
  blocked: boolean;
  blockedReason?: string;
  note?: string;
  requests: WorkloadResources;
  traceConfigMap: string;
  startTime: string;
}

/** The replay in flight (its name is deterministic, so a restarted operator finds its objects again). */
export interface RunRecord {
  name: string;
  step: number;
  startTime: string;
  /** null in a status patch clears the previous run's observation (a merge patch keeps keys it does not name). */
  observed?: Observation | null;
}

export type EpisodePhase = 'Pending' | 'Running' | 'Waiting' | 'Succeeded' | 'Failed';
export type StepPhase = 'Observing' | 'Cleanup' | 'Done';

export interface ArenaEpisodeStatus {
  phase?: EpisodePhase;
  step?: number;
  stepPhase?: StepPhase;
  message?: string;
  history?: HistoryEntry[];
  totalReward?: number;
  solved?: boolean;
  stepsToSolve?: number;
  traceConfigMap?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  initialObservation?: Observation;
  lastObservation?: Observation;
  pending?: PendingStep;
  run?: RunRecord;
}

export interface ArenaEpisode extends KubernetesObject {
  spec: ArenaEpisodeSpec;
  status?: ArenaEpisodeStatus;
}

export class InvalidEpisode extends Error {
  override name = 'InvalidEpisode';
}

/** Parse a Go-style duration ("30s", "2m", "1h30m", "500ms") to seconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
    consumed += m[0].length;
  }
  if (consumed !== s.length || consumed === 0)
    throw new InvalidEpisode(`spec.stepDuration "${s}" is not a duration (use e.g. 30s, 2m, 1m30s)`);
  return total;
}

function quantity(field: string, v: Quantityish | undefined, fallback: string): string {
  try {
    return canonicalQuantity(v ?? fallback);
  } catch (e) {
    throw new InvalidEpisode(`${field}: ${(e as Error).message}`);
  }
}

/** Map an ArenaEpisode spec to the arena's EpisodeSpec. Defaults (defaults.ts) match the CRD's. */
export function toEpisodeSpec(spec: ArenaEpisodeSpec): EpisodeSpec {
  if (!spec?.trace?.configMapRef?.name)
    throw new InvalidEpisode('spec.trace.configMapRef.name is required: the ConfigMap holding the starting trace');
  if (!spec.workload?.name)
    throw new InvalidEpisode('spec.workload.name is required: the workload in the trace to fix');
  if (!Number.isInteger(spec.targetReplicas) || spec.targetReplicas < 0)
    throw new InvalidEpisode('spec.targetReplicas must be a whole number ≥ 0');
  if (spec.backend !== undefined && !BACKEND_NAMES.includes(spec.backend))
    throw new InvalidEpisode(
      `spec.backend "${String(spec.backend)}" is not a backend (use one of ${BACKEND_NAMES.join(', ')})`,
    );
  const policy = spec.policy?.name ?? D.policy;
  if (!policyNames().includes(policy))
    throw new InvalidEpisode(
      `spec.policy.name "${policy}" is not a known policy (available: ${policyNames().join(', ')})`,
    );
  let mode;
  try {
    mode = parseRewardMode(spec.reward?.mode ?? (spec.usage ? 'rightsizing' : D.rewardMode));
  } catch (e) {
    throw new InvalidEpisode(`spec.reward.mode: ${(e as Error).message}`);
  }
  const s = spec.safeguards ?? {};
  const safeguards = {
    maxCpu: quantity('spec.safeguards.maxCpu', s.maxCpu, D.safeguards.maxCpu),
    maxMemory: quantity('spec.safeguards.maxMemory', s.maxMemory, D.safeguards.maxMemory),
    maxReplicas: s.maxReplicas ?? D.safeguards.maxReplicas,
    minCpu: quantity('spec.safeguards.minCpu', s.minCpu, D.safeguards.minCpu),
    minMemory: quantity('spec.safeguards.minMemory', s.minMemory, D.safeguards.minMemory),
    minReplicas: s.minReplicas ?? D.safeguards.minReplicas,
  };
  try {
    resolveLimits(safeguards);
  } catch (e) {
    throw new InvalidEpisode(`spec.${(e as Error).message}`);
  }
  const np = spec.nodePool ?? {};
  let set;
  try {
    set = spec.actions?.set !== undefined ? parseActionSet(spec.actions.set) : undefined;
  } catch (e) {
    throw new InvalidEpisode(`spec.actions.set: ${(e as Error).message}`);
  }
  episodeHooks(spec);
  if (spec.usage && !spec.usage.configMapRef?.name)
    throw new InvalidEpisode('spec.usage.configMapRef.name is required: the ConfigMap holding the usage (JSON)');
  const out = episodeSpec({
    ...(spec.usage?.stopAtGoal !== undefined ? { stopAtGoal: spec.usage.stopAtGoal } : {}),
    workload: {
      kind: spec.workload.kind ?? D.workloadKind,
      namespace: spec.workload.namespace ?? D.workloadNamespace,
      name: spec.workload.name,
    },
    target: spec.targetReplicas,
    maxSteps: spec.maxSteps ?? D.maxSteps,
    seed: spec.policy?.seed ?? D.seed,
    reward: { mode, stepPenalty: spec.reward?.stepPenalty ?? D.stepPenalty },
    actions: {
      steps: {
        cpu: quantity('spec.actions.cpuStep', spec.actions?.cpuStep, D.cpuStep),
        memory: quantity('spec.actions.memoryStep', spec.actions?.memoryStep, D.memoryStep),
        replicas: spec.actions?.replicaStep ?? D.replicaStep,
      },
      safeguards,
      ...(spec.workload.container ? { container: spec.workload.container } : {}),
      ...(set ? { set } : {}),
      ...(spec.actions?.resourceMode ? { resourceMode: resourceModeOrFail(spec.actions.resourceMode) } : {}),
    },
    nodePool: nodePoolOrFail({
      count: np.count ?? D.nodePool.count,
      cpu: quantity('spec.nodePool.cpu', np.cpu, D.nodePool.cpu),
      memory: quantity('spec.nodePool.memory', np.memory, D.nodePool.memory),
      pods: np.pods ?? D.nodePool.pods,
      ...(np.nodes ? { nodes: np.nodes } : {}),
    }),
    durationSeconds: parseDuration(spec.stepDuration ?? D.stepDuration),
  });
  // The rules every surface shares (the CRD's schema and CEL rules say the same; this catches what they cannot).
  try {
    return checkEpisodeSpec(out, (f) => `spec.${CRD_FIELD[f] ?? f}`);
  } catch (e) {
    throw new InvalidEpisode((e as Error).message);
  }
}

/**
 * spec.hooks checked, or undefined when there are none. SimKube runs them on simkube, Jobs on kwok; embedded has no
 * cluster to run them in, so an episode with hooks there is refused rather than run without them.
 */
export function episodeHooks(spec: ArenaEpisodeSpec): EpisodeHooks | undefined {
  if (spec.hooks === undefined || spec.hooks === null) return undefined;
  let hooks: EpisodeHooks;
  try {
    hooks = parseHooks(spec.hooks, 'spec.hooks');
  } catch (e) {
    throw new InvalidEpisode((e as Error).message);
  }
  const refused = hooksBackendError(spec.backend ?? D.backend);
  if (refused)
    throw new InvalidEpisode(`spec.hooks: ${refused}: set spec.backend to kwok or simkube, or remove spec.hooks`);
  return hasHooks(hooks) ? hooks : undefined;
}

/**
 * The one rule for where hooks run (the CRD's CEL rule, validate-deploy.py and `run --hooks` say the same): kwok runs
 * each command as a Job, simkube passes them to SimKube; the embedded backend has no cluster to run them in.
 */
export function hooksBackendError(backend: string): string | undefined {
  if (backend === 'kwok' || backend === 'simkube') return undefined;
  return `hooks run only on backends kwok (each command as a Job) and simkube (SimKube runs them); the ${backend} backend has no cluster to run them in`;
}

export const USAGE_KEY = 'usage.json';

/** The usage model's settings of an episode with spec.usage (the file itself is read from its ConfigMap). */
export function usageSettingsOf(spec: ArenaEpisodeSpec): Omit<UsageSettings, 'seed'> {
  const u = spec.usage!;
  const missing = u.missingLimits ?? DEFAULT_USAGE_SETTINGS.missingLimits;
  if (missing !== 'request' && missing !== 'none')
    throw new InvalidEpisode(`spec.usage.missingLimits "${missing}" must be request or none`);
  return {
    ...DEFAULT_USAGE_SETTINGS,
    stepSeconds: parseDuration(spec.stepDuration ?? D.stepDuration),
    noise: u.noise ?? DEFAULT_USAGE_SETTINGS.noise,
    missingLimits: missing,
  };
}

/** ArenaEpisode spellings of the fields whose names differ from the arena's. */
const CRD_FIELD: Partial<Record<SpecField, string>> = {
  target: 'targetReplicas',
  seed: 'policy.seed',
  durationSeconds: 'stepDuration',
};

function resourceModeOrFail(m: string): ResourceMode {
  try {
    return parseResourceMode(m);
  } catch (e) {
    throw new InvalidEpisode(`spec.actions.${(e as Error).message}`);
  }
}

/** The same node-pool reader as the CLI and env server (src/trace/nodepool.ts). */
function nodePoolOrFail(np: Record<string, unknown>): NodePool {
  try {
    return parseNodePool(np, 'spec.nodePool');
  } catch (e) {
    throw new InvalidEpisode((e as Error).message);
  }
}
