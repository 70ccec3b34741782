// sim-arena serve --workers N: the same answers as one process, requests routed to the worker that holds the env,
// and the limits (env cap, client quota, token) enforced across workers.
import { expect } from 'chai';
import { startWorkerEnvServer, type WorkerEnvServer } from '../../../src/envserver/workers.js';
import { mulberry32, randomInt } from '../../../src/util/rng.js';
import { createEnv, jsonClient, testServer, type TestServer } from './helpers.js';

type Call = TestServer['call'];

async function workerServer(
  opts: Parameters<typeof startWorkerEnvServer>[0],
): Promise<{ server: WorkerEnvServer; call: Call }> {
  const { server, url } = await startWorkerEnvServer({ host: '127.0.0.1', port: 0, ...opts });
  return { server, call: jsonClient(url) };
}

async function create(call: Call, body: object, headers?: Record<string, string>): Promise<string> {
  const r = await call('POST', '/v1/envs', body, headers);
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

const withoutId = (x: Record<string, unknown>) => {
  const { id: _id, ...rest } = x;
  return rest;
};

describe('env server with worker threads (serve --workers)', function () {
  // Each worker thread compiles the TypeScript sources through tsx when it starts (seconds on a loaded machine).
  this.timeout(180_000);
  let w: { server: WorkerEnvServer; call: Call };
  let one: TestServer;
  before(async () => {
    w = await workerServer({ workers: 2, maxEnvs: 12, maxEnvsPerClient: 12 });
    one = await testServer({ maxEnvs: 12 });
  });
  after(async () => {
    await w?.server.close();
    await one?.close();
  });

  it('plays the same episodes as one process, with envs spread over both workers', async () => {
    const scenarios = ['composite', 'cpu-mem', 'replicas-over', 'mem-slight'];
    const a: string[] = [];
    const b: string[] = [];
    for (const scenario of scenarios) {
      a.push(await create(w.call, { scenario, maxSteps: 30 }));
      b.push(await createEnv(one, { scenario, maxSteps: 30 }));
    }
    expect(w.server.load).to.deep.equal([2, 2]);
    const ra = await w.call('POST', '/v1/step-batch', { steps: a.map((id, i) => ({ id, reset: { seed: 5 + i } })) });
    const rb = await one.call('POST', '/v1/step-batch', { steps: b.map((id, i) => ({ id, reset: { seed: 5 + i } })) });
    expect(ra.status).to.equal(200);
    expect(ra.body.results.map((x: { id: string }) => x.id)).to.deep.equal(a);
    expect(ra.body.results.map(withoutId)).to.deep.equal(rb.body.results.map(withoutId));
    const rng = mulberry32(7);
    const done = new Set<number>();
    for (let t = 0; t < 30 && done.size < a.length; t++) {
      const live = a.map((_, i) => i).filter((i) => !done.has(i));
      const acts = live.map(() => randomInt(rng, 7));
      const sa = await w.call('POST', '/v1/step-batch', { steps: live.map((i, k) => ({ id: a[i], action: acts[k] })) });
      const sb = await one.call('POST', '/v1/step-batch', {
        steps: live.map((i, k) => ({ id: b[i], action: acts[k] })),
      });
      expect(sa.status).to.equal(200);
      expect(sa.body.results.map((x: { id: string }) => x.id)).to.deep.equal(live.map((i) => a[i]));
      expect(sa.body.results.map(withoutId)).to.deep.equal(sb.body.results.map(withoutId));
      sa.body.results.forEach((r: { terminated: boolean; truncated: boolean }, k: number) => {
        if (r.terminated || r.truncated) done.add(live[k]!);
      });
    }
    // Single-env routes reach the env's own worker.
    for (let i = 0; i < a.length; i++) {
      const sa = await w.call('POST', `/v1/envs/${a[i]}/reset`, { seed: 40 + i });
      const sb = await one.call('POST', `/v1/envs/${b[i]}/reset`, { seed: 40 + i });
      expect(sa.body).to.deep.equal(sb.body);
      const ga = await w.call('POST', `/v1/envs/${a[i]}/step`, { action: 3 });
      const gb = await one.call('POST', `/v1/envs/${b[i]}/step`, { action: 3 });
      expect(ga.body).to.deep.equal(gb.body);
      expect((await w.call('GET', `/v1/envs/${a[i]}`)).body.step).to.equal(1);
    }
    for (const id of a) expect((await w.call('DELETE', `/v1/envs/${id}`)).status).to.equal(200);
    expect(w.server.size).to.equal(0);
    expect((await w.call('GET', `/v1/envs/${a[0]}`)).status).to.equal(404);
  });

  it('fails a batch that spans workers as a whole when one item is bad, and no env moves', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await create(w.call, { scenario: 'replicas-under' }));
    await w.call('POST', '/v1/step-batch', { steps: ids.slice(0, 3).map((id) => ({ id, reset: {} })) });
    // ids[3] was never reset: the worker holding it refuses item 3; the other worker's items must not run.
    const r = await w.call('POST', '/v1/step-batch', { steps: ids.map((id) => ({ id, action: 3 })) });
    expect(r.status).to.equal(400);
    expect(r.body.error).to.match(/^steps\[3\] \(env env-[0-9a-f]+\): the env has not been reset/);
    for (const id of ids.slice(0, 3)) expect((await w.call('GET', `/v1/envs/${id}`)).body.step).to.equal(0);
    // The first bad item in the request's order wins, whichever worker or check finds it.
    const r2 = await w.call('POST', '/v1/step-batch', {
      steps: [
        { id: ids[0], action: 3 },
        { id: ids[3], action: 3 },
        { id: 'env-nope', action: 1 },
      ],
    });
    expect(r2.status).to.equal(400);
    expect(r2.body.error).to.match(/^steps\[1\]/);
    const r3 = await w.call('POST', '/v1/step-batch', {
      steps: [
        { id: ids[0], action: 3 },
        { id: 'env-nope', action: 1 },
        { id: ids[3], action: 3 },
      ],
    });
    expect(r3.status).to.equal(404);
    expect(r3.body.error).to.match(/^steps\[1\]: no env with id "env-nope"/);
    const bad = await w.call('POST', '/v1/step-batch', { steps: [] });
    expect(bad.status).to.equal(400);
    for (const id of ids) await w.call('DELETE', `/v1/envs/${id}`);
  });

  it('enforces the env cap and each client quota across workers, and sums the metrics', async () => {
    const small = await workerServer({ workers: 2, maxEnvs: 3, maxEnvsPerClient: 2, idleTimeoutSeconds: 0 });
    try {
      const mine = { 'x-client-token': 'alice' };
      const a1 = await create(small.call, {}, mine);
      await create(small.call, {}, mine);
      expect(small.server.load).to.deep.equal([1, 1]);
      const over = await small.call('POST', '/v1/envs', {}, mine);
      expect(over.status).to.equal(429);
      expect(over.body.error).to.match(/too many envs for this client: at most 2/);
      await create(small.call, {}, { 'x-client-token': 'bob' });
      const full = await small.call('POST', '/v1/envs', {}, { 'x-client-token': 'carol' });
      expect(full.status).to.equal(429);
      expect(full.body.error).to.match(/this server holds at most 3/);
      // Another client cannot see alice's env, on any route.
      expect((await small.call('GET', `/v1/envs/${a1}`, undefined, { 'x-client-token': 'bob' })).status).to.equal(404);
      const foreign = await small.call(
        'POST',
        '/v1/step-batch',
        { steps: [{ id: a1, reset: {} }] },
        {
          'x-client-token': 'bob',
        },
      );
      expect(foreign.status).to.equal(404);
      // A DELETE frees room on the router too.
      expect((await small.call('DELETE', `/v1/envs/${a1}`, undefined, mine)).status).to.equal(200);
      await create(small.call, {}, { 'x-client-token': 'carol' });
      expect((await small.call('GET', '/healthz')).body).to.deep.include({ envs: 3, workers: 2 });
      const metrics = await small.call('GET', '/metrics');
      // Summed over the workers (plus this test process's own one-process server, which shares the router's registry).
      const open = /^sim_arena_envserver_envs_open (\d+)$/m.exec(metrics.body as string);
      expect(Number(open?.[1])).to.equal(3 + one.server.registry.size);
    } finally {
      await small.server.close();
    }
  });

  it('puts every /v1 route behind the token', async () => {
    const locked = await workerServer({ workers: 2, token: 's3cret' });
    try {
      for (const [method, path] of [
        ['POST', '/v1/envs'],
        ['POST', '/v1/step-batch'],
        ['GET', '/v1/scenarios'],
      ] as const) {
        const r = await locked.call(method, path, method === 'POST' ? {} : undefined);
        expect(r.status, `${method} ${path}`).to.equal(401);
      }
      const ok = await locked.call('POST', '/v1/envs', {}, { authorization: 'Bearer s3cret' });
      expect(ok.status).to.equal(201);
    } finally {
      await locked.server.close();
    }
  });
});
