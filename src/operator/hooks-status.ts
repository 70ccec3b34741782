// The Hooks condition of an episode with spec.hooks: which stages of the last replay ran, with which commands, and
// how each stage ended (SimKube reports per stage: all hooks succeeded, or the one that failed it).
import { episodeHooks, type ArenaEpisode } from '../api/episode.js';
import { HookFailed, type HookStage, type SimulationHook } from '../arena/hooks.js';
import type { PollResult } from '../arena/backend.js';
import type { ConditionUpdate } from '../controller/conditions.js';

const MAX_MESSAGE = 1000;

const commandOf = (h: SimulationHook): string => [h.cmd, ...(h.args ?? [])].join(' ');

/** The Hooks condition after replay `step` (none when the backend reported no stages). */
export function hooksCondition(ep: ArenaEpisode, step: number, runs: PollResult['hooks']): ConditionUpdate[] {
  if (!runs?.length) return [];
  const hooks = episodeHooks(ep.spec) ?? {};
  const failed = runs.some((r) => r.outcome === 'Failed');
  const parts = runs.map((r) => {
    const cmds = (hooks[r.stage as HookStage] ?? []).map(commandOf).join('; ');
    const bad = r.outcome === 'Failed';
    return `${r.stage} ${bad ? 'failed' : 'ran'} (${cmds || 'no user hooks'})${bad ? `: ${r.message}` : ''}`;
  });
  return [
    {
      type: 'Hooks',
      status: failed ? 'False' : 'True',
      reason: failed ? 'HookFailed' : 'HooksRan',
      message: `replay ${step}: ${parts.join('; ')}`.slice(0, MAX_MESSAGE),
    },
  ];
}

/** A hook failed its stage: the episode ends Failed (retrying would fail the same way). */
export function isHookFailed(e: unknown): e is HookFailed {
  return e instanceof HookFailed || (e as Error | undefined)?.name === 'HookFailed';
}

export function hookFailedCondition(e: Error): ConditionUpdate {
  return { type: 'Hooks', status: 'False', reason: 'HookFailed', message: e.message.slice(0, MAX_MESSAGE) };
}
