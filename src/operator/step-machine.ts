// The ArenaEpisode step state machine, as pure functions: which transition a status calls for, what a transition
// asks for next (run the next transition now, wait and come back, or nothing more to do), and when an episode ends.
// The reconciler (reconciler.ts) runs the transitions; everything here is decided from status and spec alone.
//
//   (no stepPhase) ─begin→ Observing(0) ─record→ Cleanup(0) ─act→ Observing(1) ─record→ Cleanup(1) … ─finish→ Done
import type { ArenaEpisodeStatus } from '../api/episode.js';
import { stopsAtGoal, type EpisodeSpec } from '../arena/episode.js';
import { atTarget, type Observation } from '../arena/observation.js';
import type { ReconcileResult } from '../controller/workqueue.js';

/** What a transition asks for next. */
export type Next =
  /** Run the next transition (in this reconcile when allowed, else at once from the back of the queue). */
  | { kind: 'continue' }
  /** Nothing to do until `afterMs` has passed (or a backend's change notice wakes the episode). */
  | { kind: 'wait'; afterMs: number }
  /** Nothing more to do: the episode is finished, failed or gone. */
  | { kind: 'done' };

export const CONTINUE: Next = Object.freeze({ kind: 'continue' });
export const DONE: Next = Object.freeze({ kind: 'done' });
export function wait(afterMs: number): Next {
  return { kind: 'wait', afterMs: Math.max(0, afterMs) };
}

export type Transition = 'begin' | 'observe' | 'cleanup' | 'done';

/** The transition `status` calls for. */
export function transitionFor(status: ArenaEpisodeStatus | undefined): Transition {
  switch (status?.stepPhase) {
    case undefined:
      return 'begin';
    case 'Observing':
      return 'observe';
    case 'Cleanup':
      return 'cleanup';
    case 'Done':
      return 'done';
  }
}

/** Whether the episode has reached its end (a written Done, Succeeded or Failed). */
export function isFinished(status: ArenaEpisodeStatus | undefined): boolean {
  return (status?.phase === 'Succeeded' || status?.phase === 'Failed') && status.stepPhase === 'Done';
}

/**
 * After a step's cleanup: the episode ends when the workload is at its target or no step is left. With usage it runs
 * to maxSteps (a continuing task) and counts as solved if it was ever at the goal (`stepsToSolve` recorded).
 */
export function endOfStep(
  obs: Observation,
  step: number,
  spec: Pick<EpisodeSpec, 'target' | 'maxSteps' | 'usage' | 'stopAtGoal'>,
  stepsToSolve?: number,
): { finished: boolean; solved: boolean } {
  const atGoal = atTarget(obs, spec.target);
  if (!stopsAtGoal(spec)) return { solved: atGoal || stepsToSolve !== undefined, finished: step >= spec.maxSteps };
  return { solved: atGoal, finished: atGoal || step >= spec.maxSteps };
}

/** At most this many transitions in one reconcile (a guard; a step takes three). */
export const MAX_TRANSITIONS_PER_RECONCILE = 200;

/**
 * Whether a reconcile runs the next transition itself. It stops at anything but `continue`, once an observation has
 * been written (so episodes take turns per step), when the episode is being deleted, and at the guard.
 */
export function runsNextTransition(
  next: Next,
  ctx: { observationWritten: boolean; deleting: boolean; transitions: number },
): boolean {
  return (
    next.kind === 'continue' &&
    !ctx.observationWritten &&
    !ctx.deleting &&
    ctx.transitions < MAX_TRANSITIONS_PER_RECONCILE
  );
}

/** What the work queue gets: `continue` comes back at once (behind the other episodes), `wait` after its delay. */
export function toReconcileResult(next: Next): ReconcileResult {
  switch (next.kind) {
    case 'continue':
      return { requeueAfterMs: 0 };
    case 'wait':
      return { requeueAfterMs: next.afterMs };
    case 'done':
      return {};
  }
}
