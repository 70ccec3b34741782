// preflight against the real control plane with SimKube's real stack up (test/cluster/simkube/up.sh: CRDs,
// namespaces, ServiceAccount, ClusterIssuer): a missing namespace is named with the fix, and what the local stack
// cannot show (an sk-ctrl pod — it runs on the host here — and a real node for the driver pod) fails with a clear fix.
import { expect } from 'chai';
import { installCrd } from '../../../src/cli/operator.js';
import { preflightCommand } from '../../../src/cli/preflight.js';
import { preflightCondition, runPreflight, type Check } from '../../../src/sim/preflight.js';
import { ensureSimkube } from '../../support/simkube.js';
import {
  clusterOrSkip,
  deleteNamespace,
  fakeTraceSyncPod,
  freshNamespace,
  installSimkubeCrds,
  kwokNode,
  waitFor,
  waitNamespaceGone,
  type Cluster,
} from './helpers.js';

const CANNOT_EXIST_HERE = ['driver-nodes', 'sk-ctrl'];

describe('simkube: preflight on the real API server', function () {
  this.timeout(180_000);
  let c: Cluster;
  let ns: string;
  const createdNamespaces: string[] = [];

  before(async function () {
    this.timeout(3_600_000); // a cold build of SimKube's binaries happens here once per machine
    c = await clusterOrSkip(this);
    await ensureSimkube();
    ns = await freshNamespace(c, 'sk-preflight');
  });

  after(async function () {
    if (!c) return;
    for (const n of [...createdNamespaces, ns]) await deleteNamespace(c, n);
  });

  async function captureStdout(fn: () => Promise<number>): Promise<{ rc: number; out: string }> {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    try {
      return { rc: await fn(), out: chunks.join('') };
    } finally {
      process.stdout.write = write;
    }
  }

  async function ensureNamespace(name: string): Promise<void> {
    const existing = await c.kube.get<{ metadata?: { deletionTimestamp?: string } }>(`/api/v1/namespaces/${name}`);
    if (existing?.metadata?.deletionTimestamp) await waitNamespaceGone(c, name);
    if (!existing || existing.metadata?.deletionTimestamp) {
      await c.kube.create('/api/v1/namespaces', { metadata: { name, labels: { 'simarena.io/test': 'true' } } });
      createdNamespaces.push(name);
    }
  }

  it('reports a missing metrics namespace with how to fix it (and exits 1)', async () => {
    // A namespace name nobody has: SimKube's real stack (and its `monitoring`) keeps running meanwhile.
    const missing = `mon-absent-${process.pid}`;
    const checks = await runPreflight(c.kc, 'simkube', { operatorNamespace: ns, metricsNamespace: missing });
    const mc = checks.find((x) => x.id === 'monitoring-namespace')!;
    expect(mc.status).to.equal('fail');
    expect(mc.message).to.match(/sk-ctrl fails every Simulation/);
    expect(mc.fix).to.equal(`kubectl create namespace ${missing}`);
    expect(preflightCondition(checks)).to.include({ type: 'Preflight', status: 'False', reason: 'ChecksFailed' });

    const { rc, out } = await captureStdout(() =>
      preflightCommand([
        '--kubeconfig',
        c.path,
        '--backend',
        'simkube',
        '--namespace',
        ns,
        '--driver-namespace',
        `sk-absent-${process.pid}`,
        '--json',
      ]),
    );
    expect(rc).to.equal(1);
    const json = JSON.parse(out) as { passed: boolean; checks: Check[] };
    expect(json.passed).to.equal(false);
    expect(json.checks.find((x) => x.id === 'driver-namespace')?.fix).to.match(
      new RegExp(`kubectl create namespace sk-absent-${process.pid}`),
    );
  });

  it('passes everything that can exist here once created; the rest fails with a clear fix', async () => {
    await installCrd(c.kc);
    await installSimkubeCrds(c);
    await ensureNamespace('monitoring');
    await ensureNamespace('simkube');
    await c.kube.create('/api/v1/namespaces/simkube/serviceaccounts', { metadata: { name: 'sk-ctrl-sa' } });
    await fakeTraceSyncPod(c, ns, await kwokNode(c));
    const checks = await waitFor('CRDs Established for preflight', async () => {
      const cs = await runPreflight(c.kc, 'simkube', { operatorNamespace: ns });
      return cs.every((x) => !x.id.endsWith('-crd') || x.status === 'ok') ? cs : undefined;
    });
    const byId = Object.fromEntries(checks.map((x) => [x.id, x]));
    for (const id of [
      'api',
      'arenaepisode-crd',
      'simulation-crd',
      'driver-namespace',
      'driver-service-account',
      'monitoring-namespace',
      'kwok-stage-crd',
      'trace-sync',
    ]) {
      expect(byId[id]?.status, `${id}: ${byId[id]?.message}`).to.equal('ok');
    }
    expect(byId['kwok-nodes']?.status, byId['kwok-nodes']?.message).to.not.equal('fail');
    const failing = checks
      .filter((x) => x.status === 'fail')
      .map((x) => x.id)
      .sort();
    expect(failing).to.deep.equal(CANNOT_EXIST_HERE);
    expect(byId['sk-ctrl']?.fix)
      .to.match(/sk-ctrl/)
      .and.match(/container runtime/);
    expect(byId['cert-manager-issuer']?.status, byId['cert-manager-issuer']?.message).to.equal('ok');
    expect(byId['driver-nodes']?.fix).to.match(/real node/);

    const { rc, out } = await captureStdout(() => preflightCommand(['--kubeconfig', c.path, '--namespace', ns]));
    expect(rc).to.equal(1);
    expect(out).to.match(/\[ ok \] namespace monitoring: exists/);
    expect(out).to.match(/\[FAIL\] sk-ctrl running in simkube/);
    expect(out).to.match(/2 check\(s\) failed/);
  });
});
