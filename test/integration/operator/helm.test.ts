// The Helm chart on the real control plane: `helm install` succeeds (the operator's pods stay Pending, there is no
// kubelet), and the operator, run in-process under the chart's ServiceAccount (a TokenRequest token, not the admin
// certificate), configured the way the chart's Deployment configures it, runs a kwok episode to Succeeded.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Container,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import type { Controller } from '../../../src/controller/controller.js';
import {
  deleteNamespace,
  ensureCluster,
  freshNamespace,
  kubeConfig,
  kubectl,
  REPO_ROOT,
  waitFor,
} from '../../support/cluster.js';
import {
  createEpisode,
  ensureCrd,
  expectCpuSlightSolved,
  getEpisode,
  scenarioConfigMap,
  startOperator,
  waitForPhase,
} from './helpers.js';

/** scripts/helm.sh, asynchronously (never block the event loop while something in-process may be running). */
function helm(kubeconfig: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts', 'helm.sh'), '--kubeconfig', kubeconfig, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`helm ${args.join(' ')} failed (exit ${code}): ${err || out}`)),
    );
  });
}

/** The value of `--flag VALUE` in a container's args. */
function argValue(c: V1Container, flag: string): string | undefined {
  const args = c.args ?? [];
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A kubeconfig for the same API server (and CA) as `admin`, authenticating with a bearer token only. */
function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server: cluster.server,
        ...(cluster.caData ? { caData: cluster.caData } : {}),
        ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: 'test', user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

describe('operator: the Helm chart on the real API server', function () {
  this.timeout(300_000);
  let admin: KubeConfig;
  let kubeconfigPath: string;
  let releaseNs: string;
  let episodeNs: string;
  const release = `sa-test-${Math.random().toString(36).slice(2, 8)}`;
  let installed = false;
  let operator: Controller | undefined;

  before(async function () {
    this.timeout(3_600_000); // a cold cluster build happens here once per run
    kubeconfigPath = await ensureCluster();
    admin = await kubeConfig();
    releaseNs = await freshNamespace(admin, 'helm');
    episodeNs = await freshNamespace(admin, 'helm-ep');
  });

  after(async function () {
    this.timeout(180_000);
    if (!admin) return;
    // Remove the episode while an operator still runs (its finalizer), so the namespace can go.
    const custom = admin.makeApiClient(CustomObjectsApi);
    if (operator) {
      await custom
        .deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: episodeNs,
          plural: PLURAL,
          name: 'cpu-slight',
        })
        .catch(() => undefined);
      await waitFor(
        'the episode to be gone',
        async () =>
          getEpisode(admin, episodeNs, 'cpu-slight').then(
            () => false,
            () => true,
          ),
        60_000,
      ).catch(() => undefined);
      await operator.stop();
    }
    if (installed)
      await helm(kubeconfigPath, ['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '120s']).catch(
        (e: Error) => process.stderr.write(`${e.message}\n`),
      );
    await deleteNamespace(admin, episodeNs);
    await deleteNamespace(admin, releaseNs);
  });

  it("installs, runs a kwok episode as the chart's ServiceAccount (not admin), and uninstalls", async () => {
    // The CRD may already be installed by other suites; Helm then leaves it alone. Make sure it is current and served.
    await ensureCrd(admin);

    // ---- helm install: succeeds, release deployed; nothing needs a real node.
    await helm(kubeconfigPath, [
      'install',
      release,
      join(REPO_ROOT, 'charts', 'sim-arena'),
      '--namespace',
      releaseNs,
      '--set',
      `watchNamespace=${episodeNs}`,
      '--set',
      'traceSync.enabled=true',
      '--timeout',
      '120s',
    ]);
    installed = true;
    const status = JSON.parse(
      await helm(kubeconfigPath, ['status', release, '--namespace', releaseNs, '--output', 'json']),
    ) as { info?: { status?: string }; namespace?: string };
    expect(status.info?.status).to.equal('deployed');
    expect(status.namespace).to.equal(releaseNs);

    // What the chart made: the operator Deployment (its pod stays Pending: no kubelet), the trace-sync DaemonSet (no
    // real node, so no pods), cluster-wide RBAC bound to the operator's ServiceAccount.
    const fullname = `${release}-sim-arena`;
    const apps = admin.makeApiClient(AppsV1Api);
    const dep = await apps.readNamespacedDeployment({ name: fullname, namespace: releaseNs });
    const podSpec = dep.spec!.template.spec!;
    const container = podSpec.containers.find((c) => c.name === 'operator')!;
    const sa = podSpec.serviceAccountName!;
    expect(sa).to.equal(fullname);
    expect(argValue(container, '--namespace')).to.equal(episodeNs);
    const workers = Number(argValue(container, '--workers'));
    expect(workers).to.be.greaterThan(0);
    const leaseName = container.env?.find((e) => e.name === 'SIM_ARENA_LEASE_NAME')?.value;
    expect(leaseName).to.equal(`${fullname}-operator`);
    const ds = await apps.readNamespacedDaemonSet({ name: `${fullname}-trace-sync`, namespace: releaseNs });
    expect(ds.metadata?.name).to.equal(`${fullname}-trace-sync`);
    const core = admin.makeApiClient(CoreV1Api);
    const pod = await waitFor('the operator pod to be created', async () => {
      const pods = await core.listNamespacedPod({
        namespace: releaseNs,
        labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=operator`,
      });
      return pods.items[0];
    });
    expect(pod.status?.phase).to.equal('Pending');
    const crb = await admin.makeApiClient(RbacAuthorizationV1Api).readClusterRoleBinding({ name: fullname });
    expect(crb.subjects).to.deep.include({ kind: 'ServiceAccount', name: sa, namespace: releaseNs });

    // ---- the chart's ServiceAccount: a short-lived token from the TokenRequest API.
    const tr = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: releaseNs,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kc = tokenKubeConfig(admin, tr.status!.token);
    const who = await kc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(who.status?.userInfo?.username).to.equal(`system:serviceaccount:${releaseNs}:${sa}`);
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, namespace?: string, group?: string, subresource?: string) =>
      (
        await authz.createSelfSubjectAccessReview({
          body: {
            spec: {
              resourceAttributes: {
                verb,
                resource,
                ...(namespace ? { namespace } : {}),
                ...(group ? { group } : {}),
                ...(subresource ? { subresource } : {}),
              },
            },
          },
        })
      ).status!.allowed;
    // Not admin: no secrets, no RBAC, no deleting CRDs.
    expect(await can('delete', 'secrets', 'kube-system'), 'delete secrets in kube-system').to.equal(false);
    expect(await can('get', 'secrets', episodeNs), 'read secrets').to.equal(false);
    expect(
      await can('create', 'clusterrolebindings', undefined, 'rbac.authorization.k8s.io'),
      'create clusterrolebindings',
    ).to.equal(false);
    expect(await can('delete', 'customresourcedefinitions', undefined, 'apiextensions.k8s.io'), 'delete CRDs').to.equal(
      false,
    );
    expect(await can('*', '*'), 'everything').to.equal(false);
    // …but what the operator needs.
    expect(await can('patch', 'arenaepisodes', episodeNs, GROUP, 'status')).to.equal(true);
    expect(await can('create', 'nodes')).to.equal(true);
    // The same identity, refused by the API server for real.
    let refused: unknown;
    await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: 'kube-system' })
      .catch((e: unknown) => (refused = e));
    expect((refused as { code?: number } | undefined)?.code).to.equal(403);

    // ---- the operator in-process under that identity, configured as the Deployment configures it: watching the
    // chart's watchNamespace, leader election on the chart's Lease in the release namespace (its namespaced Role).
    const cm = await scenarioConfigMap(admin, episodeNs, 'cpu-slight');
    operator = await startOperator(kc, episodeNs, {
      workers,
      operatorNamespace: releaseNs,
      leaderElection: { namespace: releaseNs, name: leaseName!, identity: `helm-test-${process.pid}` },
    });
    await createEpisode(admin, episodeNs, 'cpu-slight', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 5,
      backend: 'kwok',
      stepDuration: '60s',
    });
    const ep = await waitForPhase(admin, episodeNs, 'cpu-slight', ['Succeeded', 'Failed'], 180_000);
    const history = expectCpuSlightSolved(ep);
    for (const h of history) {
      expect(h.reward).to.be.a('number');
      expect(h.simulation).to.be.a('string');
      expect(Date.parse(h.endTime!)).to.be.at.least(Date.parse(h.startTime!));
    }
    expect(ep.status?.totalReward).to.be.closeTo(
      history.reduce((s, h) => s + h.reward, 0),
      1e-9,
    );
    const preflight = ep.status?.conditions?.find((c) => c.type === 'Preflight');
    expect(preflight?.status, preflight?.message).to.equal('True');
    // The Lease the chart's Role allows was taken by this identity.
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: leaseName!, namespace: releaseNs });
    expect(lease.spec?.holderIdentity).to.equal(`helm-test-${process.pid}`);

    // kubectl get ae (the episode is finished: a blocking kubectl is fine now) shows the printer columns.
    const out = kubectl(kubeconfigPath, ['get', 'ae', '-n', episodeNs]);
    const [header, row] = out.trim().split('\n');
    expect(header!.split(/\s+/)).to.deep.equal(['NAME', 'PHASE', 'STEP', 'POLICY', 'REWARD', 'SOLVED', 'AGE']);
    expect(row).to.match(/^cpu-slight\s+Succeeded\s+2\s+heuristic\s+-?[0-9.]+\s+true\s+\S+$/);

    // ---- clean up the episode while the operator runs (finalizer), then helm uninstall.
    await admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: episodeNs,
      plural: PLURAL,
      name: 'cpu-slight',
    });
    await waitFor('the episode to be gone', async () =>
      getEpisode(admin, episodeNs, 'cpu-slight').then(
        () => false,
        () => true,
      ),
    );
    await operator.stop();
    operator = undefined;
    await helm(kubeconfigPath, ['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '120s']);
    installed = false;
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    expect(
      await rbac.readClusterRole({ name: fullname }).then(
        () => 'present',
        () => 'gone',
      ),
    ).to.equal('gone');
    expect(
      await apps.readNamespacedDeployment({ name: fullname, namespace: releaseNs }).then(
        () => 'present',
        () => 'gone',
      ),
    ).to.equal('gone');
    // CRDs in the chart's crds/ stay (Helm never deletes them); other suites need it anyway.
    expect(
      await admin
        .makeApiClient(CustomObjectsApi)
        .listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: episodeNs, plural: PLURAL }),
    ).to.have.property('items');
  });
});
