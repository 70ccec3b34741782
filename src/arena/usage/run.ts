// Usage as an episode carries it, and what a backend needs to apply it to one replay.
import type { Trace } from '../../trace/trace.js';
import { requireSeries, type UsageFile, type UsageSeries } from '../../trace/usage/format.js';
import type { WorkloadRef } from '../../trace/workload.js';
import type { Observation } from '../observation.js';
import { usageContainer } from './container.js';
import { DEFAULT_USAGE_SETTINGS, evaluateUsage, type UsageNode, type UsagePod, type UsageSettings } from './model.js';

export interface EpisodeUsage {
  file: UsageFile;
  settings: Omit<UsageSettings, 'seed'>;
}

/** One replay's usage: which window of the usage clock it observes (the episode step, 0 for the start). */
export interface UsageRun {
  file: UsageFile;
  series: UsageSeries;
  container?: string;
  step: number;
  settings: UsageSettings;
}

export function episodeUsage(file: UsageFile, settings: Partial<Omit<UsageSettings, 'seed'>> = {}): EpisodeUsage {
  return { file, settings: { ...DEFAULT_USAGE_SETTINGS, ...settings } };
}

export function usageRun(
  u: EpisodeUsage,
  workload: WorkloadRef,
  container: string | undefined,
  step: number,
  seed: number,
): UsageRun {
  return {
    file: u.file,
    series: requireSeries(u.file, workload, container),
    ...(container ? { container } : {}),
    step,
    settings: { ...u.settings, seed },
  };
}

/**
 * Apply usage to a replay's observation: pods the model finds not Ready leave `ready`, and the usage fields join.
 * `pods` are the workload's pods in creation order with `running` meaning bound and Running; `base` counted them.
 */
export function applyUsage(
  trace: Trace,
  workload: WorkloadRef,
  run: UsageRun,
  base: Observation,
  pods: readonly UsagePod[],
  nodes: readonly UsageNode[],
): Observation {
  const container = usageContainer(trace, workload, run.container);
  const v = evaluateUsage(run.file, run.series, container, pods, nodes, run.step, run.settings);
  let unready = 0;
  pods.forEach((p, i) => {
    if (p.running && p.node !== null && !v.ready[i]) unready++;
  });
  return {
    ready: Math.max(0, base.ready - unready),
    pending: base.pending,
    total: base.total,
    oomKills: v.oomKills,
    restarts: v.restarts,
    throttling: v.throttling,
    usage: v.usage,
    slack: v.slack,
  };
}
