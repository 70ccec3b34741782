// Where an episode's usage comes from when one setting serves many traces (batch, bench, train, MCP): a usage file
// read against each trace (its series for the episode's workload), or seeded load patterns synthesized for each
// episode's workload. Synthesized usage is seeded by the episode's seed, so different seeds give different load.
import type { Trace } from '../../trace/trace.js';
import { loadUsage } from '../../trace/usage/load.js';
import { requireSeries } from '../../trace/usage/format.js';
import { DEFAULT_SYNTH, synthesizeUsage, type Pattern } from '../../trace/usage/synth.js';
import type { WorkloadRef } from '../../trace/workload.js';
import type { UsageSettings } from './model.js';
import { episodeUsage, type EpisodeUsage } from './run.js';

export type UsageSource =
  /** A sim-arena usage file or a Prometheus export, parsed JSON; `label` names it (a path). */
  | { kind: 'file'; label: string; value: unknown }
  /** Per-pod levels (quantities) shaped by patterns, generated for each episode. */
  | { kind: 'synth'; patterns: Pattern[]; cpu: string; memory: string };

export const DEFAULT_SYNTH_LEVELS = { cpu: DEFAULT_SYNTH.cpu, memory: DEFAULT_SYNTH.memory };

/** Samples every 30 s (or every step when steps are shorter). */
const SYNTH_INTERVAL = 30;

/**
 * The usage of one episode. Synthesized usage covers the episode's horizon (steps + 1 windows), and a diurnal
 * pattern makes one full cycle over it. A file must have a series for the workload (a one-line error otherwise).
 */
export function usageForEpisode(
  source: UsageSource,
  trace: Trace,
  workload: WorkloadRef,
  container: string | undefined,
  seed: number,
  maxSteps: number,
  settings: Omit<UsageSettings, 'seed'>,
): { usage: EpisodeUsage; warnings: string[] } {
  if (source.kind === 'file') {
    const { usage, warnings } = loadUsage(source.value, trace);
    requireSeries(usage, workload, container);
    return { usage: episodeUsage(usage, settings), warnings };
  }
  const interval = Math.min(SYNTH_INTERVAL, settings.stepSeconds);
  const duration = Math.max(2 * interval, (maxSteps + 1) * settings.stepSeconds);
  const file = synthesizeUsage({
    workloads: [{ workload, ...(container ? { container } : {}) }],
    patterns: source.patterns,
    cpu: source.cpu,
    memory: source.memory,
    duration,
    interval,
    period: duration,
    seed,
  });
  return { usage: episodeUsage(file, settings), warnings: [] };
}

/** What a report records about the usage an evaluation ran with. */
export function describeUsageSource(source: UsageSource | undefined): Record<string, unknown> | null {
  if (!source) return null;
  if (source.kind === 'file') return { kind: 'file', file: source.label };
  return {
    kind: 'synth',
    patterns: source.patterns.join('+'),
    cpu: source.cpu,
    memory: source.memory,
    seeded: 'per episode, by the episode seed',
  };
}
