// POST /v1/step-batch: many envs per request, checked as a whole before anything runs.
import { expect } from 'chai';
import { mulberry32, randomInt } from '../../../src/util/rng.js';
import { ACTION, createEnv, testServer, type TestServer } from './helpers.js';

describe('env server step-batch', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer();
  });
  after(async () => {
    await s.close();
  });

  it('gives the same results as stepping each env alone', async () => {
    const scenarios = ['composite', 'cpu-mem', 'replicas-over'];
    const batched = await Promise.all(scenarios.map((scenario) => createEnv(s, { scenario, maxSteps: 100 })));
    const single = await Promise.all(scenarios.map((scenario) => createEnv(s, { scenario, maxSteps: 100 })));
    const reset = await s.call('POST', '/v1/step-batch', {
      steps: batched.map((id, i) => ({ id, reset: { seed: 10 + i } })),
    });
    expect(reset.status).to.equal(200);
    for (let i = 0; i < single.length; i++) {
      const r = await s.call('POST', `/v1/envs/${single[i]}/reset`, { seed: 10 + i });
      expect(reset.body.results[i]).to.deep.equal({ id: batched[i], reset: true, ...r.body });
    }
    const rng = mulberry32(99);
    for (let t = 0; t < 25; t++) {
      const actions = scenarios.map(() => randomInt(rng, 7));
      const b = await s.call('POST', '/v1/step-batch', { steps: batched.map((id, i) => ({ id, action: actions[i] })) });
      expect(b.status).to.equal(200);
      for (let i = 0; i < single.length; i++) {
        const r = await s.call('POST', `/v1/envs/${single[i]}/step`, { action: actions[i] });
        expect(r.status).to.equal(200);
        expect(b.body.results[i]).to.deep.equal({ id: batched[i], ...r.body });
      }
      if (b.body.results.some((x: { terminated?: boolean; truncated?: boolean }) => x.terminated || x.truncated)) {
        const which = b.body.results.map((x: { terminated?: boolean; truncated?: boolean }) =>
          Boolean(x.terminated || x.truncated),
        );
        await s.call('POST', '/v1/step-batch', {
          steps: batched.filter((_, i) => which[i]).map((id) => ({ id, reset: true })),
        });
        await Promise.all(single.filter((_, i) => which[i]).map((id) => s.call('POST', `/v1/envs/${id}/reset`, {})));
      }
    }
  });

  it('checks every item first: one bad item fails the batch and no env moves', async () => {
    const a = await createEnv(s, { scenario: 'replicas-under' });
    const b = await createEnv(s, { scenario: 'replicas-under' });
    await s.call('POST', '/v1/step-batch', {
      steps: [
        { id: a, reset: {} },
        { id: b, reset: {} },
      ],
    });
    const cases: Array<[unknown, number, RegExp]> = [
      [
        {
          steps: [
            { id: a, action: ACTION['scale-up'] },
            { id: b, action: 9 },
          ],
        },
        400,
        /steps\[1\] \(env env-[0-9a-f]+\): invalid action 9/,
      ],
      [
        {
          steps: [
            { id: a, action: ACTION['scale-up'] },
            { id: 'env-gone', action: 0 },
          ],
        },
        404,
        /steps\[1\]: no env with id "env-gone"/,
      ],
      [
        {
          steps: [
            { id: a, action: 0 },
            { id: a, action: 0 },
          ],
        },
        400,
        /appears twice/,
      ],
      [{ steps: [{ id: a, action: 0, extra: 1 }] }, 400, /unknown field "extra"/],
      [{ steps: [{ id: a, action: 0, reset: {} }] }, 400, /action or reset, not both/],
      [{ steps: [{ id: a }] }, 400, /action is required/],
      [{ steps: [{ id: a, reset: { seed: 'x' } }] }, 400, /steps\[0\]\.reset: seed must be an integer/],
      [{ steps: [] }, 400, /non-empty array/],
      [{ steps: 'a' }, 400, /non-empty array/],
      [[], 400, /"steps"/],
    ];
    for (const [body, status, message] of cases) {
      const r = await s.call('POST', '/v1/step-batch', body);
      expect(r.status, JSON.stringify(body)).to.equal(status);
      expect(r.body.error).to.match(message);
    }
    // Neither env moved.
    const ra = await s.call('POST', `/v1/envs/${a}/step`, { action: 0 });
    expect(ra.body.info).to.deep.include({ step: 1 });
    expect(ra.body.info.resources.replicas).to.equal(1);
  });

  it('refuses the whole batch when one env needs a reset', async () => {
    const a = await createEnv(s, { scenario: 'healthy' });
    const b = await createEnv(s, { scenario: 'healthy' });
    await s.call('POST', `/v1/envs/${a}/reset`, {});
    const r = await s.call('POST', '/v1/step-batch', {
      steps: [
        { id: a, action: 0 },
        { id: b, action: 0 },
      ],
    });
    expect(r.status).to.equal(400);
    expect(r.body.error).to.match(/steps\[1\].*not been reset/);
    expect((await s.call('GET', `/v1/envs/${a}`)).body.step).to.equal(0);
  });

  it('limits the batch size', async () => {
    const small = await testServer({ maxBatch: 2 });
    try {
      const r = await small.call('POST', '/v1/step-batch', {
        steps: [
          { id: 'a', action: 0 },
          { id: 'b', action: 0 },
          { id: 'c', action: 0 },
        ],
      });
      expect(r.status).to.equal(413);
      expect(r.body.error).to.match(/at most 2/);
    } finally {
      await small.close();
    }
  });
});
