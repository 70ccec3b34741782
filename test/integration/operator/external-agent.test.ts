// Issue 12 (SSRF through the operator), on the real API server: the operator POSTs only to allowed agent URLs, takes
// the agent's token from a Secret, and never writes what an agent answered into the episode's status. The CRD's new
// CEL rules (positive steps and capacities, min <= max) are checked by the API server itself.
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../../src/controller/controller.js';
import { deleteNamespace, freshNamespace, kubeConfig, waitFor } from '../../support/cluster.js';
import {
  createEpisode,
  ensureCrd,
  expectCpuSlightSolved,
  getEpisode,
  scenarioConfigMap,
  startOperator,
  waitForPhase,
} from './helpers.js';

interface AgentCall {
  path: string;
  auth: string | undefined;
}

describe('operator: external agents (allowlist, token Secret, sanitized status)', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let operator: Controller | undefined;
  let agent: Server;
  let base: string;
  const calls: AgentCall[] = [];

  before(async function () {
    this.timeout(3_600_000);
    kc = await kubeConfig();
    await ensureCrd(kc);
    agent = createServer((req: IncomingMessage, res) => {
      req.resume();
      calls.push({ path: req.url ?? '', auth: req.headers.authorization });
      if (req.url?.startsWith('/leaky')) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('SECRET-INTERNAL-BODY root:x:0:0');
        return;
      }
      if (req.url?.startsWith('/act') && req.headers.authorization !== 'Bearer s3cret-token') {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ action: 'reduce-cpu' }));
    });
    await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => agent.close(() => r()));
  });
  beforeEach(async () => {
    ns = await freshNamespace(kc, 'agents');
    calls.length = 0;
  });
  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    await deleteNamespace(kc, ns);
  });

  const external = (cm: string, policy: Record<string, unknown>) => ({
    trace: { configMapRef: { name: cm } },
    targetReplicas: 3,
    maxSteps: 6,
    policy: { name: 'external', ...policy },
  });

  it('with no allowlist the external policy is disabled: the episode fails and the agent is never called', async () => {
    operator = await startOperator(kc, ns);
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    await createEpisode(kc, ns, 'ssrf', external(cm, { agentURL: 'http://169.254.169.254/latest/meta-data' }));
    const ep = await waitForPhase(kc, ns, 'ssrf', ['Failed']);
    expect(ep.status?.message).to.match(/external policy is disabled on this operator/);
    expect(calls).to.deep.equal([]);
  });

  it('an allowed URL with the token from a Secret plays the episode; a URL outside the allowlist fails without a call', async () => {
    operator = await startOperator(kc, ns, { allowedAgentURLs: [`${base}/act`] });
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'agent-token' }, stringData: { token: 's3cret-token' } },
    });
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    await createEpisode(
      kc,
      ns,
      'allowed',
      external(cm, { agentURL: `${base}/act/v1`, agentTokenSecretRef: { name: 'agent-token' } }),
    );
    await createEpisode(kc, ns, 'elsewhere', external(cm, { agentURL: `${base}/admin` }));
    await createEpisode(
      kc,
      ns,
      'inline-token',
      external(cm, { agentURL: `${base}/act`, parameters: { token: 's3cret-token' } }),
    );
    expectCpuSlightSolved(await waitForPhase(kc, ns, 'allowed', ['Succeeded', 'Failed']));
    const elsewhere = await waitForPhase(kc, ns, 'elsewhere', ['Failed']);
    expect(elsewhere.status?.message).to.match(/spec\.policy\.agentURL .*\/admin is not allowed on this operator/);
    const inline = await waitForPhase(kc, ns, 'inline-token', ['Failed']);
    expect(inline.status?.message).to.match(/put the token in a Secret and set spec\.policy\.agentTokenSecretRef/);
    expect(
      calls.every((c) => c.path === '/act/v1' && c.auth === 'Bearer s3cret-token'),
      JSON.stringify(calls),
    ).to.equal(true);
    expect(calls).to.have.length(2);
  });

  it("an agent's answer never reaches the status: only a sanitized reason", async () => {
    operator = await startOperator(kc, ns, { allowedAgentURLs: [`${base}/leaky`] });
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    await createEpisode(kc, ns, 'leaky', external(cm, { agentURL: `${base}/leaky`, parameters: { retries: '0' } }));
    const ep = await waitFor('a retrying status', async () => {
      const e = await getEpisode(kc, ns, 'leaky');
      return /HTTP 403/.test(e.status?.message ?? '') ? e : undefined;
    });
    const text = JSON.stringify(ep.status);
    expect(text).to.not.match(/SECRET|root:x/);
    expect(ep.status?.message).to.match(
      /^retrying: external policy: POST http:\/\/127\.0\.0\.1:\d+\/leaky failed after 1 attempt: HTTP 403$/,
    );
  });

  it('the API server rejects zero steps and capacities and min above max (CEL rules)', async () => {
    const cm = 'unused';
    const spec = { trace: { configMapRef: { name: cm } }, targetReplicas: 3 };
    for (const [name, extra, msg] of [
      ['zero-cpu-step', { actions: { cpuStep: '0' } }, /must be above 0/],
      ['zero-node-mem', { nodePool: { memory: 0 } }, /must be above 0/],
      ['min-cpu-above-max', { safeguards: { minCpu: '2', maxCpu: '1' } }, /minCpu must not exceed safeguards\.maxCpu/],
      [
        'min-mem-above-max',
        { safeguards: { minMemory: '2Gi', maxMemory: '1Gi' } },
        /minMemory must not exceed safeguards\.maxMemory/,
      ],
    ] as const) {
      let err: unknown;
      try {
        await createEpisode(kc, ns, name, { ...spec, ...extra } as never);
      } catch (e) {
        err = e;
      }
      expect(err, name).to.exist;
      expect(String((err as { body?: string }).body ?? err), name).to.match(msg);
    }
    await createEpisode(kc, ns, 'fine', {
      ...spec,
      actions: { cpuStep: '250m' },
      safeguards: { minCpu: '100m', maxCpu: '8' },
    });
  });
});
