import { expect } from 'chai';
import { formatChecks, preflightCondition, preflightPassed, runPreflight } from '../../../src/sim/preflight.js';
import { FakeKube } from './simkube/fake-kube.js';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function crd(fake: FakeKube, name: string): void {
  fake.put(CRDS, { metadata: { name }, status: { conditions: [{ type: 'Established', status: 'True' }] } });
}

function node(fake: FakeKube, name: string, virtual: boolean): void {
  fake.put('/api/v1/nodes', {
    metadata: {
      name,
      labels: virtual ? { type: 'virtual' } : {},
      annotations: virtual ? { 'kwok.x-k8s.io/node': 'fake' } : {},
    },
    spec: virtual ? { taints: [{ key: 'kwok-provider', effect: 'NoSchedule' }] } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

function healthyCluster(): FakeKube {
  const fake = new FakeKube();
  for (const c of [
    'arenaepisodes.simarena.io',
    'simulations.simkube.io',
    'clusterissuers.cert-manager.io',
    'stages.kwok.x-k8s.io',
  ])
    crd(fake, c);
  for (const ns of ['simkube', 'monitoring']) fake.put('/api/v1/namespaces', { metadata: { name: ns } });
  fake.put('/api/v1/namespaces/simkube/serviceaccounts', { metadata: { name: 'sk-ctrl-sa' } });
  fake.put('/apis/apps/v1/namespaces/simkube/deployments', {
    metadata: { name: 'sk-ctrl-depl' },
    status: { availableReplicas: 1 },
  });
  fake.put('/apis/cert-manager.io/v1/clusterissuers', { metadata: { name: 'selfsigned' } });
  node(fake, 'real-1', false);
  node(fake, 'kwok-1', true);
  fake.put('/api/v1/namespaces/sim-arena/pods', {
    metadata: { name: 'ts-1', labels: { 'app.kubernetes.io/component': 'trace-sync' } },
    spec: { nodeName: 'real-1' },
    status: { phase: 'Running' },
  });
  return fake;
}

describe('preflight (fake API)', () => {
  it('passes on a cluster with everything', async () => {
    const checks = await runPreflight(healthyCluster().kube(), 'simkube', { operatorNamespace: 'sim-arena' });
    expect(
      checks.filter((c) => c.status !== 'ok'),
      formatChecks(checks),
    ).to.deep.equal([]);
    expect(preflightPassed(checks)).to.equal(true);
    expect(preflightCondition(checks)).to.include({ type: 'Preflight', status: 'True', reason: 'Passed' });
  });

  it('reports the missing monitoring namespace with the fix', async () => {
    const fake = healthyCluster();
    fake.store.get('/api/v1/namespaces')!.delete('monitoring');
    const checks = await runPreflight(fake.kube(), 'simkube', { operatorNamespace: 'sim-arena' });
    const c = checks.find((x) => x.id === 'monitoring-namespace')!;
    expect(c.status).to.equal('fail');
    expect(c.fix).to.equal('kubectl create namespace monitoring');
    expect(preflightPassed(checks)).to.equal(false);
    const cond = preflightCondition(checks);
    expect(cond).to.include({ status: 'False', reason: 'ChecksFailed' });
    expect(cond.message).to.match(/kubectl create namespace monitoring/);
  });

  it('explains each SimKube trap', async () => {
    const fake = new FakeKube();
    crd(fake, 'arenaepisodes.simarena.io');
    node(fake, 'kwok-1', true);
    const checks = await runPreflight(fake.kube(), 'simkube', { operatorNamespace: 'sim-arena' });
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['simulation-crd']?.status).to.equal('fail');
    expect(byId['sk-ctrl']?.status).to.equal('fail');
    expect(byId['driver-namespace']?.fix).to.match(/simkube/);
    expect(byId['driver-service-account']?.fix).to.match(/sk-ctrl-sa/);
    expect(byId['cert-manager-issuer']?.message).to.match(/cert-manager is not installed/);
    expect(byId['cert-manager-issuer']?.fix).to.match(/ClusterIssuer.*selfsigned/);
    expect(byId['kwok-nodes']?.status).to.equal('ok');
    expect(byId['driver-nodes']?.status).to.equal('fail');
    expect(byId['trace-sync']?.status).to.equal('fail');
    for (const c of checks) if (c.status !== 'ok') expect(c.fix, c.id).to.be.a('string').and.not.equal('');
  });

  it('warns about a virtual node without the kwok-provider taint', async () => {
    const fake = healthyCluster();
    fake.put('/api/v1/nodes', {
      metadata: { name: 'kwok-2', labels: { type: 'virtual' } },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const c = (await runPreflight(fake.kube(), 'simkube', { operatorNamespace: 'sim-arena' })).find(
      (x) => x.id === 'kwok-nodes',
    )!;
    expect(c.status).to.equal('warn');
    expect(c.message).to.match(/kwok-2/);
  });

  it('stops at an unreachable API', async () => {
    const fake = new FakeKube();
    fake.version = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const checks = await runPreflight(fake.kube(), 'embedded');
    expect(checks).to.have.length(1);
    expect(checks[0]).to.include({ id: 'api', status: 'fail' });
    expect(checks[0]!.message).to.match(/ECONNREFUSED/);
  });

  it('checks only what a backend needs', async () => {
    const fake = healthyCluster();
    expect((await runPreflight(fake.kube(), 'embedded')).map((c) => c.id)).to.deep.equal(['api', 'arenaepisode-crd']);
    expect((await runPreflight(fake.kube(), 'kwok')).map((c) => c.id)).to.deep.equal([
      'api',
      'arenaepisode-crd',
      'kwok-stage-crd',
    ]);
  });
});
