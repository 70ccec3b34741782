// Episode metrics of the operator (sim_arena_ prefix): episodes by phase and backend, steps, step and replay time,
// rewards, steps to solve, blocked actions, finished episodes. A step's samples are taken once its status write
// succeeded, so a step decided again after a failed write is counted once.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../util/metrics.js';
import type { ArenaEpisode } from '../api/episode.js';

const registers = [registry];
const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

export const stepsTotal = new Counter({
  name: 'sim_arena_episode_steps_total',
  help: 'Episode steps recorded, by backend and action.',
  labelNames: ['backend', 'action'] as const,
  registers,
});
export const blockedActions = new Counter({
  name: 'sim_arena_episode_blocked_actions_total',
  help: 'Steps whose action was blocked by a safeguard, by backend and action.',
  labelNames: ['backend', 'action'] as const,
  registers,
});
export const stepDuration = new Histogram({
  name: 'sim_arena_episode_step_duration_seconds',
  help: "Time from a step's decision to its recorded observation (action, replay, scoring), by backend.",
  labelNames: ['backend'] as const,
  buckets: SECONDS,
  registers,
});
export const replayDuration = new Histogram({
  name: 'sim_arena_episode_replay_duration_seconds',
  help: 'Time from the start of a replay (run) to its observation, by backend.',
  labelNames: ['backend'] as const,
  buckets: SECONDS,
  registers,
});
export const stepReward = new Histogram({
  name: 'sim_arena_episode_step_reward',
  help: 'Reward of each recorded step, by backend and reward mode.',
  labelNames: ['backend', 'mode'] as const,
  buckets: [-5, -2, -1, -0.75, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 0.75, 1],
  registers,
});
export const stepsToSolve = new Histogram({
  name: 'sim_arena_episode_steps_to_solve',
  help: 'Steps a solved episode took to reach its target (0: it started there), by backend.',
  labelNames: ['backend'] as const,
  buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100],
  registers,
});
export const episodesFinished = new Counter({
  name: 'sim_arena_episodes_finished_total',
  help: 'Episodes that ended, by backend and result (solved, unsolved, failed).',
  labelNames: ['backend', 'result'] as const,
  registers,
});

const sources = new Set<() => ArenaEpisode[]>();
export const episodesByPhase = new Gauge({
  name: 'sim_arena_episodes',
  help: 'ArenaEpisodes the operator sees, by phase and backend.',
  labelNames: ['phase', 'backend'] as const,
  registers,
  collect() {
    this.reset();
    for (const list of sources) {
      for (const ep of list())
        this.inc({ phase: ep.status?.phase ?? 'Pending', backend: ep.spec?.backend ?? 'embedded' });
    }
  },
});

/** Lets a running operator report the episodes its informer holds; returns the unregister function. */
export function reportEpisodes(list: () => ArenaEpisode[]): () => void {
  sources.add(list);
  return () => sources.delete(list);
}

export function backendOf(ep: ArenaEpisode): string {
  return ep.spec?.backend ?? 'embedded';
}

/** Seconds from an ISO time to `now` (undefined when the time is missing or unreadable). */
export function secondsFrom(iso: string | undefined, now: Date): number | undefined {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.max(0, (now.getTime() - t) / 1000) : undefined;
}
