// GET /metrics on a real env server: valid exposition text, and counters that move with requests and steps.
import { expect } from 'chai';
import { scrape, sampleSum, type Family } from '../../support/prometheus.js';
import { routeOf } from '../../../src/envserver/metrics.js';
import { ACTION, createEnv, testServer, type TestServer } from './helpers.js';

describe('env server /metrics', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer({ token: 'metrics-test-token' });
  });
  after(async () => {
    await s.close();
  });
  const auth = { authorization: 'Bearer metrics-test-token' };
  const get = (): Promise<Map<string, Family>> => scrape(`${s.url}/metrics`);

  it('serves valid exposition text without a token', async () => {
    const f = await get();
    for (const name of [
      'sim_arena_envserver_requests_total',
      'sim_arena_envserver_steps_total',
      'sim_arena_envserver_step_duration_seconds',
      'sim_arena_envserver_envs_open',
      'sim_arena_envserver_rejected_requests_total',
      'process_cpu_seconds_total',
    ]) {
      expect(f.has(name), name).to.equal(true);
    }
    expect(f.get('sim_arena_envserver_step_duration_seconds')!.type).to.equal('histogram');
  });

  it('counts requests by route and code, steps, step latency, envs open and refusals', async () => {
    const before = await get();
    const id = await createEnv(s, { scenario: 'cpu-slight', seed: 1 }, auth);
    expect((await s.call('POST', `/v1/envs/${id}/reset`, {}, auth)).status).to.equal(200);
    for (let i = 0; i < 3; i++)
      expect((await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION.noop }, auth)).status).to.equal(200);
    const batch = await s.call('POST', '/v1/step-batch', { steps: [{ id, action: ACTION.noop }] }, auth);
    expect(batch.status).to.equal(200);
    expect((await s.call('POST', '/v1/envs', { scenario: 'cpu-slight' })).status).to.equal(401);
    const after = await get();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('sim_arena_envserver_steps_total')).to.equal(4);
    expect(delta('sim_arena_envserver_resets_total')).to.equal(1);
    expect(delta('sim_arena_envserver_step_duration_seconds_count')).to.equal(4);
    expect(
      delta('sim_arena_envserver_requests_total', { route: '/v1/envs/:id/step', method: 'POST', code: '200' }),
    ).to.equal(3);
    expect(delta('sim_arena_envserver_requests_total', { route: '/v1/envs', code: '201' })).to.equal(1);
    expect(delta('sim_arena_envserver_requests_total', { route: '/v1/envs', code: '401' })).to.equal(1);
    expect(delta('sim_arena_envserver_rejected_requests_total', { reason: 'unauthorized' })).to.equal(1);
    expect(sampleSum(after, 'sim_arena_envserver_envs_open')).to.be.at.least(1);
    expect((await s.call('DELETE', `/v1/envs/${id}`, undefined, auth)).status).to.equal(200);
    expect(sampleSum(await get(), 'sim_arena_envserver_envs_open')).to.equal(
      sampleSum(after, 'sim_arena_envserver_envs_open') - 1,
    );
  });

  it('keeps env ids out of label values', () => {
    expect(routeOf('/v1/envs/env-0123/step')).to.equal('/v1/envs/:id/step');
    expect(routeOf('/v1/envs/env-0123')).to.equal('/v1/envs/:id');
    expect(routeOf('/v1/envs/env-0123/other')).to.equal('unmatched');
    expect(routeOf('/v1/step-batch')).to.equal('/v1/step-batch');
    expect(routeOf('/anything/else/at/all')).to.equal('unmatched');
  });
});
