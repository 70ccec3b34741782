// Issue 12: the env server against hostile clients — a memory budget checked before decoding, one big decode at a
// time, per-client quotas, JSON-only bodies, loopback Host/Origin checks, strict step bodies, the shared spec rules,
// and no raw engine errors. The big-trace scenario of the issue (25 creates of ~10 MB traces + reset each) runs at a
// reduced scale with limits scaled the same way.
import { expect } from 'chai';
import { request } from 'node:http';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { getIn, isMap, setIn } from '../../../src/trace/model.js';
import { encodeTrace, traceEvents } from '../../../src/trace/trace.js';
import type { MsgMap } from '../../../src/trace/msgpack.js';
import { toHttpError } from '../../../src/envserver/errors.js';
import { createEnv, testServer, type TestServer } from './helpers.js';

/** A valid trace of about `bytes` bytes: the scenario's Deployment carries many annotations. */
function paddedTrace(bytes: number, salt = 'a'): string {
  const { trace } = canonicalScenario('cpu-slight');
  const obj = traceEvents(trace)[0]!.applied[0] as MsgMap;
  const annotations = new Map<string, string>();
  const value = salt.repeat(200);
  for (let i = 0; annotations.size * 230 < bytes; i++) annotations.set(`pad.example.com/k${i}`, value);
  setIn(obj, ['metadata', 'annotations'], annotations as unknown as MsgMap);
  expect(isMap(getIn(obj, ['metadata', 'annotations']))).to.equal(true);
  return Buffer.from(encodeTrace(trace)).toString('base64');
}

/** A raw request (fetch cannot set Host), answering status and parsed body. */
function raw(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'POST', path: opts.path, headers: opts.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('env server hardening', function () {
  this.timeout(120_000);
  let s: TestServer;
  afterEach(async () => s?.close());

  it('memory budget: 25 creates of big traces + reset each — the budget holds, the server stays up, refusals are 413/503 before decoding', async () => {
    // Scaled from the 25 × ~10 MB with a 16 MiB body limit: here ~200 KB traces, 256 KiB per env, 1 MiB total.
    s = await testServer({ maxTraceBytes: 256 * 1024, traceBudgetBytes: 1024 * 1024, maxBodyBytes: 2 * 1024 * 1024 });
    const trace = paddedTrace(200 * 1024);
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const r = await s.call('POST', '/v1/envs', { trace, workload: 'default/web', target: 3 });
      statuses.push(r.status);
      if (r.status === 201) {
        ids.push(r.body.id);
        expect((await s.call('POST', `/v1/envs/${r.body.id}/reset`, {})).status).to.equal(200);
      } else {
        expect(r.status).to.equal(503);
        expect(r.body.error).to.match(
          /trace memory budget is used up: this trace needs \d+ bytes, \d+ of 1048576 are free/,
        );
      }
    }
    expect(ids.length).to.equal(5);
    expect(statuses.filter((x) => x === 503)).to.have.length(20);
    expect(s.server.registry.heldTraceBytes).to.be.at.most(1024 * 1024);
    expect((await s.call('GET', '/healthz')).body).to.include({ ok: true, envs: 5 });
    // Over the per-env limit: 413, decided from the base64 length (garbage proves nothing was decoded: no 400).
    const tooBig = await s.call('POST', '/v1/envs', { trace: 'A'.repeat(400 * 1024) });
    expect(tooBig.status).to.equal(413);
    expect(tooBig.body.error).to.match(
      /the trace is 307200 bytes; at most 262144 per env \(sim-arena serve --max-trace-bytes\)/,
    );
    // Budget full: garbage is refused with 503, not decoded into a 400.
    expect((await s.call('POST', '/v1/envs', { trace: 'A'.repeat(200 * 1024) })).status).to.equal(503);
    // Deleting an env frees its share of the budget.
    await s.call('DELETE', `/v1/envs/${ids[0]}`);
    expect((await s.call('POST', '/v1/envs', { trace, workload: 'default/web', target: 3 })).status).to.equal(201);
  });

  it('a full server answers 429 before reading the body (a broken body still gets 429, not 400)', async () => {
    s = await testServer({ maxEnvs: 1 });
    await createEnv(s, {});
    const r = await s.call('POST', '/v1/envs', '{"this is not json');
    expect(r.status).to.equal(429);
  });

  it('reads one big create body at a time: a second one meanwhile is a 503 with Retry-After', async () => {
    s = await testServer({});
    const u = new URL(s.url);
    const big = JSON.stringify({ trace: paddedTrace(1200 * 1024) });
    // Start a big create and hold it open half-sent.
    const first = request({
      host: u.hostname,
      port: u.port,
      method: 'POST',
      path: '/v1/envs',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) },
    });
    const firstDone = new Promise<number>((resolve, reject) => {
      first.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      first.on('error', reject);
    });
    first.write(big.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 200));
    const second = await s.call('POST', '/v1/envs', big);
    expect(second.status).to.equal(503);
    expect(second.body.error).to.match(/reading another large create request/);
    expect(second.headers.get('retry-after')).to.equal('1');
    // Small creates are not held up.
    expect((await s.call('POST', '/v1/envs', {})).status).to.equal(201);
    first.end(big.slice(1000));
    expect(await firstDone).to.equal(201);
  });

  it('per-client quota: one client token cannot hold every env', async () => {
    s = await testServer({ maxEnvs: 10, maxEnvsPerClient: 2 });
    const a = { 'x-client-token': 'client-a' };
    await createEnv(s, {}, a);
    await createEnv(s, {}, a);
    const third = await s.call('POST', '/v1/envs', {}, a);
    expect(third.status).to.equal(429);
    expect(third.body.error).to.match(/at most 2 per client token/);
    expect((await s.call('POST', '/v1/envs', {}, { 'x-client-token': 'client-b' })).status).to.equal(201);
  });

  it('the default quota keeps one client below the env cap', async () => {
    s = await testServer({ maxEnvs: 64 });
    for (let i = 0; i < 32; i++) await createEnv(s, {}, { 'x-client-token': 'greedy' });
    expect((await s.call('POST', '/v1/envs', {}, { 'x-client-token': 'greedy' })).status).to.equal(429);
    expect((await s.call('POST', '/v1/envs', {}, { 'x-client-token': 'other' })).status).to.equal(201);
  });

  it('CSRF: a body that is not declared application/json is a 415 and creates nothing', async () => {
    s = await testServer({});
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await s.call('POST', '/v1/envs', '{}', { 'content-type': type });
      expect(r.status, type).to.equal(415);
      expect(r.body.error).to.match(/Content-Type: application\/json/);
    }
    expect(s.server.registry.size).to.equal(0);
    expect(
      (await s.call('POST', '/v1/envs', '{}', { 'content-type': 'application/json; charset=utf-8' })).status,
    ).to.equal(201);
  });

  it('CSRF: a web page origin is refused, loopback origins and allowed ones are not', async () => {
    s = await testServer({ allowedOrigins: ['https://notebook.example:8888'] });
    const evil = await s.call('POST', '/v1/envs', {}, { origin: 'http://evil.example' });
    expect(evil.status).to.equal(403);
    expect(evil.body.error).to.match(/requests from web pages at http:\/\/evil\.example are refused/);
    expect((await s.call('POST', '/v1/envs', {}, { origin: 'null' })).status).to.equal(403);
    expect((await s.call('POST', '/v1/envs', {}, { origin: 'http://localhost:3000' })).status).to.equal(201);
    expect((await s.call('POST', '/v1/envs', {}, { origin: 'https://notebook.example:8888' })).status).to.equal(201);
  });

  it('DNS rebinding: a loopback server refuses a Host that is not a loopback name', async () => {
    s = await testServer({});
    const body = '{}';
    const headers = { 'content-type': 'application/json', 'content-length': '2' };
    const rebound = await raw(s.url, {
      path: '/v1/envs',
      headers: { ...headers, host: 'attacker.example:8000' },
      body,
    });
    expect(rebound.status).to.equal(403);
    expect(rebound.body.error).to.match(/not a loopback name/);
    expect(
      (await raw(s.url, { path: '/v1/envs', headers: { ...headers, host: 'localhost:8000' }, body })).status,
    ).to.equal(201);
  });

  it('create: the shared rules (nodePool.cpu "-1" is a 400 and holds no slot)', async () => {
    s = await testServer({ maxEnvs: 1 });
    for (const [body, msg] of [
      [{ nodePool: { cpu: '-1' } }, /nodePool\.cpu must be above 0/],
      [{ nodePool: { memory: '0' } }, /nodePool\.memory must be above 0/],
      [{ actions: { cpuStep: '-500m' } }, /actions\.cpuStep must be above 0/],
      [{ actions: { memoryStep: 0 } }, /actions\.memoryStep must be above 0/],
      [{ safeguards: { minReplicas: 5, maxReplicas: 2 } }, /minReplicas/],
      [{ safeguards: { maxReplicas: 200000 } }, /safeguards\.maxReplicas must be a whole number from 0 to 10000/],
    ] as const) {
      const r = await s.call('POST', '/v1/envs', body);
      expect(r.status, JSON.stringify(body)).to.equal(400);
      expect(r.body.error).to.match(msg);
    }
    expect(s.server.registry.size).to.equal(0);
    expect((await s.call('POST', '/v1/envs', {})).status).to.equal(201);
  });

  it('step rejects unknown fields', async () => {
    s = await testServer({});
    const id = await createEnv(s, {});
    await s.call('POST', `/v1/envs/${id}/reset`, {});
    const r = await s.call('POST', `/v1/envs/${id}/step`, { action: 0, actoin: 3 });
    expect(r.status).to.equal(400);
    expect(r.body.error).to.match(/unknown field "actoin"/);
    expect((await s.call('GET', `/v1/envs/${id}`)).body.step).to.equal(0);
  });

  it('engine errors never reach the client as they are', () => {
    const e1 = toHttpError(new TypeError('index.map is not a function'));
    expect(e1.status).to.equal(500);
    expect(e1.message).to.not.include('is not a function');
    const e2 = toHttpError(new RangeError('Maximum call stack size exceeded'));
    expect(e2.status).to.equal(400);
    expect(e2.message).to.match(/nested too deeply/);
    expect(toHttpError(new TypeError("Cannot read properties of null (reading 'x')")).message).to.not.match(
      /Cannot read/,
    );
  });
});
