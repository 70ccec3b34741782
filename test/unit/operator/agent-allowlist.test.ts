// Issue 12 (SSRF through the operator): the external policy calls only allowed agent URLs, its token never comes from
// the spec, nothing the agent answers reaches an episode's status, and the CRD-level rules apply to the operator too.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentURLError, checkAgentURL, parseAllowlist } from '../../../src/operator/agent-allowlist.js';
import { ExternalPolicy, ExternalPolicyError } from '../../../src/agents/external.js';
import { InvalidEpisode, toEpisodeSpec, type ArenaEpisodeSpec } from '../../../src/api/episode.js';
import { ctx } from '../agents/helpers.js';

describe('agent URL allowlist', () => {
  const allow = parseAllowlist(['http://agent.agents.svc:8080/act', 'https://agents.example.com/v1/,http://10.0.0.5']);

  it('accepts URLs under an entry (same scheme, host, port; path at a segment boundary)', () => {
    for (const u of [
      'http://agent.agents.svc:8080/act',
      'http://agent.agents.svc:8080/act/',
      'http://agent.agents.svc:8080/act/more',
      'https://agents.example.com/v1/x',
      'https://agents.example.com:443/v1/',
      'http://10.0.0.5/anything',
      'http://10.0.0.5:80/',
    ]) {
      expect(() => checkAgentURL(u, allow), u).to.not.throw();
    }
  });

  it('refuses everything else, with a message that lists what is allowed', () => {
    for (const u of [
      'http://agent.agents.svc:8081/act',
      'https://agent.agents.svc:8080/act',
      'http://agent.agents.svc:8080/actx',
      'http://agent.agents.svc:8080/',
      'http://169.254.169.254/latest/meta-data',
      'http://kubernetes.default.svc/api',
      'http://10.0.0.50/',
      'http://user:pw@10.0.0.5/',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(() => checkAgentURL(u, allow), u).to.throw(AgentURLError);
    }
    expect(() => checkAgentURL('http://169.254.169.254/', allow)).to.throw(
      /is not allowed on this operator \(allowed: http:\/\/agent\.agents\.svc:8080\/act\//,
    );
  });

  it('an empty allowlist disables the external policy', () => {
    expect(() => checkAgentURL('http://agent.agents.svc:8080/act', parseAllowlist([]))).to.throw(
      /external policy is disabled on this operator/,
    );
    expect(parseAllowlist(['', ' , '])).to.deep.equal([]);
  });

  it('bad entries fail when the operator starts', () => {
    expect(() => parseAllowlist(['ftp://x'])).to.throw(/must be http or https/);
    expect(() => parseAllowlist(['http://x/?q=1'])).to.throw(/query or fragment/);
  });
});

describe('external policy errors are sanitized for status', () => {
  let server: Server;
  let url: string;
  let redirectTo = '';
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.url === '/secret') {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('root:x:0:0:SECRET-BODY-FROM-INSIDE-THE-CLUSTER');
      } else if (req.url === '/notjson') {
        res.writeHead(200);
        res.end('SECRET-BODY <html>');
      } else if (req.url === '/redirect') {
        res.writeHead(307, { location: redirectTo });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ action: 'SECRET-BODY' }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    redirectTo = `${url}/ok`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  for (const path of ['/secret', '/notjson', '/badaction', '/redirect']) {
    it(`${path}: the full message keeps the detail, the sanitized one has nothing the agent sent`, async () => {
      const p = new ExternalPolicy({ url: `${url}${path}`, retries: 0 });
      let err: unknown;
      try {
        await p.decide(ctx({ obs: { ready: 0, pending: 3, total: 3 } }));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ExternalPolicyError);
      const e = err as ExternalPolicyError;
      expect(e.sanitized).to.not.match(/SECRET|root:x/);
      expect(e.sanitized).to.match(new RegExp(`POST ${url}${path} failed after 1 attempt: `));
      if (path === '/secret') expect(e.message).to.match(/SECRET-BODY/);
      if (path === '/redirect') expect(e.sanitized).to.match(/redirect/);
    });
  }
});

describe('ArenaEpisode specs follow the shared rules in the operator', () => {
  const base: ArenaEpisodeSpec = {
    trace: { configMapRef: { name: 't' } },
    workload: { name: 'web' },
    targetReplicas: 3,
  };
  const bad: Array<[Partial<ArenaEpisodeSpec>, RegExp]> = [
    [{ actions: { cpuStep: '0' } }, /spec\.actions\.cpuStep must be above 0/],
    [{ nodePool: { cpu: 0 } }, /spec\.nodePool\.cpu must be above 0/],
    [{ safeguards: { minCpu: '2', maxCpu: '1' } }, /minCpu/],
    [{ safeguards: { minMemory: '2Gi', maxMemory: '1Gi' } }, /minMemory/],
    [{ nodePool: { count: 0 } }, /spec\.nodePool\.count must be a whole number from 1/],
  ];
  for (const [patch, msg] of bad) {
    it(JSON.stringify(patch), () => {
      expect(() => toEpisodeSpec({ ...base, ...patch })).to.throw(InvalidEpisode, msg);
    });
  }
  it('a valid spec passes, fractional stepDuration included', () => {
    expect(toEpisodeSpec({ ...base, stepDuration: '500ms' }).durationSeconds).to.equal(0.5);
  });
});
