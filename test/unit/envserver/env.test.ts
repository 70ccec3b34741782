// ArenaEnv without HTTP: what it asks the backend, how it recovers from a backend failure, and that it scores with
// the arena's own reward.
import { expect } from 'chai';
import { actionMask } from '../../../src/arena/actions.js';
import { computeReward } from '../../../src/arena/reward.js';
import { mulberry32, randomInt } from '../../../src/util/rng.js';
import { DEFAULT_SAFEGUARDS } from '../../../src/arena/safeguards.js';
import type { Observation } from '../../../src/arena/observation.js';
import type { Backend, RunOptions } from '../../../src/arena/backend.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import type { Trace } from '../../../src/trace/trace.js';
import type { WorkloadRef } from '../../../src/trace/workload.js';
import { parseCreateRequest } from '../../../src/envserver/config.js';
import { ArenaEnv, episodeSeed } from '../../../src/envserver/env.js';
import { HttpError } from '../../../src/envserver/errors.js';

class RecordingBackend implements Backend {
  readonly runs: RunOptions[] = [];
  failNext = false;
  constructor(readonly name: 'embedded' | 'kwok' = 'kwok') {}
  async run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation> {
    this.runs.push(opts);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('cluster went away');
    }
    return new EmbeddedBackend().run(trace, workload, opts);
  }
}

const config = (body: Record<string, unknown>) => parseCreateRequest(body, 'embedded');

describe('ArenaEnv', () => {
  it('replays on every step for a cluster backend, with a distinct run name each time', async () => {
    const backend = new RecordingBackend('kwok');
    const env = new ArenaEnv({ ...config({ scenario: 'mem-heavy' }), backend: 'kwok' }, backend, 'envA');
    await env.reset({ seed: 4 });
    await env.stepAction(0);
    await env.stepAction(0);
    await env.reset({});
    expect(backend.runs.map((r) => r.runName)).to.deep.equal(['envA-e1-s0', 'envA-e1-s1', 'envA-e1-s2', 'envA-e2-s0']);
    expect(new Set(backend.runs.slice(0, 3).map((r) => r.seed)).size).to.equal(1);
  });

  it('skips the replay for an unchanged trace on the embedded backend (as the arena does)', async () => {
    const backend = new RecordingBackend('embedded');
    const env = new ArenaEnv(config({ scenario: 'mem-slight' }), backend);
    await env.reset({ seed: 1 });
    await env.stepAction(0); // noop
    await env.stepAction(2); // bump-mem: blocked by the cap
    expect(backend.runs).to.have.length(1);
    await env.stepAction(5); // reduce-mem changes the trace
    expect(backend.runs).to.have.length(2);
  });

  it('needs a reset after a backend failure, then works again', async () => {
    const backend = new RecordingBackend('kwok');
    const env = new ArenaEnv({ ...config({ scenario: 'cpu-slight' }), backend: 'kwok' }, backend);
    await env.reset({ seed: 0 });
    backend.failNext = true;
    let err: unknown;
    try {
      await env.stepAction(4);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('cluster went away');
    try {
      await env.stepAction(4);
      expect.fail('stepped a broken env');
    } catch (e) {
      expect(e).to.be.instanceOf(HttpError);
      expect((e as HttpError).status).to.equal(400);
      expect((e as Error).message).to.match(/failed part-way: call reset/);
    }
    const r = await env.reset({ seed: 0 });
    expect(r.info.resources.cpu).to.equal('17');
    expect((await env.stepAction(4)).info.resources.cpu).to.equal('16500m');
  });

  it("scores with the arena's reward for the episode's mode", async () => {
    for (const mode of ['binary', 'shaped', 'scale', 'cost-aware', 'max-punish'] as const) {
      const env = new ArenaEnv(
        config({ scenario: 'composite', reward: { mode, stepPenalty: 0.01 } }),
        new EmbeddedBackend(),
      );
      await env.reset({ seed: 2 });
      for (const a of [6, 5, 1, 3, 0]) {
        const r = await env.stepAction(a);
        const expected = computeReward(
          { safeguards: DEFAULT_SAFEGUARDS, mode, stepPenalty: 0.01 },
          { obs: r.info.raw_observation, target: 3, resources: r.info.resources, blocked: r.info.blocked! },
        );
        expect(r.reward, `${mode} action ${a}`).to.equal(expected);
      }
    }
  });

  it('folds seeds into 32 bits, leaving ordinary ones unchanged', () => {
    expect(episodeSeed(0)).to.equal(0);
    expect(episodeSeed(0xffffffff)).to.equal(0xffffffff);
    expect(episodeSeed(2 ** 32)).to.not.equal(episodeSeed(0));
    expect(episodeSeed(-5)).to.equal(episodeSeed(-5));
    expect(episodeSeed(2 ** 53 - 1)).to.be.within(0, 0xffffffff);
  });

  it('info.action_mask (kept until an action changes the trace) equals the mask computed afresh after every step', async () => {
    const backend = new EmbeddedBackend();
    const rng = mulberry32(7);
    for (const scenario of ['mem-slight', 'replicas-under', 'cpu-heavy', 'replicas-over']) {
      const env = new ArenaEnv(config({ scenario, maxSteps: 30, safeguards: { minReplicas: 2 } }), backend);
      const fresh = () => {
        const e = env as unknown as {
          trace: Trace;
          spec: { workload: WorkloadRef; actions: Parameters<typeof actionMask>[2] };
        };
        return actionMask(e.trace, e.spec.workload, e.spec.actions).map((ok) => (ok ? 1 : 0));
      };
      let r: { info: { action_mask: number[] }; terminated?: boolean; truncated?: boolean } = await env.reset({
        seed: 3,
      });
      expect(r.info.action_mask).to.deep.equal(fresh());
      let blocked = 0;
      for (let i = 0; i < 60; i++) {
        if (r.terminated || r.truncated) r = await env.reset({});
        else {
          const step = await env.stepAction(randomInt(rng, 7));
          if (step.info.blocked) blocked++;
          r = step;
        }
        expect(r.info.action_mask, `${scenario} step ${i}`).to.deep.equal(fresh());
      }
      expect(blocked, `${scenario}: some blocked actions`).to.be.greaterThan(0);
    }
  });
  it('a reset starts from the pristine scenario trace after an episode edited its copy (split and created trace)', async () => {
    const backend = new EmbeddedBackend();
    for (const [what, body, options] of [
      ['a train-split scenario', {}, { split: 'train' }],
      ['a named scenario', {}, { scenario: 'cpu-heavy' }],
      ['the trace it was created with', { scenario: 'mem-slight' }, undefined],
    ] as const) {
      const used = new ArenaEnv(config(body), backend, 'used');
      const fresh = new ArenaEnv(config(body), backend, 'fresh');
      await used.reset({ seed: 11, options });
      let changed = 0;
      for (const a of [4, 5, 6, 1, 2, 3, 4, 5, 6, 1]) {
        const r = await used.stepAction(a);
        if (r.info.changed) changed++;
        if (r.terminated || r.truncated) break;
      }
      expect(changed, `${what}: the episode edited its trace`).to.be.greaterThan(0);
      // Same seed, no options: the same scenario again, from its start.
      const again = await used.reset({ seed: 11 });
      expect(again, what).to.deep.equal(await fresh.reset({ seed: 11, options }));
      const rng = mulberry32(5);
      for (let i = 0; i < 20; i++) {
        const a = randomInt(rng, 7);
        const [x, y] = [await used.stepAction(a), await fresh.stepAction(a)];
        expect(x, `${what}, step ${i}`).to.deep.equal(y);
        if (x.terminated || x.truncated) break;
      }
    }
  });
});
