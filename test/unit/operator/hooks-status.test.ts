// The Hooks condition: the stages SimKube reported for a replay, with the episode's commands for each.
import { expect } from 'chai';
import type { ArenaEpisode } from '../../../src/api/episode.js';
import { HookFailed } from '../../../src/arena/hooks.js';
import { hookFailedCondition, hooksCondition, isHookFailed } from '../../../src/operator/hooks-status.js';

const ep = {
  spec: {
    trace: { configMapRef: { name: 'cm' } },
    workload: { name: 'web' },
    targetReplicas: 1,
    backend: 'simkube',
    hooks: { preStart: [{ cmd: 'kubectl', args: ['get', 'ns'] }], postRun: [{ cmd: 'a' }, { cmd: 'b', args: ['x'] }] },
  },
} as ArenaEpisode;

describe('operator: the Hooks condition', () => {
  it('lists the stages that ran with their commands', () => {
    expect(
      hooksCondition(ep, 2, [
        { stage: 'preStart', outcome: 'Succeeded', message: 'All hooks succeeded' },
        { stage: 'preRun', outcome: 'Succeeded', message: 'All hooks succeeded' },
        { stage: 'postRun', outcome: 'Succeeded', message: 'All hooks succeeded' },
      ]),
    ).to.deep.equal([
      {
        type: 'Hooks',
        status: 'True',
        reason: 'HooksRan',
        message: 'replay 2: preStart ran (kubectl get ns); preRun ran (no user hooks); postRun ran (a; b x)',
      },
    ]);
  });

  it('is False with SimKube’s words when a stage failed', () => {
    const [c] = hooksCondition(ep, 0, [
      { stage: 'preStart', outcome: 'Succeeded', message: 'ok' },
      { stage: 'postRun', outcome: 'Failed', message: 'Simulation hook `b x` failed with exit code: 3' },
    ]);
    expect(c).to.include({ status: 'False', reason: 'HookFailed' });
    expect(c!.message).to.equal(
      'replay 0: preStart ran (kubectl get ns); postRun failed (a; b x): Simulation hook `b x` failed with exit code: 3',
    );
    expect(hookFailedCondition(new HookFailed('x'.repeat(2000))).message).to.have.length(1000);
  });

  it('ends the episode on HookFailed only (other backend errors are retried)', () => {
    expect(isHookFailed(new HookFailed('x'))).to.equal(true);
    expect(isHookFailed(new Error('x'))).to.equal(false);
    expect(isHookFailed(undefined)).to.equal(false);
  });

  it('says nothing when the backend reported no stages', () => {
    expect(hooksCondition(ep, 0, undefined)).to.deep.equal([]);
    expect(hooksCondition(ep, 0, [])).to.deep.equal([]);
  });
});
