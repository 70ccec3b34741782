// Usage through MCP tool arguments: `observe` can restart the episode with a usage document (a sim-arena usage
// object or a Prometheus export) or with seeded synthetic load, and the reward becomes rightsizing unless told.
import { DEFAULT_USAGE_SETTINGS } from '../arena/usage/model.js';
import { DEFAULT_SYNTH_LEVELS, usageForEpisode, type UsageSource } from '../arena/usage/source.js';
import type { EpisodeUsage } from '../arena/usage/run.js';
import { parseRewardMode, REWARD_MODES, type RewardMode } from '../arena/reward.js';
import type { EpisodeSpec } from '../arena/episode.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { TraceError, type Trace } from '../trace/trace.js';
import { parsePatterns, PATTERNS } from '../trace/usage/synth.js';
import { ToolError, type ToolSchema } from './protocol.js';

export const USAGE_ARGUMENTS: ToolSchema['properties'] = {
  usage: {
    type: ['object', 'array'],
    description:
      'restart the episode with this usage: a sim-arena usage document ({"format":"sim-arena.usage",...}) or a Prometheus query_range export (a JSON array)',
  },
  usage_synth: {
    type: 'string',
    description: `restart the episode with seeded synthetic load for the workload: patterns ${PATTERNS.join(', ')} combined with + (e.g. diurnal+noise), or "none" to drop usage`,
  },
  usage_cpu: { type: 'string', description: `usage_synth: per-pod CPU level (default ${DEFAULT_SYNTH_LEVELS.cpu})` },
  usage_mem: {
    type: 'string',
    description: `usage_synth: per-pod memory working set (default ${DEFAULT_SYNTH_LEVELS.memory})`,
  },
  reward: {
    type: 'string',
    enum: [...REWARD_MODES],
    description: 'the reward mode after the restart (default: rightsizing with usage, shaped without)',
  },
};

export const USAGE_ARGUMENT_NAMES = Object.keys(USAGE_ARGUMENTS);

function quantity(args: Record<string, unknown>, name: string, fallback: string): string {
  const v = args[name];
  if (v === undefined || v === null) return fallback;
  try {
    return canonicalQuantity(v as string);
  } catch (e) {
    throw new ToolError(`argument "${name}": ${(e as Error).message} (a quantity such as 300m or 512Mi)`);
  }
}

/**
 * The spec the usage arguments ask for, or undefined when they ask for nothing. Bad input is a ToolError with a
 * one-line message.
 */
export function specWithUsageArguments(
  spec: EpisodeSpec,
  trace: Trace,
  args: Record<string, unknown>,
): EpisodeSpec | undefined {
  if (!USAGE_ARGUMENT_NAMES.some((k) => args[k] !== undefined && args[k] !== null)) return undefined;
  const doc = args.usage;
  const synth = args.usage_synth as string | undefined;
  if (doc != null && synth != null) throw new ToolError('give usage or usage_synth, not both');
  if (synth == null && (args.usage_cpu != null || args.usage_mem != null))
    throw new ToolError('usage_cpu and usage_mem go with usage_synth');
  let source: UsageSource | undefined;
  let drop = false;
  if (doc != null) source = { kind: 'file', label: 'the usage argument', value: doc };
  else if (synth === 'none') drop = true;
  else if (synth != null) {
    let patterns;
    try {
      patterns = parsePatterns(synth);
    } catch (e) {
      throw new ToolError(`argument "usage_synth": ${(e as Error).message}`);
    }
    source = {
      kind: 'synth',
      patterns,
      cpu: quantity(args, 'usage_cpu', DEFAULT_SYNTH_LEVELS.cpu),
      memory: quantity(args, 'usage_mem', DEFAULT_SYNTH_LEVELS.memory),
    };
  }
  let usage: EpisodeUsage | undefined = drop ? undefined : spec.usage;
  if (source) {
    try {
      usage = usageForEpisode(
        source,
        trace,
        spec.workload,
        spec.actions.container,
        spec.seed,
        spec.maxSteps,
        spec.usage?.settings ?? DEFAULT_USAGE_SETTINGS,
      ).usage;
    } catch (e) {
      if (e instanceof TraceError) throw new ToolError(`invalid usage: ${e.message}`);
      throw e;
    }
  }
  const reward: RewardMode =
    args.reward != null
      ? parseRewardMode(args.reward as string)
      : source
        ? 'rightsizing'
        : drop && spec.reward.mode === 'rightsizing'
          ? 'shaped'
          : spec.reward.mode;
  const { usage: _old, ...rest } = spec;
  return { ...rest, ...(usage ? { usage } : {}), reward: { ...spec.reward, mode: reward } };
}
