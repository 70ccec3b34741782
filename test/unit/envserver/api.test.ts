// The env server's HTTP API against a real server on 127.0.0.1:0 with the embedded backend.
import { expect } from 'chai';
import { ACTIONS } from '../../../src/arena/actions.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
import { ACTION, createEnv, testServer, type TestServer } from './helpers.js';

describe('env server HTTP API', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer();
  });
  after(async () => {
    await s.close();
  });

  describe('create', () => {
    it('answers 201 with an unguessable id, the spaces and the episode it runs', async () => {
      const r = await s.call('POST', '/v1/envs', { scenario: 'cpu-slight', maxSteps: 7, seed: 3 });
      expect(r.status).to.equal(201);
      expect(r.body.id).to.match(/^env-[0-9a-f]{32}$/);
      expect(r.headers.get('location')).to.equal(`/v1/envs/${r.body.id}`);
      expect(r.body.action_space).to.deep.equal({ type: 'Discrete', n: 7, start: 0, actions: [...ACTIONS] });
      const box = r.body.observation_space;
      expect(box).to.include({ type: 'Box', dtype: 'float32' });
      expect(box.shape).to.deep.equal([9]);
      expect(box.low).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(box.high).to.deep.equal([4, 4, 4, 4, 4, 4, 1, 1, 1]);
      expect(box.names).to.have.length(9);
      expect(r.body.env).to.include({
        source: 'cpu-slight',
        workload: 'Deployment default/web',
        target: 3,
        maxSteps: 7,
        backend: 'embedded',
      });
      const again = await s.call('POST', '/v1/envs', { scenario: 'cpu-slight' });
      expect(again.body.id).to.not.equal(r.body.id);
    });

    it('takes an uploaded base64 msgpack trace, and a generated random scenario', async () => {
      const trace = Buffer.from(encodeTrace(canonicalScenario('replicas-over').trace)).toString('base64');
      const id = await createEnv(s, { trace, workload: 'default/web', target: 3 });
      const r = await s.call('POST', `/v1/envs/${id}/reset`, {});
      expect(r.body.info.resources).to.deep.equal({
        cpu: '500m',
        memory: '512Mi',
        replicas: 5,
        effectiveCpu: '500m',
        effectiveMemory: '512Mi',
      });
      const g = await s.call('POST', '/v1/envs', { random: { seed: 4, index: 2 } });
      expect(g.status).to.equal(201);
      expect(g.body.env.source).to.equal('random:4:2');
    });

    const bad: Array<[string, unknown, RegExp]> = [
      ['an unknown scenario', { scenario: 'nope' }, /unknown scenario "nope"/],
      ['two trace sources', { scenario: 'healthy', random: { seed: 1 } }, /one of scenario, random or trace/],
      ['an unknown field', { scenario: 'healthy', maxStep: 3 }, /unknown field "maxStep"/],
      ['maxSteps 0', { maxSteps: 0 }, /maxSteps must be a whole number from 1/],
      ['a float target', { target: 2.5 }, /target must be a whole number/],
      ['an unknown reward mode', { reward: 'lots' }, /unknown reward mode "lots"/],
      ['a bad quantity', { actions: { cpuStep: 'five' } }, /actions\.cpuStep/],
      ['min above max', { safeguards: { minReplicas: 5, maxReplicas: 2 } }, /minReplicas 5 is above maxReplicas 2/],
      ['another backend', { backend: 'kwok' }, /runs the embedded backend, not kwok/],
      ['an unknown backend', { backend: 'mars' }, /unknown backend "mars"/],
      [
        'a missing workload',
        { scenario: 'healthy', workload: 'default/api' },
        /Deployment default\/api is not in the trace/,
      ],
      ['a missing container', { scenario: 'healthy', container: 'sidecar' }, /no container "sidecar"/],
      [
        'a trace that is not msgpack',
        { trace: Buffer.from('{"version":2}').toString('base64') },
        /invalid trace.*JSON/,
      ],
      ['a trace that is not base64', { trace: '!!!' }, /not valid base64/],
      ['a body that is an array', [1, 2], /must be a JSON object/],
    ];
    for (const [what, body, message] of bad) {
      it(`answers 400 with a message for ${what}`, async () => {
        const r = await s.call('POST', '/v1/envs', body);
        expect(r.status, JSON.stringify(r.body)).to.equal(400);
        expect(r.body.error).to.match(message);
        expect(Object.keys(r.body)).to.deep.equal(['error']);
      });
    }

    it('answers 400 for malformed and empty JSON', async () => {
      let r = await s.call('POST', '/v1/envs', '{"scenario": ');
      expect(r.status).to.equal(400);
      expect(r.body.error).to.match(/not valid JSON/);
      r = await s.call('POST', '/v1/envs', '');
      expect(r.status).to.equal(400);
      expect(r.body.error).to.match(/empty/);
    });
  });

  describe('reset and step', () => {
    it('resets to the scenario, steps with the arena, terminates at the target', async () => {
      const id = await createEnv(s, { scenario: 'cpu-slight', maxSteps: 10 });
      const reset = await s.call('POST', `/v1/envs/${id}/reset`, { seed: 1 });
      expect(reset.status).to.equal(200);
      expect(reset.body.observation).to.deep.equal([0, 1, 1, 1, 1.0625, 0.0625, 0, 0, 0]);
      expect(reset.body.info).to.deep.include({
        seed: 1,
        step: 0,
        max_steps: 10,
        target: 3,
        solved: false,
        node_count: 3,
      });
      expect(reset.body.info.raw_observation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
      expect(reset.body.info.resources).to.deep.equal({
        cpu: '17',
        memory: '2Gi',
        replicas: 3,
        effectiveCpu: '17',
        effectiveMemory: '2Gi',
      });
      expect(reset.body.info.largest_node).to.deep.equal({ cpu: '16', memory: '32Gi' });

      const one = await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION['reduce-cpu'] });
      expect(one.status).to.equal(200);
      expect(Object.keys(one.body)).to.deep.equal(['observation', 'reward', 'terminated', 'truncated', 'info']);
      expect(one.body).to.deep.include({ terminated: false, truncated: false });
      expect(one.body.info).to.deep.include({
        step: 1,
        action: 'reduce-cpu',
        action_index: 4,
        changed: true,
        blocked: false,
        blocked_reason: '',
      });
      expect(one.body.info.resources.cpu).to.equal('16500m');
      expect(one.body.reward).to.be.closeTo(-0.45, 1e-9);

      const two = await s.call('POST', `/v1/envs/${id}/step`, { action: 'reduce-cpu' });
      expect(two.body).to.deep.include({ reward: 1, terminated: true, truncated: false });
      expect(two.body.info.solved).to.equal(true);
      expect(two.body.observation.slice(0, 4)).to.deep.equal([1, 0, 1, 1]);
      expect(two.body.observation[6]).to.equal(1);

      const after = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
      expect(after.status).to.equal(400);
      expect(after.body.error).to.match(/episode is over \(terminated at step 2.*\): call reset/);

      const again = await s.call('POST', `/v1/envs/${id}/reset`);
      expect(again.status).to.equal(200);
      expect(again.body.info.step).to.equal(0);
      expect(again.body.info.resources.cpu).to.equal('17');
    });

    it('truncates when the step count reaches maxSteps', async () => {
      const id = await createEnv(s, { scenario: 'mem-heavy', maxSteps: 2 });
      await s.call('POST', `/v1/envs/${id}/reset`, {});
      const a = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
      expect(a.body).to.deep.include({ terminated: false, truncated: false });
      const b = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
      expect(b.body).to.deep.include({ terminated: false, truncated: true });
      expect(b.body.observation[7]).to.equal(1);
      const c = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
      expect(c.status).to.equal(400);
      expect(c.body.error).to.match(/truncated at step 2: maxSteps is 2/);
    });

    it('reports a blocked action in the observation and info', async () => {
      const id = await createEnv(s, { scenario: 'mem-slight' });
      await s.call('POST', `/v1/envs/${id}/reset`, {});
      const r = await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION['bump-mem'] });
      expect(r.body.info.blocked).to.equal(true);
      expect(r.body.info.blocked_reason).to.match(/above the cap of 32Gi/);
      expect(r.body.observation[8]).to.equal(1);
      const next = await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION.noop });
      expect(next.body.observation[8]).to.equal(0);
    });

    it('refuses a step before the first reset', async () => {
      const id = await createEnv(s, { scenario: 'healthy' });
      const r = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
      expect(r.status).to.equal(400);
      expect(r.body.error).to.match(/not been reset/);
    });

    for (const action of [7, -1, 1.5, '7', 'jump', true, null, [1], { a: 1 }]) {
      it(`answers 400 for the action ${JSON.stringify(action)}`, async () => {
        const id = await createEnv(s, { scenario: 'healthy' });
        await s.call('POST', `/v1/envs/${id}/reset`, {});
        const r = await s.call('POST', `/v1/envs/${id}/step`, { action });
        expect(r.status).to.equal(400);
        expect(r.body.error).to.match(/invalid action/);
        // Nothing happened: the next valid step is step 1.
        const ok = await s.call('POST', `/v1/envs/${id}/step`, { action: 0 });
        expect(ok.body.info.step).to.equal(1);
      });
    }

    it('answers 400 for a step body without an action, and bad reset bodies', async () => {
      const id = await createEnv(s, { scenario: 'healthy' });
      expect((await s.call('POST', `/v1/envs/${id}/step`, {})).status).to.equal(400);
      const cases: Array<[unknown, RegExp]> = [
        [{ seed: 'x' }, /seed must be an integer/],
        [{ seed: 1.5 }, /seed must be an integer/],
        [{ options: [1] }, /options must be an object/],
        [{ options: { scenario: 'x' } }, /unknown scenario "x"/],
        [{ options: { level: 1 } }, /unknown reset option "level"/],
        [{ options: { split: 'dev' } }, /options.split must be one of train, val, test, real/],
        [{ sed: 1 }, /unknown field "sed"/],
      ];
      for (const [body, message] of cases) {
        const r = await s.call('POST', `/v1/envs/${id}/reset`, body);
        expect(r.status, JSON.stringify(body)).to.equal(400);
        expect(r.body.error).to.match(message);
      }
      expect((await s.call('POST', `/v1/envs/${id}/reset`, { seed: null, options: {} })).status).to.equal(200);
    });
  });

  describe('ids, routes, deletion', () => {
    it('answers 404 for an unknown id on every env route', async () => {
      for (const [method, path] of [
        ['POST', '/v1/envs/env-0000/reset'],
        ['POST', '/v1/envs/env-0000/step'],
        ['GET', '/v1/envs/env-0000/spaces'],
        ['GET', '/v1/envs/env-0000'],
        ['DELETE', '/v1/envs/env-0000'],
      ] as const) {
        const r = await s.call(method, path, method === 'POST' ? { action: 0 } : undefined);
        expect(r.status, `${method} ${path}`).to.equal(404);
        expect(r.body.error).to.match(/no env with id "env-0000"/);
      }
    });

    it('deletes an env: then it is gone', async () => {
      const id = await createEnv(s, { scenario: 'healthy' });
      expect((await s.call('GET', `/v1/envs/${id}/spaces`)).status).to.equal(200);
      const d = await s.call('DELETE', `/v1/envs/${id}`);
      expect(d.body).to.deep.equal({ id, deleted: true });
      expect((await s.call('POST', `/v1/envs/${id}/reset`, {})).status).to.equal(404);
      expect((await s.call('DELETE', `/v1/envs/${id}`)).status).to.equal(404);
    });

    it('describes an env', async () => {
      const id = await createEnv(s, { scenario: 'replicas-under', maxSteps: 4 });
      await s.call('POST', `/v1/envs/${id}/reset`, { seed: 5 });
      await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION['scale-up'] });
      const r = await s.call('GET', `/v1/envs/${id}`);
      expect(r.body).to.deep.include({ id, phase: 'running', step: 1, episodes: 1, seed: 5, solved: false });
      expect(r.body.env.source).to.equal('replicas-under');
    });

    it('answers 404 for unknown routes, 405 for wrong methods, and serves health and scenarios', async () => {
      expect((await s.call('GET', '/nope')).status).to.equal(404);
      expect((await s.call('GET', '/v1/nope')).status).to.equal(404);
      const m = await s.call('GET', '/v1/envs');
      expect(m.status).to.equal(405);
      expect(m.headers.get('allow')).to.equal('POST');
      expect((await s.call('PUT', '/v1/step-batch', {})).status).to.equal(405);
      expect((await s.call('GET', '/v1/envs/%E0%A4%A/spaces')).status).to.equal(400);
      const h = await s.call('GET', '/healthz');
      expect(h.body).to.include({ ok: true, backend: 'embedded' });
      const sc = await s.call('GET', '/v1/scenarios');
      expect(sc.body.scenarios.map((x: { name: string }) => x.name)).to.include.members([
        'cpu-slight',
        'mem-heavy',
        'healthy',
      ]);
      // Trailing slashes (gym-http-api style) work too.
      expect((await s.call('POST', '/v1/envs/', { scenario: 'healthy' })).status).to.equal(201);
    });
  });
});

describe('env server limits, auth and isolation', () => {
  it('answers 429 past maxEnvs, and has room again after a DELETE', async () => {
    const s = await testServer({ maxEnvs: 2 });
    try {
      const a = await createEnv(s);
      await createEnv(s);
      const r = await s.call('POST', '/v1/envs', {});
      expect(r.status).to.equal(429);
      expect(r.body.error).to.match(/too many envs: this server holds at most 2/);
      expect(r.headers.get('retry-after')).to.equal('5');
      await s.call('DELETE', `/v1/envs/${a}`);
      expect((await s.call('POST', '/v1/envs', {})).status).to.equal(201);
    } finally {
      await s.close();
    }
  });

  it('expires idle envs', async () => {
    const s = await testServer({ idleTimeoutSeconds: 1 });
    try {
      const id = await createEnv(s);
      await new Promise((r) => setTimeout(r, 1100));
      expect(s.server.registry.expire()).to.equal(1);
      expect((await s.call('GET', `/v1/envs/${id}`)).status).to.equal(404);
    } finally {
      await s.close();
    }
  });

  it('answers 413 for a body over the limit', async () => {
    const s = await testServer({ maxBodyBytes: 1024 });
    try {
      const r = await s.call('POST', '/v1/envs', { trace: 'A'.repeat(5000) });
      expect(r.status).to.equal(413);
      expect(r.body.error).to.match(/too large: the limit is 1024 bytes/);
      // A huge declared body is refused without reading it.
      const big = await s.call('POST', '/v1/envs', 'x'.repeat(3 * 1024 * 1024));
      expect(big.status).to.equal(413);
      expect((await s.call('GET', '/healthz')).status).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('requires the bearer token on /v1 when one is set', async () => {
    const s = await testServer({ token: 'sesame' });
    try {
      const no = await s.call('POST', '/v1/envs', {});
      expect(no.status).to.equal(401);
      expect(no.headers.get('www-authenticate')).to.equal('Bearer');
      expect((await s.call('POST', '/v1/envs', {}, { authorization: 'Bearer wrong' })).status).to.equal(401);
      expect((await s.call('POST', '/v1/envs', {}, { authorization: 'Bearer sesame' })).status).to.equal(201);
      expect((await s.call('GET', '/healthz')).status).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('hides an env created with a client token from every other client', async () => {
    const s = await testServer();
    try {
      const id = await createEnv(s, { scenario: 'healthy' }, { 'x-client-token': 'alice' });
      for (const headers of [{}, { 'x-client-token': 'bob' }] as Array<Record<string, string>>) {
        const r = await s.call('POST', `/v1/envs/${id}/reset`, {}, headers);
        expect(r.status).to.equal(404);
        expect((await s.call('DELETE', `/v1/envs/${id}`, undefined, headers)).status).to.equal(404);
        const b = await s.call('POST', '/v1/step-batch', { steps: [{ id, action: 0 }] }, headers);
        expect(b.status).to.equal(404);
      }
      expect((await s.call('POST', `/v1/envs/${id}/reset`, {}, { 'x-client-token': 'alice' })).status).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('keeps envs apart: stepping one never changes another on the same scenario', async () => {
    const s = await testServer();
    try {
      const a = await createEnv(s, { scenario: 'replicas-under' });
      const b = await createEnv(s, { scenario: 'replicas-under' });
      await s.call('POST', `/v1/envs/${a}/reset`, {});
      await s.call('POST', `/v1/envs/${b}/reset`, {});
      for (let i = 0; i < 3; i++) await s.call('POST', `/v1/envs/${a}/step`, { action: ACTION['scale-up'] });
      const rb = await s.call('POST', `/v1/envs/${b}/step`, { action: ACTION.noop });
      expect(rb.body.info.resources.replicas).to.equal(1);
      expect(rb.body.info.step).to.equal(1);
      // A new env on the same scenario starts from the scenario, not from anyone's edits.
      const c = await createEnv(s, { scenario: 'replicas-under' });
      expect((await s.call('POST', `/v1/envs/${c}/reset`, {})).body.info.resources.replicas).to.equal(1);
    } finally {
      await s.close();
    }
  });

  it('runs concurrent requests to one env one at a time', async () => {
    const s = await testServer();
    try {
      const id = await createEnv(s, { scenario: 'mem-heavy', maxSteps: 50 });
      await s.call('POST', `/v1/envs/${id}/reset`, {});
      const rs = await Promise.all(
        Array.from({ length: 8 }, () => s.call('POST', `/v1/envs/${id}/step`, { action: ACTION['reduce-mem'] })),
      );
      expect(rs.map((r) => r.body.info.step).sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      const mems = new Set(rs.map((r) => r.body.info.resources.memory));
      expect(mems.size).to.equal(8);
    } finally {
      await s.close();
    }
  });
});
