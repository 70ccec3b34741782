// One Gymnasium-style environment over the arena: reset replays the starting trace, step applies the client's
// action to a copy of it, replays and scores with the arena's own functions. No HTTP here (server.ts does that).
import {
  ACTIONS,
  actionMask,
  applyAction,
  parseAction,
  readResources,
  type ActionOutcome,
  type ActionType,
} from '../arena/actions.js';
import { clusterCapacity, type ClusterCapacity } from '../arena/capacity.js';
import { needsReplay, runOptions, scoreStep, stopsAtGoal, type EpisodeSpec } from '../arena/episode.js';
import { atTarget, type Observation, type WorkloadResources } from '../arena/observation.js';
import { mixSeed, mulberry32, randomInt } from '../util/rng.js';
import { findSplitScenario, splitScenarios, SPLITS, type SplitName, type SplitScenario } from '../trace/splits.js';
import { DEFAULT_NODE_POOL } from '../arena/backend.js';
import type { Backend } from '../arena/backend.js';
import { cloneValue } from '../trace/model.js';
import { cpuFromMillis, memoryFromBytes } from '../trace/quantity.js';
import type { Trace } from '../trace/trace.js';
import { formatWorkload } from '../trace/workload.js';
import type { EnvConfig } from './config.js';
import { badRequest } from './errors.js';
import { observationVector, spaces, type Spaces } from './spaces.js';

export interface EnvInfo {
  /** The seed this episode runs with (what `reset(seed)` was given, or the one drawn for an unseeded reset). */
  seed: number;
  step: number;
  max_steps: number;
  target: number;
  /** The observation before normalisation: pod counts as the replay ended. */
  raw_observation: Observation;
  /** The workload's requests and replicas as the trace now has them. */
  resources: WorkloadResources;
  /** ready = total = target and nothing pending (what `terminated` reports after a step). */
  solved: boolean;
  largest_node: { cpu: string; memory: string };
  node_count: number;
  /** Where this episode's trace came from: a scenario name or split id, "random:SEED:INDEX" or "trace". */
  scenario: string;
  /**
   * 1 for each action (in action-index order) that would change the trace now, 0 for one a bound or the workload's
   * kind would block; noop is always 1. Masked PPO and Discrete.sample(mask=...) take it as is.
   */
  action_mask: number[];
  /** Step only: what the action did. */
  action?: ActionType;
  action_index?: number;
  changed?: boolean;
  blocked?: boolean;
  /** Empty unless a safeguard blocked the action. */
  blocked_reason?: string;
}

export interface ResetResult {
  observation: number[];
  info: EnvInfo;
}

export interface StepResult {
  observation: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: EnvInfo;
}

export interface ResetOptions {
  seed?: number | null;
  options?: Record<string, unknown> | null;
}

type Phase = 'new' | 'running' | 'done' | 'broken';

/** Seeds above 32 bits are folded (the arena's generators take 32-bit seeds); smaller ones pass unchanged. */
export function episodeSeed(seed: number): number {
  if (Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff) return seed;
  const hi = Math.floor(seed / 2 ** 32);
  return mixSeed(seed >>> 0, hi >>> 0, hi < 0 ? 1 : 0);
}

/** A scenario picked by name, or a split to draw from on every reset. */
interface ScenarioPick {
  scenario?: SplitScenario;
  split?: SplitName;
}

/** A canonical scenario by name, or a split scenario by id (`gen-test:gen-0003-cpu-over`). */
export function scenarioByName(name: string): SplitScenario | undefined {
  const canonical = splitScenarios('train').find((s) => s.family === 'canonical' && s.name === name);
  return canonical ?? findSplitScenario(name)?.scenario;
}

/** reset(options): {"scenario": NAME} or {"split": "train" | "val" | "test"}; nothing else. */
export function parseResetOptions(options: unknown): ScenarioPick | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object' || Array.isArray(options))
    throw badRequest('options must be an object such as {"split": "train"} or {"scenario": "cpu-slight"}');
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'scenario' && k !== 'split');
  if (unknown.length)
    throw badRequest(
      `unknown reset option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (use "scenario" or "split")`,
    );
  const given = (['scenario', 'split'] as const).filter((k) => o[k] !== undefined && o[k] !== null);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw badRequest('give options.scenario or options.split, not both');
  if (given[0] === 'split') {
    if (typeof o.split !== 'string' || !(SPLITS as readonly string[]).includes(o.split))
      throw badRequest(`options.split must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(o.split)}`);
    return { split: o.split as SplitName };
  }
  const found = typeof o.scenario === 'string' ? scenarioByName(o.scenario) : undefined;
  if (!found)
    throw badRequest(
      `unknown scenario ${JSON.stringify(o.scenario)} (a canonical name such as cpu-slight, or a split scenario id from GET /v1/splits)`,
    );
  return { scenario: found };
}

/** The scenario of a split an episode seed draws (uniform over the split). */
export function splitPick(split: SplitName, seed: number): SplitScenario {
  const list = splitScenarios(split);
  return list[randomInt(mulberry32(mixSeed(seed, 0x5b117)), list.length)]!;
}

/** Parse an action from JSON: an index 0-6 (the action space) or, for convenience, an action name. */
export function parseClientAction(a: unknown): ActionType {
  if (typeof a === 'number') {
    if (Number.isInteger(a) && a >= 0 && a < ACTIONS.length) return ACTIONS[a]!;
    throw badRequest(
      `invalid action ${JSON.stringify(a)}: the action space is Discrete(${ACTIONS.length}), give an integer from 0 to ${ACTIONS.length - 1}`,
    );
  }
  if (typeof a === 'string') {
    try {
      return parseAction(a);
    } catch {
      throw badRequest(
        `invalid action ${JSON.stringify(a)}: give an integer from 0 to ${ACTIONS.length - 1} or one of ${ACTIONS.join(', ')}`,
      );
    }
  }
  throw badRequest(
    `invalid action ${a === undefined ? '(missing)' : JSON.stringify(a)}: give an integer from 0 to ${ACTIONS.length - 1}`,
  );
}

export class ArenaEnv {
  readonly spec: EpisodeSpec;
  /** Where the current starting trace came from; a reset with options.scenario or options.split changes it. */
  source: string;
  readonly backend: Backend;
  private initial: Trace;
  private capacity: ClusterCapacity;
  /** info.largest_node, formatted once per capacity. */
  private largestNode: { cpu: string; memory: string };
  /** Where a reset takes its fresh copy of the starting trace from (a scenario's own copy, or a clone of initial). */
  private freshTrace: () => Trace;
  /** Where unseeded resets draw their seeds from: the last explicit seed and how many resets since. */
  private baseSeed: number;
  private unseededResets = -1;
  private trace: Trace | undefined;
  private obs: Observation = { ready: 0, pending: 0, total: 0 };
  private step_ = 0;
  private lastBlocked = false;
  private phase: Phase = 'new';
  private doneReason = '';
  private episodes = 0;
  /** info.action_mask for the trace as it is now; dropped when an action or reset changes the trace. */
  private mask: number[] | undefined;

  /** A name used for replays, so concurrent envs on a cluster backend never share a simulation. */
  constructor(
    config: EnvConfig,
    backend: Backend,
    private readonly runPrefix = 'env',
  ) {
    this.spec = { ...config.spec };
    this.source = config.source;
    this.backend = backend;
    this.initial = config.trace;
    this.capacity = clusterCapacity(config.trace, config.spec.nodePool);
    this.largestNode = largestNodeText(this.capacity);
    this.freshTrace = () => cloneValue(this.initial);
    this.baseSeed = config.spec.seed;
  }

  spaces(): Spaces {
    return spaces(this.spec.usage !== undefined);
  }

  get step(): number {
    return this.step_;
  }

  get status(): { phase: Phase; step: number; episodes: number; seed: number; solved: boolean } {
    return {
      phase: this.phase,
      step: this.step_,
      episodes: this.episodes,
      seed: this.spec.seed,
      solved: this.phase !== 'new' && atTarget(this.obs, this.spec.target),
    };
  }

  describe() {
    return {
      source: this.source,
      workload: formatWorkload(this.spec.workload),
      target: this.spec.target,
      maxSteps: this.spec.maxSteps,
      reward: this.spec.reward,
      backend: this.backend.name,
      actions: this.spec.actions,
      nodePool: this.spec.nodePool,
      ...(this.spec.durationSeconds !== undefined ? { durationSeconds: this.spec.durationSeconds } : {}),
      ...(this.spec.usage
        ? {
            usage: { source: this.spec.usage.file.source ?? null, ...this.spec.usage.settings },
            stopAtGoal: stopsAtGoal(this.spec),
          }
        : {}),
    };
  }

  async reset(opts: ResetOptions = {}): Promise<ResetResult> {
    const { seed, options } = opts;
    const pick = parseResetOptions(options);
    if (seed !== undefined && seed !== null) {
      if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
        throw badRequest(`seed must be an integer, got ${JSON.stringify(seed)}`);
      this.baseSeed = seed;
      this.unseededResets = 0;
      this.spec.seed = episodeSeed(seed);
    } else {
      // Gymnasium: without a seed the env goes on with its own randomness. Ours is a chain from the last seed, so
      // reset(seed=s) followed by unseeded resets always gives the same episodes. The first reset uses the
      // creation seed itself.
      this.unseededResets++;
      this.spec.seed =
        this.unseededResets === 0
          ? episodeSeed(this.baseSeed)
          : mixSeed(episodeSeed(this.baseSeed), this.unseededResets, 0x7e5e7);
    }
    if (pick) this.switchScenario(pick.split ? splitPick(pick.split, this.spec.seed) : pick.scenario!);
    this.phase = 'broken'; // until the replay below succeeds
    this.episodes++;
    this.trace = this.freshTrace();
    this.mask = undefined;
    this.step_ = 0;
    this.lastBlocked = false;
    this.doneReason = '';
    this.obs = await this.backend.run(this.trace, this.spec.workload, runOptions(this.spec, this.runName()));
    this.phase = 'running';
    const resources = readResources(this.trace, this.spec.workload, this.spec.actions.container);
    return { observation: this.vector(resources), info: this.info(resources) };
  }

  /** Why a step would be refused now (undefined: it would run). */
  stepRefusal(): string | undefined {
    if (this.phase === 'new' || !this.trace) return 'the env has not been reset: call reset before step';
    if (this.phase === 'broken') return 'the last reset or step failed part-way: call reset before stepping again';
    if (this.phase === 'done') return `the episode is over (${this.doneReason}): call reset before stepping again`;
    return undefined;
  }

  async stepAction(action: unknown): Promise<StepResult> {
    const a = parseClientAction(action);
    const refusal = this.stepRefusal();
    if (refusal !== undefined || !this.trace) throw badRequest(refusal ?? 'call reset before step');
    const trace = this.trace;
    const step = this.step_ + 1;
    this.phase = 'broken';
    const outcome: ActionOutcome = applyAction(trace, this.spec.workload, a, this.spec.actions);
    // The mask is a function of the trace: an action that changed nothing (noop, blocked) leaves it as it was.
    if (outcome.changed) this.mask = undefined;
    // As in the arena's episodeStep: an action that changed nothing leaves the trace as it was, and the embedded
    // replay is a pure function of trace and seed, so it would observe the same again.
    const after = needsReplay(this.spec, outcome.changed, this.backend.name)
      ? await this.backend.run(trace, this.spec.workload, runOptions(this.spec, this.runName(step), step))
      : this.obs;
    const record = scoreStep(this.spec, step, this.obs, outcome, after);
    this.obs = after;
    this.step_ = step;
    this.lastBlocked = outcome.blocked;
    // With usage the task goes on at the goal (a continuing task) unless the env was created with stopAtGoal.
    const terminated = record.solved && stopsAtGoal(this.spec);
    const truncated = step >= this.spec.maxSteps;
    if (terminated || truncated) {
      this.phase = 'done';
      this.doneReason = terminated
        ? `terminated at step ${step}: the workload reached its target`
        : `truncated at step ${step}: maxSteps is ${this.spec.maxSteps}`;
    } else this.phase = 'running';
    return {
      observation: this.vector(outcome.after),
      reward: record.reward,
      terminated,
      truncated,
      info: this.info(outcome.after, record),
    };
  }

  /** Start later episodes from another scenario: its trace, workload, target and node pool. */
  private switchScenario(s: SplitScenario): void {
    if (this.spec.usage)
      throw badRequest('options.scenario and options.split need an env without usage (usage belongs to one trace)');
    const trace = s.trace();
    readResources(trace, s.workload, this.spec.actions.container); // a container the scenario lacks is a 400 now
    this.initial = trace;
    this.spec.workload = s.workload;
    this.spec.target = s.target;
    this.spec.nodePool = s.nodePool ?? DEFAULT_NODE_POOL;
    this.capacity = clusterCapacity(trace, this.spec.nodePool);
    this.largestNode = largestNodeText(this.capacity);
    this.source = s.id;
    // The scenario hands out fresh copies of its decoded trace: the next reset takes this one (unread by anyone
    // else) instead of cloning it again, later resets of the same scenario take new ones.
    let unused: Trace | undefined = trace;
    this.freshTrace = () => {
      const t = unused ?? s.trace();
      unused = undefined;
      return t;
    };
  }

  private runName(step = 0): string {
    return `${this.runPrefix}-e${this.episodes}-s${step}`;
  }

  private vector(resources: WorkloadResources): number[] {
    return observationVector({
      obs: this.obs,
      resources,
      target: this.spec.target,
      largestNode: this.capacity.largestNode,
      step: this.step_,
      maxSteps: this.spec.maxSteps,
      lastBlocked: this.lastBlocked,
      withUsage: this.spec.usage !== undefined,
    });
  }

  private actionMask(): number[] {
    if (!this.trace) return ACTIONS.map(() => 1);
    this.mask ??= actionMask(this.trace, this.spec.workload, this.spec.actions).map((ok) => (ok ? 1 : 0));
    return [...this.mask];
  }

  private info(resources: WorkloadResources, record?: ReturnType<typeof scoreStep>): EnvInfo {
    const info: EnvInfo = {
      seed: this.spec.seed,
      step: this.step_,
      max_steps: this.spec.maxSteps,
      target: this.spec.target,
      raw_observation: { ...this.obs },
      resources: { ...resources },
      solved: atTarget(this.obs, this.spec.target),
      scenario: this.source,
      action_mask: this.actionMask(),
      largest_node: { ...this.largestNode },
      node_count: this.capacity.nodeCount,
    };
    if (record) {
      info.action = record.action;
      info.action_index = record.actionIndex;
      info.changed = record.changed;
      info.blocked = record.blocked;
      info.blocked_reason = record.blockedReason ?? '';
    }
    return info;
  }
}

function largestNodeText(c: ClusterCapacity): { cpu: string; memory: string } {
  return { cpu: cpuFromMillis(c.largestNode.cpuMillis), memory: memoryFromBytes(c.largestNode.memoryBytes) };
}
