import { expect } from 'chai';
import type { ArenaEpisodeStatus } from '../../../src/api/episode.js';
import type { Observation } from '../../../src/arena/observation.js';
import {
  CONTINUE,
  DONE,
  endOfStep,
  isFinished,
  MAX_TRANSITIONS_PER_RECONCILE,
  runsNextTransition,
  toReconcileResult,
  transitionFor,
  wait,
} from '../../../src/operator/step-machine.js';

const obs = (ready: number, pending = 0): Observation => ({ ready, pending, total: ready + pending }) as Observation;

describe('operator/step-machine', () => {
  it('maps each status to its transition: begin, observe, cleanup, done', () => {
    expect(transitionFor(undefined)).to.equal('begin');
    expect(transitionFor({})).to.equal('begin');
    expect(transitionFor({ stepPhase: 'Observing', step: 0 })).to.equal('observe');
    expect(transitionFor({ stepPhase: 'Cleanup', step: 3 })).to.equal('cleanup');
    expect(transitionFor({ stepPhase: 'Done', phase: 'Succeeded' })).to.equal('done');
  });

  it('calls an episode finished only with a written Done and an end phase', () => {
    const cases: Array<[ArenaEpisodeStatus | undefined, boolean]> = [
      [undefined, false],
      [{ phase: 'Running', stepPhase: 'Cleanup' }, false],
      [{ phase: 'Succeeded', stepPhase: 'Cleanup' }, false],
      [{ phase: 'Succeeded', stepPhase: 'Done' }, true],
      [{ phase: 'Failed', stepPhase: 'Done' }, true],
    ];
    for (const [status, want] of cases) expect(isFinished(status), JSON.stringify(status)).to.equal(want);
  });

  it('ends a step when the workload is at its target (solved) or the last step was taken, not before', () => {
    const spec = { target: 3, maxSteps: 5 };
    expect(endOfStep(obs(3), 0, spec)).to.deep.equal({ solved: true, finished: true });
    expect(endOfStep(obs(2, 1), 2, spec)).to.deep.equal({ solved: false, finished: false });
    expect(endOfStep(obs(2, 1), 5, spec)).to.deep.equal({ solved: false, finished: true });
    expect(endOfStep(obs(3), 5, spec)).to.deep.equal({ solved: true, finished: true });
  });

  it('runs the next transition in the same reconcile only on continue, before an observation is written, while not deleting, under the guard', () => {
    const ctx = { observationWritten: false, deleting: false, transitions: 1 };
    expect(runsNextTransition(CONTINUE, ctx)).to.equal(true);
    expect(runsNextTransition(wait(0), ctx)).to.equal(false);
    expect(runsNextTransition(DONE, ctx)).to.equal(false);
    expect(runsNextTransition(CONTINUE, { ...ctx, observationWritten: true })).to.equal(false);
    expect(runsNextTransition(CONTINUE, { ...ctx, deleting: true })).to.equal(false);
    expect(runsNextTransition(CONTINUE, { ...ctx, transitions: MAX_TRANSITIONS_PER_RECONCILE - 1 })).to.equal(true);
    expect(runsNextTransition(CONTINUE, { ...ctx, transitions: MAX_TRANSITIONS_PER_RECONCILE })).to.equal(false);
  });

  it('tells the work queue: continue → again at once, wait → after the delay (never negative), done → nothing', () => {
    expect(toReconcileResult(CONTINUE)).to.deep.equal({ requeueAfterMs: 0 });
    expect(toReconcileResult(wait(1500))).to.deep.equal({ requeueAfterMs: 1500 });
    expect(toReconcileResult(wait(-5))).to.deep.equal({ requeueAfterMs: 0 });
    expect(toReconcileResult(DONE)).to.deep.equal({});
  });
});
