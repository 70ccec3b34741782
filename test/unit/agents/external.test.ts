// The external policy against a real HTTP server on 127.0.0.1 (an ephemeral port).
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExternalPolicy, ExternalPolicyError, externalFromParams } from '../../../src/agents/external.js';
import { silentLogger } from '../../../src/util/log.js';
import { ctx, obs } from './helpers.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('agents: external policy (real HTTP server)', () => {
  let server: Server;
  let base: string;
  const hits = new Map<string, number>();
  const bodies: unknown[] = [];
  let handler: Record<string, Handler> = {};

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        hits.set(path, (hits.get(path) ?? 0) + 1);
        const h = handler[path];
        if (!h) {
          res.writeHead(404).end('no such agent');
          return;
        }
        h(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => {
    hits.clear();
    bodies.length = 0;
    const json = (status: number, v: unknown) => (_q: IncomingMessage, body: string, res: ServerResponse) => {
      bodies.push(JSON.parse(body));
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    };
    let flaky = 0;
    handler = {
      '/name': json(200, { action: 'reduce-cpu' }),
      '/index': json(200, { action: 4 }),
      '/legacy': json(200, { action_index: 6, reasoning: 'too many' }),
      '/500': (_q, _b, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('agent crashed'),
      '/flaky': (_q, _b, res) =>
        ++flaky <= 2 ? res.writeHead(503).end('warming up') : res.writeHead(200).end('{"action":"scale-up"}'),
      '/slow': (_q, _b, res) => void setTimeout(() => res.writeHead(200).end('{"action":"noop"}'), 1500).unref(),
      '/not-json': (_q, _b, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('reduce-cpu please'),
      '/bad-name': json(200, { action: 'explode' }),
      '/bad-index': json(200, { action: 9 }),
      '/no-action': json(200, { choice: 1 }),
      '/forbidden': (_q, _b, res) => res.writeHead(403).end('{"error":"no token"}'),
    };
  });

  const policy = (path: string, more: Record<string, string> = {}) =>
    externalFromParams({ url: `${base}${path}`, backoffMs: '10', ...more });
  const decide = (p: ExternalPolicy) =>
    p.decide(
      ctx({
        obs: obs(0, 3, 3),
        target: 3,
        resources: { cpu: '17', memory: '2Gi', replicas: 3 },
        step: 2,
        maxSteps: 10,
      }),
    );

  it('POSTs {observation, target, resources, step, maxSteps} and accepts an action name or index', async () => {
    expect(await decide(policy('/name'))).to.equal('reduce-cpu');
    expect(bodies[0]).to.deep.equal({
      observation: { ready: 0, pending: 3, total: 3 },
      target: 3,
      resources: { cpu: '17', memory: '2Gi', replicas: 3 },
      step: 2,
      maxSteps: 10,
      actions: ['noop', 'bump-cpu', 'bump-mem', 'scale-up', 'reduce-cpu', 'reduce-mem', 'scale-down'],
    });
    expect(await decide(policy('/index'))).to.equal('reduce-cpu');
    expect(await decide(policy('/legacy')), 'the predecessor\'s {"action_index": n}').to.equal('scale-down');
  });

  it('retries 5xx with backoff and succeeds when the agent recovers', async () => {
    const p = policy('/flaky', { retries: '2' });
    const t0 = Date.now();
    expect(await decide(p)).to.equal('scale-up');
    expect(hits.get('/flaky')).to.equal(3);
    expect(Date.now() - t0, 'waited 10 + 20 ms between attempts').to.be.at.least(28);
    expect(p.takeStepInfo()).to.deep.include({ attempts: 3, action: 'scale-up' });
  });

  it('gives up after retries+1 attempts on 500s and says which URL and why', async () => {
    const err = await decide(policy('/500', { retries: '2' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ExternalPolicyError);
    expect((err as Error).message).to.equal(
      `external policy: POST ${base}/500 failed after 3 attempts: HTTP 500 Internal Server Error: agent crashed`,
    );
    expect(hits.get('/500')).to.equal(3);
  });

  it('times out a slow agent (timeoutMs), retrying it too', async () => {
    const t0 = Date.now();
    const err = await decide(policy('/slow', { timeoutMs: '100', retries: '1' })).catch((e: Error) => e);
    expect((err as Error).message).to.match(
      new RegExp(`POST ${base}/slow failed after 2 attempts: no answer within 100 ms \\(timeoutMs\\)$`),
    );
    expect(Date.now() - t0).to.be.below(1000);
  });

  it('does not retry an unusable answer: bad JSON, an unknown action or index, no action field, a 4xx', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/not-json', /after 1 attempt: the answer is not JSON: "reduce-cpu please"$/],
      ['/bad-name', /after 1 attempt: invalid action "explode" \(use 0-6 or one of noop, bump-cpu/],
      ['/bad-index', /after 1 attempt: invalid action index 9/],
      ['/no-action', /after 1 attempt: the answer has no "action" field/],
      ['/forbidden', /after 1 attempt: HTTP 403 Forbidden: \{"error":"no token"\}$/],
    ];
    for (const [path, re] of cases) {
      const err = await decide(policy(path)).catch((e: Error) => e);
      expect(err, path).to.be.instanceOf(ExternalPolicyError);
      expect((err as Error).message, path).to.match(re);
      expect(hits.get(path), path).to.equal(1);
    }
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await decide(externalFromParams({ url: `http://127.0.0.1:${port}/act`, retries: '0' })).catch(
      (e: Error) => e,
    );
    expect((err as Error).message).to.match(
      new RegExp(`POST http://127.0.0.1:${port}/act failed after 1 attempt: ECONNREFUSED`),
    );
  });

  it('onError=noop plays noop instead of failing, and keeps the failure for the step report', async () => {
    const p = new ExternalPolicy({ url: `${base}/500`, retries: 0, onError: 'noop' }, silentLogger());
    expect(await decide(p)).to.equal('noop');
    expect(p.takeStepInfo()).to.deep.include({
      attempts: 1,
      action: 'noop',
      error: 'HTTP 500 Internal Server Error: agent crashed',
    });
    expect(p.takeStepInfo(), 'taken once').to.equal(undefined);
  });

  it('checks its parameters', () => {
    expect(() => externalFromParams({})).to.throw(/parameter url is required/);
    expect(() => externalFromParams({ url: 'ftp://x' })).to.throw(/must be http or https/);
    expect(() => externalFromParams({ url: 'http://x', onError: 'ignore' })).to.throw(
      /onError must be one of fail, noop/,
    );
    expect(() => externalFromParams({ url: 'http://x', timeoutMs: '0' })).to.throw(/timeoutMs must be a number from 1/);
    expect(externalFromParams({ url: 'http://x' }).opts).to.deep.include({
      timeoutMs: 5000,
      retries: 2,
      onError: 'fail',
    });
  });
});
