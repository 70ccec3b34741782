// An arena episode held in the MCP server's process, played through two tools: `observe` (what the workload looks
// like now, the target and the actions) and `act` (apply one action, replay, score). No cluster needed with the
// embedded backend. Steps go through the arena's own episodeStep, so rewards, safeguards and "solved" mean what they
// mean everywhere else.
import { ACTIONS, parseAction, readResources, type ActionType } from '../arena/actions.js';
import { clusterCapacity, type ClusterCapacity } from '../arena/capacity.js';
import { episodeStep, runOptions, stopsAtGoal, type EpisodeSpec, type StepRecord } from '../arena/episode.js';
import { atTarget, type Observation } from '../arena/observation.js';
import type { Policy } from '../arena/policies.js';
import type { Backend } from '../arena/backend.js';
import { cpuFromMillis, memoryFromBytes } from '../trace/quantity.js';
import type { Trace } from '../trace/trace.js';
import { formatWorkload } from '../trace/workload.js';
import { ToolError, type Tool } from './protocol.js';
import { specWithUsageArguments, USAGE_ARGUMENTS } from './usage.js';

export interface EpisodeSource {
  /** scenario name or trace path */
  label: string;
  /** a fresh copy of the starting trace */
  trace(): Trace;
}

/** What each action does, in words (the predecessor's prompt wording, with this episode's step sizes). */
export function actionDescriptions(spec: EpisodeSpec): Array<{ index: number; name: ActionType; description: string }> {
  const s = spec.actions.steps;
  const text: Record<ActionType, string> = {
    noop: 'do nothing this step',
    'bump-cpu': `increase the CPU request by ${s.cpu}`,
    'bump-mem': `increase the memory request by ${s.memory}`,
    'scale-up': `add ${s.replicas} replica${s.replicas === 1 ? '' : 's'}`,
    'reduce-cpu': `decrease the CPU request by ${s.cpu}`,
    'reduce-mem': `decrease the memory request by ${s.memory}`,
    'scale-down': `remove ${s.replicas} replica${s.replicas === 1 ? '' : 's'}`,
  };
  return ACTIONS.map((name, index) => ({ index, name, description: text[name] }));
}

/** A one-line reading of an observation against the target (like the predecessor's prompt status line). */
export function statusLine(obs: Observation, target: number): string {
  if (atTarget(obs, target))
    return `All pods are healthy: ${obs.ready} ready of target ${target}. The episode is solved.`;
  if (obs.pending > 0)
    return `${obs.pending} pod(s) PENDING (cannot be scheduled): a request may be larger than any node, or the pods do not all fit the cluster.`;
  if (obs.total > target) return `TOO MANY pods: ${obs.total} for a target of ${target}; scale down.`;
  if (obs.total < target) return `TOO FEW pods: ${obs.total} for a target of ${target}; scale up.`;
  return `${obs.ready} of ${obs.total} pods ready; waiting for the rest.`;
}

export class EpisodeSession {
  private trace: Trace | undefined;
  private capacity: ClusterCapacity | undefined;
  private obs: Observation | undefined;
  private step = 0;
  private totalReward = 0;
  private solvedAt: number | null = null;
  private history: StepRecord[] = [];
  episodes = 0;

  constructor(
    readonly source: EpisodeSource,
    public spec: EpisodeSpec,
    readonly backend: Backend,
  ) {}

  /** Solved ends the episode unless it has usage (a continuing task to the horizon); the horizon always does. */
  get done(): boolean {
    return (this.solvedAt !== null && stopsAtGoal(this.spec)) || this.step >= this.spec.maxSteps;
  }

  /** Restart with the usage the tool arguments give (usage, usage_synth, usage_cpu, usage_mem, reward). */
  async configureUsage(args: Record<string, unknown>): Promise<boolean> {
    const next = specWithUsageArguments(this.spec, this.source.trace(), args);
    if (!next) return false;
    this.spec = next;
    await this.reset();
    return true;
  }

  /** Start (or restart) the episode from the original trace and observe it. */
  async reset(): Promise<void> {
    const trace = this.source.trace();
    this.capacity = clusterCapacity(trace, this.spec.nodePool);
    this.obs = await this.backend.run(trace, this.spec.workload, runOptions(this.spec));
    this.trace = trace;
    this.step = 0;
    this.totalReward = 0;
    this.history = [];
    this.solvedAt = atTarget(this.obs, this.spec.target) ? 0 : null;
    this.episodes++;
  }

  private async ensureStarted(): Promise<void> {
    if (!this.trace) await this.reset();
  }

  async observe(reset = false) {
    if (reset || !this.trace) await this.reset();
    const obs = this.obs!;
    const cap = this.capacity!;
    const last = this.history[this.history.length - 1];
    return {
      scenario: this.source.label,
      workload: formatWorkload(this.spec.workload),
      target: this.spec.target,
      step: this.step,
      maxSteps: this.spec.maxSteps,
      stepsLeft: Math.max(0, this.spec.maxSteps - this.step),
      observation: obs,
      resources: readResources(this.trace!, this.spec.workload, this.spec.actions.container),
      status: statusLine(obs, this.spec.target),
      solved: this.solvedAt !== null,
      stepsToSolve: this.solvedAt,
      done: this.done,
      totalReward: round(this.totalReward),
      cluster: {
        nodes: cap.nodeCount,
        largestNode: {
          cpu: cpuFromMillis(cap.largestNode.cpuMillis),
          memory: memoryFromBytes(cap.largestNode.memoryBytes),
        },
      },
      reward: this.spec.reward.mode,
      usage: this.spec.usage
        ? { source: this.spec.usage.file.source ?? null, stepSeconds: this.spec.usage.settings.stepSeconds }
        : null,
      actions: actionDescriptions(this.spec),
      ...(last ? { lastStep: stepView(last) } : {}),
    };
  }

  async act(input: string | number) {
    await this.ensureStarted();
    let action: ActionType;
    try {
      action = parseAction(input);
    } catch {
      throw new ToolError(
        `unknown action ${JSON.stringify(input)}: use a name (${ACTIONS.join(', ')}) or an index 0-${ACTIONS.length - 1}`,
      );
    }
    if (this.done) {
      const why =
        this.solvedAt !== null && stopsAtGoal(this.spec)
          ? `it was solved ${this.solvedAt === 0 ? 'before any action' : `at step ${this.solvedAt}`}`
          : `all ${this.spec.maxSteps} steps are used`;
      throw new ToolError(`the episode is over (${why}); call observe with reset=true to play it again`, {
        done: true,
      });
    }
    const fixed: Policy = { name: 'mcp', decide: () => action };
    const rec = await episodeStep(this.spec, this.trace!, this.obs!, this.step + 1, fixed, this.backend, this.capacity);
    this.step = rec.step;
    this.obs = rec.observation;
    this.totalReward += rec.reward;
    this.history.push(rec);
    if (rec.solved && this.solvedAt === null) this.solvedAt = rec.step;
    return {
      ...stepView(rec),
      status: statusLine(rec.observation, this.spec.target),
      done: this.done,
      totalReward: round(this.totalReward),
      stepsLeft: Math.max(0, this.spec.maxSteps - this.step),
    };
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function stepView(r: StepRecord) {
  return {
    step: r.step,
    action: r.action,
    actionIndex: r.actionIndex,
    changed: r.changed,
    blocked: r.blocked,
    ...(r.blockedReason ? { blockedReason: r.blockedReason } : {}),
    observationBefore: r.observationBefore,
    observation: r.observation,
    resources: r.resources,
    reward: round(r.reward),
    solved: r.solved,
  };
}

export function episodeTools(session: EpisodeSession): Tool[] {
  return [
    {
      name: 'observe',
      title: 'Observe the episode',
      description:
        'Observe the simulated workload of the current arena episode: ready/pending/total pods, the target, the current CPU/memory requests and replicas, ' +
        'the largest node, the step count, whether it is solved, and the 7 actions you can take with act. Pass reset=true to restart the episode. ' +
        'With usage (the usage or usage_synth argument restarts the episode with it) it also shows OOM kills, restarts, throttling, usage percentiles and slack, ' +
        'and the episode runs to its last step (reward rightsizing: slack cost, OOM and throttling penalties).',
      inputSchema: {
        type: 'object',
        properties: {
          reset: { type: 'boolean', description: 'restart the episode from its original trace first', default: false },
          ...USAGE_ARGUMENTS,
        },
        additionalProperties: false,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      call: async (args) => {
        const restarted = await session.configureUsage(args);
        return { data: await session.observe(args.reset === true && !restarted) };
      },
    },
    {
      name: 'act',
      title: 'Take one action',
      description:
        'Apply one action to the workload, replay the simulation and return the new observation, the reward and whether the episode is solved. ' +
        `Actions (name or index): ${ACTIONS.map((a, i) => `${i} ${a}`).join(', ')}. The episode is solved when ready = total = target and no pod is pending.`,
      inputSchema: {
        type: 'object',
        properties: {
          action: {
            type: ['string', 'integer'],
            description: `an action name (${ACTIONS.join(', ')}) or its index 0-${ACTIONS.length - 1}`,
          },
        },
        required: ['action'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      call: async (args) => ({ data: await session.act(args.action as string | number) }),
    },
  ];
}
