// GET /metrics on a real env server: valid exposition text, and counters that move with requests and steps.
import { expect } from 'chai';
import { scrape, sampleSum, type Family } from '../../support/prometheus.js';
import { routeOf } from '../../../src/envserver/metrics.js';
import { BIG_BODY_BYTES, BigBodyGate } from '../../../src/envserver/big-body.js';
import { HttpError } from '../../../src/envserver/errors.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
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

  it('counts each refusal under its own reason, not by status code (413 and 503 each have several causes)', async () => {
    const small = await testServer({ maxBodyBytes: 4096, maxBatch: 2, maxTraceBytes: 64, maxEnvs: 1 });
    try {
      const before = await scrape(`${small.url}/metrics`);
      const trace = Buffer.from(encodeTrace(canonicalScenario('cpu-slight').trace)).toString('base64');
      const refusals: Array<[string, () => Promise<{ status: number }>, number]> = [
        ['body_too_large', () => small.call('POST', '/v1/envs', { trace: 'A'.repeat(8000) }), 413],
        ['trace_too_large', () => small.call('POST', '/v1/envs', { trace }), 413],
        ['batch_too_large', () => small.call('POST', '/v1/step-batch', { steps: [{}, {}, {}] }), 413],
        ['unsupported_media_type', () => small.call('POST', '/v1/envs', '{}', { 'content-type': 'text/plain' }), 415],
        ['forbidden', () => small.call('GET', '/v1/envs', undefined, { origin: 'https://example.com' }), 403],
      ];
      for (const [reason, call, status] of refusals) expect((await call()).status, reason).to.equal(status);
      await createEnv(small, { scenario: 'cpu-slight' });
      expect((await small.call('POST', '/v1/envs', { scenario: 'cpu-slight' })).status).to.equal(429);
      const after = await scrape(`${small.url}/metrics`);
      const delta = (reason: string) =>
        sampleSum(after, 'sim_arena_envserver_rejected_requests_total', { reason }) -
        sampleSum(before, 'sim_arena_envserver_rejected_requests_total', { reason });
      for (const [reason] of refusals) expect(delta(reason), reason).to.equal(1);
      expect(delta('quota')).to.equal(1);
      expect(delta('budget'), 'no 503 was sent').to.equal(0);
    } finally {
      await small.close();
    }
  });

  it('a second large body while one is read is refused as busy, not as the trace budget', () => {
    const gate = new BigBodyGate();
    const big = { headers: { 'content-length': String(BIG_BODY_BYTES + 1) } };
    const leave = gate.enter(big);
    let err: unknown;
    try {
      gate.enter(big);
    } catch (e) {
      err = e;
    }
    leave();
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(503);
    expect((err as HttpError).refused).to.equal('busy');
    expect(() => gate.enter(big)()).to.not.throw();
  });

  it('keeps env ids out of label values', () => {
    expect(routeOf('/v1/envs/env-0123/step')).to.equal('/v1/envs/:id/step');
    expect(routeOf('/v1/envs/env-0123')).to.equal('/v1/envs/:id');
    expect(routeOf('/v1/envs/env-0123/other')).to.equal('unmatched');
    expect(routeOf('/v1/step-batch')).to.equal('/v1/step-batch');
    expect(routeOf('/anything/else/at/all')).to.equal('unmatched');
  });
});
