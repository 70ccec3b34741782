// The episode: observe, decide, apply the action to the trace, replay, score. One step function serves the CLI,
// the operator (which persists between the halves) and the env server.
import type { Backend, NodePool } from './backend.js';
import { DEFAULT_NODE_POOL } from './backend.js';
import type { Trace } from '../trace/trace.js';
import type { WorkloadRef } from '../trace/workload.js';
import {
  actionIndex,
  applyAction,
  readResources,
  type ActionOutcome,
  type ActionSettings,
  type ActionType,
  DEFAULT_ACTION_SETTINGS,
} from './actions.js';
import { clusterCapacity, type ClusterCapacity } from './capacity.js';
import { atTarget, type Observation, type WorkloadResources } from './observation.js';
import { blockedSinceChange, type PastStep, type Policy, type PolicyContext } from './policies.js';
import { computeReward, type RewardSettings } from './reward.js';
import { mixSeed, mulberry32 } from '../util/rng.js';
import { usageRun, type EpisodeUsage } from './usage/run.js';
import { windowDemand } from './usage/model.js';

export interface EpisodeSpec {
  workload: WorkloadRef;
  target: number;
  maxSteps: number;
  seed: number;
  reward: RewardSettings;
  actions: ActionSettings;
  nodePool: NodePool;
  /** Seconds each replay runs (SimKube `duration`); default: to the trace's last event. */
  durationSeconds?: number;
  /** Usage: consequences per step and a usage clock that advances stepSeconds each step. */
  usage?: EpisodeUsage;
  /** End the episode at the goal. Default: true without usage; with usage the episode runs to maxSteps. */
  stopAtGoal?: boolean;
}

export function stopsAtGoal(spec: Pick<EpisodeSpec, 'usage' | 'stopAtGoal'>): boolean {
  return spec.stopAtGoal ?? spec.usage === undefined;
}

/** Steps an episode may take before it ends unsolved (CLI --steps, env server maxSteps, ArenaEpisode spec.maxSteps). */
export const DEFAULT_MAX_STEPS = 50;

export function episodeSpec(partial: Partial<EpisodeSpec> & Pick<EpisodeSpec, 'workload' | 'target'>): EpisodeSpec {
  return {
    maxSteps: DEFAULT_MAX_STEPS,
    seed: 0,
    reward: { mode: 'shaped' },
    actions: DEFAULT_ACTION_SETTINGS,
    nodePool: DEFAULT_NODE_POOL,
    ...partial,
  };
}

export interface StepRecord {
  /** 1-based step number. */
  step: number;
  observationBefore: Observation;
  action: ActionType;
  actionIndex: number;
  changed: boolean;
  blocked: boolean;
  blockedReason?: string;
  /** The action stopped at a bound short of a whole step. */
  clamped?: boolean;
  /** What else the action did (a clamp at a bound, HorizontalPodAutoscaler bounds widened). */
  note?: string;
  /** Requests and replicas after the action. */
  resources: WorkloadResources;
  /** Observation after the action; the reward scores this. */
  observation: Observation;
  reward: number;
  solved: boolean;
}

export interface EpisodeResult {
  solved: boolean;
  steps: number;
  stepsToSolve: number | null;
  totalReward: number;
  initial: Observation;
  initialResources: WorkloadResources;
  finalResources: WorkloadResources;
  history: StepRecord[];
}

/** Seeded randomness for one step: the same (seed, step) always draws the same numbers. */
export function stepRng(seed: number, step: number): () => number {
  return mulberry32(mixSeed(seed, step));
}

/** What policies remember of the steps so far (StepRecords and the operator's history both fit). */
export type PastSteps = readonly {
  action: ActionType;
  changed: boolean;
  blocked: boolean;
  observationBefore?: Observation;
}[];

export function policyContext(
  spec: EpisodeSpec,
  trace: Trace,
  obs: Observation,
  step: number,
  capacity: ClusterCapacity = clusterCapacity(trace, spec.nodePool),
  past: PastSteps = [],
): PolicyContext {
  const prev = past[past.length - 1];
  const last: PastStep | undefined = prev?.observationBefore
    ? { action: prev.action, changed: prev.changed, blocked: prev.blocked, before: prev.observationBefore }
    : undefined;
  return {
    obs,
    target: spec.target,
    resources: readResources(trace, spec.workload, spec.actions.container),
    step,
    maxSteps: spec.maxSteps,
    largestNode: capacity.largestNode,
    nodeCount: capacity.nodeCount,
    settings: spec.actions,
    rng: stepRng(spec.seed, step),
    blocked: blockedSinceChange(past),
    ...(last ? { last } : {}),
    // The observation was taken over the usage window of the previous step.
    ...(spec.usage
      ? {
          usage: windowDemand(
            spec.usage.file,
            usageRun(spec.usage, spec.workload, spec.actions.container, step - 1, 0).series,
            step - 1,
            spec.usage.settings.stepSeconds,
          ),
        }
      : {}),
  };
}

/** The first half of a step: the policy picks, the trace changes (in place) unless a safeguard blocks it. */
export async function decideAndApply(
  spec: EpisodeSpec,
  trace: Trace,
  obs: Observation,
  step: number,
  policy: Policy,
  capacity?: ClusterCapacity,
  past?: PastSteps,
): Promise<ActionOutcome> {
  const action = await policy.decide(policyContext(spec, trace, obs, step, capacity, past));
  return applyAction(trace, spec.workload, action, spec.actions);
}

/** The second half: score the observation taken after the action. */
export function scoreStep(
  spec: EpisodeSpec,
  step: number,
  before: Observation,
  outcome: ActionOutcome,
  after: Observation,
): StepRecord {
  const reward = computeReward(
    { safeguards: spec.actions.safeguards, ...spec.reward },
    { obs: after, target: spec.target, resources: outcome.after, blocked: outcome.blocked },
  );
  return {
    step,
    observationBefore: before,
    action: outcome.action,
    actionIndex: actionIndex(outcome.action),
    changed: outcome.changed,
    blocked: outcome.blocked,
    ...(outcome.reason !== undefined ? { blockedReason: outcome.reason } : {}),
    ...(outcome.clamped ? { clamped: true } : {}),
    ...(outcome.note !== undefined ? { note: outcome.note } : {}),
    resources: outcome.after,
    observation: after,
    reward,
    solved: atTarget(after, spec.target),
  };
}

/** The backend's seed: the same every step, so replaying an unchanged trace observes the same thing. */
export function replaySeed(spec: EpisodeSpec): number {
  return mixSeed(spec.seed, 0x5eed);
}

/** Options for the replay observed after `step` (0: the episode's start), which fixes the usage window. */
export function runOptions(spec: EpisodeSpec, runName?: string, step = 0) {
  return {
    seed: replaySeed(spec),
    nodePool: spec.nodePool,
    ...(spec.durationSeconds !== undefined ? { durationSeconds: spec.durationSeconds } : {}),
    ...(runName !== undefined ? { runName } : {}),
    ...(spec.usage
      ? { usage: usageRun(spec.usage, spec.workload, spec.actions.container, step, mixSeed(spec.seed, 0x05a6e)) }
      : {}),
  };
}

/** Whether a step must replay: an unchanged trace replays the same on the embedded backend, unless usage moves on. */
export function needsReplay(spec: EpisodeSpec, changed: boolean, backend: string): boolean {
  return changed || backend !== 'embedded' || spec.usage !== undefined;
}

/** One whole step: decide, apply, replay, score. */
export async function episodeStep(
  spec: EpisodeSpec,
  trace: Trace,
  obs: Observation,
  step: number,
  policy: Policy,
  backend: Backend,
  capacity?: ClusterCapacity,
  past?: PastSteps,
): Promise<StepRecord> {
  const outcome = await decideAndApply(spec, trace, obs, step, policy, capacity, past);
  // A blocked or no-op action leaves the trace as it was; the embedded replay is a pure function of the trace and
  // the episode seed, so it would observe the same thing again.
  const after = needsReplay(spec, outcome.changed, backend.name)
    ? await backend.run(trace, spec.workload, runOptions(spec, undefined, step))
    : obs;
  const record = scoreStep(spec, step, obs, outcome, after);
  policy.learn?.({
    obs,
    action: outcome.action,
    reward: record.reward,
    next: after,
    done: (record.solved && stopsAtGoal(spec)) || step >= spec.maxSteps,
    target: spec.target,
  });
  return record;
}

/** Run an episode: stops after maxSteps, or at the goal when stopsAtGoal. The trace is changed in place. */
export async function runEpisode(
  spec: EpisodeSpec,
  trace: Trace,
  policy: Policy,
  backend: Backend,
  onStep?: (r: StepRecord) => void,
): Promise<EpisodeResult> {
  const capacity = clusterCapacity(trace, spec.nodePool);
  const initialResources = readResources(trace, spec.workload, spec.actions.container);
  const initial = await backend.run(trace, spec.workload, runOptions(spec));
  const history: StepRecord[] = [];
  let obs = initial;
  let solved = atTarget(obs, spec.target);
  let stepsToSolve: number | null = solved ? 0 : null;
  const stopAtGoal = stopsAtGoal(spec);
  for (let step = 1; !(solved && stopAtGoal) && step <= spec.maxSteps; step++) {
    const rec = await episodeStep(spec, trace, obs, step, policy, backend, capacity, history);
    history.push(rec);
    onStep?.(rec);
    obs = rec.observation;
    if (rec.solved && !solved) {
      solved = true;
      stepsToSolve = step;
    }
  }
  return {
    solved,
    steps: history.length,
    stepsToSolve,
    totalReward: history.reduce((s, r) => s + r.reward, 0),
    initial,
    initialResources,
    finalResources: history.length ? history[history.length - 1]!.resources : initialResources,
    history,
  };
}
