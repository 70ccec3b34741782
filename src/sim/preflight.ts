// Cluster checks for what sim-arena and SimKube need. Each check says ok / warn / fail and, when not ok, how to fix
// it. Used by `sim-arena preflight`, by the operator (a Preflight condition) and by the simkube backend (to explain
// a Failed Simulation).
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackendName } from '../arena/backend.js';
import { apiErrorMessage } from '../kube/errors.js';
import type { ConditionUpdate } from '../controller/conditions.js';
import { Kube, type Obj } from '../kube/client.js';
import { DEFAULT_TRACE_SYNC_SELECTOR } from './simkube/contract.js';
import { DEFAULT_CERT_MANAGER_ISSUER, DEFAULT_DRIVER_NAMESPACE } from './simkube/simulation.js';
import { ARENA_EPISODE_CRD } from '../api/names.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  /** Stable identifier, e.g. "monitoring-namespace". */
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  /** How to fix it (absent when ok). */
  fix?: string;
}

export interface PreflightOptions {
  /** Where the operator, its trace ConfigMaps and the trace-sync DaemonSet live. Default POD_NAMESPACE or sim-arena. */
  operatorNamespace?: string;
  /** Where sk-ctrl runs and the driver Job goes (they must be the same). Default simkube. */
  driverNamespace?: string;
  /** The namespace sk-ctrl insists on even without metrics. Default monitoring. */
  metricsNamespace?: string;
  certManagerIssuer?: string;
  /** The ServiceAccount the driver pod uses (sk-ctrl's own). Default sk-ctrl-sa. */
  serviceAccount?: string;
  traceSyncSelector?: string;
}

export const SIMULATION_CRD = 'simulations.simkube.io';
export const CLUSTER_ISSUER_CRD = 'clusterissuers.cert-manager.io';
export const KWOK_STAGE_CRD = 'stages.kwok.x-k8s.io';
export const SK_CTRL_SERVICE_ACCOUNT = 'sk-ctrl-sa';
export const METRICS_NAMESPACE = 'monitoring';

interface Node extends Obj {
  spec?: { unschedulable?: boolean; taints?: Array<{ key?: string; effect?: string }> };
  status?: { conditions?: Array<{ type?: string; status?: string }> };
}

interface Pod extends Obj {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

const ok = (id: string, title: string, message: string): Check => ({ id, title, status: 'ok', message });
const bad = (status: 'warn' | 'fail', id: string, title: string, message: string, fix: string): Check => ({
  id,
  title,
  status,
  message,
  fix,
});

function asKube(k: KubeConfig | Kube): Kube {
  return k instanceof Kube ? k : Kube.of(k);
}

function defaults(opts: PreflightOptions): Required<PreflightOptions> {
  return {
    operatorNamespace: opts.operatorNamespace ?? process.env.POD_NAMESPACE ?? 'sim-arena',
    driverNamespace: opts.driverNamespace ?? DEFAULT_DRIVER_NAMESPACE,
    metricsNamespace: opts.metricsNamespace ?? METRICS_NAMESPACE,
    certManagerIssuer: opts.certManagerIssuer ?? DEFAULT_CERT_MANAGER_ISSUER,
    serviceAccount: opts.serviceAccount ?? SK_CTRL_SERVICE_ACCOUNT,
    traceSyncSelector: opts.traceSyncSelector ?? DEFAULT_TRACE_SYNC_SELECTOR,
  };
}

/** Runs one check; an unexpected API error becomes a failed check rather than an exception. */
async function guarded(id: string, title: string, fn: () => Promise<Check>): Promise<Check> {
  try {
    return await fn();
  } catch (e) {
    return bad(
      'fail',
      id,
      title,
      `could not check: ${apiErrorMessage(e)}`,
      'make sure the credentials may read this (cluster-wide get/list) and the API server is healthy',
    );
  }
}

function isNodeReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function checkApi(kube: Kube): Promise<Check> {
  const title = 'Kubernetes API reachable';
  try {
    const v = await kube.request<{ gitVersion?: string }>({ method: 'GET', path: '/version' });
    return ok('api', title, `server ${v?.gitVersion ?? 'version unknown'}`);
  } catch (e) {
    return bad(
      'fail',
      'api',
      title,
      apiErrorMessage(e),
      'check --kubeconfig / KUBECONFIG and that the API server is up (kubectl version)',
    );
  }
}

async function checkCrd(
  kube: Kube,
  id: string,
  crd: string,
  fix: string,
  status: 'warn' | 'fail' = 'fail',
): Promise<Check> {
  const title = `CRD ${crd}`;
  return guarded(id, title, async () => {
    const obj = await kube.get<Obj & { status?: { conditions?: Array<{ type?: string; status?: string }> } }>(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`,
    );
    if (!obj) return bad(status, id, title, 'not installed', fix);
    const established = (obj.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    if (!established)
      return bad(
        'warn',
        id,
        title,
        'installed but not Established yet',
        'wait a few seconds; if it stays so, kubectl describe crd ' + crd,
      );
    return ok(id, title, 'installed');
  });
}

export function checkArenaEpisodeCrd(kube: Kube): Promise<Check> {
  return checkCrd(
    kube,
    'arenaepisode-crd',
    ARENA_EPISODE_CRD,
    "install sim-arena's CRD (the arenaepisodes.simarena.io manifest shipped with sim-arena) before starting the operator",
  );
}

export function checkSimulationCrd(kube: Kube): Promise<Check> {
  return checkCrd(
    kube,
    'simulation-crd',
    SIMULATION_CRD,
    'install SimKube v2.7.0 (its CRDs simulations.simkube.io and simulationroots.simkube.io, e.g. `skctl crd | kubectl apply -f -`)',
  );
}

export function checkKwokStageCrd(kube: Kube): Promise<Check> {
  return checkCrd(
    kube,
    'kwok-stage-crd',
    KWOK_STAGE_CRD,
    'install KWOK ≥ 0.4 (kwok.yaml and stage-fast.yaml from the KWOK release); SimKube applies its pod Stages with it',
  );
}

async function checkNamespace(kube: Kube, id: string, ns: string, why: string, fix: string): Promise<Check> {
  const title = `namespace ${ns}`;
  return guarded(id, title, async () => {
    const obj = await kube.get(`/api/v1/namespaces/${encodeURIComponent(ns)}`);
    if (!obj) return bad('fail', id, title, `missing: ${why}`, fix);
    if (obj.metadata?.deletionTimestamp)
      return bad('fail', id, title, 'is being deleted', `wait for it to go, then ${fix}`);
    return ok(id, title, 'exists');
  });
}

export function checkMetricsNamespace(kube: Kube, ns = METRICS_NAMESPACE): Promise<Check> {
  return checkNamespace(
    kube,
    'monitoring-namespace',
    ns,
    'sk-ctrl fails every Simulation when its metrics namespace is absent, even without metrics',
    `kubectl create namespace ${ns}`,
  );
}

export function checkDriverNamespace(kube: Kube, ns = DEFAULT_DRIVER_NAMESPACE): Promise<Check> {
  return checkNamespace(
    kube,
    'driver-namespace',
    ns,
    'the SimKube driver Job runs in the namespace sk-ctrl runs in',
    `install SimKube into ${ns}, or kubectl create namespace ${ns} (and set simkube.driverNamespace to where sk-ctrl runs)`,
  );
}

export async function checkServiceAccount(
  kube: Kube,
  ns = DEFAULT_DRIVER_NAMESPACE,
  sa = SK_CTRL_SERVICE_ACCOUNT,
): Promise<Check> {
  const id = 'driver-service-account';
  const title = `ServiceAccount ${ns}/${sa}`;
  return guarded(id, title, async () => {
    const obj = await kube.get(
      `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}`,
    );
    if (!obj)
      return bad(
        'fail',
        id,
        title,
        `missing: the driver pod runs as sk-ctrl's ServiceAccount name, which must exist in the driver namespace`,
        `install SimKube's sk-ctrl into ${ns} (it brings ${sa} bound to cluster-admin), or create the ServiceAccount there: kubectl -n ${ns} create serviceaccount ${sa}`,
      );
    return ok(id, title, 'exists');
  });
}

export async function checkSkCtrl(kube: Kube, ns = DEFAULT_DRIVER_NAMESPACE): Promise<Check> {
  const id = 'sk-ctrl';
  const title = `sk-ctrl running in ${ns}`;
  const fix = `deploy SimKube's controller (sk-ctrl v2.7.0, k8s/kustomize/sim in the SimKube repository) into ${ns}; it needs real nodes with a container runtime`;
  return guarded(id, title, async () => {
    const deps = (
      await kube.list<Obj & { status?: { availableReplicas?: number } }>(
        `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments`,
      )
    ).filter((d) => d.metadata?.name?.startsWith('sk-ctrl'));
    const available = deps.filter((d) => (d.status?.availableReplicas ?? 0) > 0);
    if (available.length)
      return ok(id, title, `Deployment ${available.map((d) => d.metadata?.name).join(', ')} available`);
    const pods = (await kube.list<Pod>(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods`)).filter(
      (p) => p.metadata?.name?.startsWith('sk-ctrl') && !p.metadata.deletionTimestamp,
    );
    const running = pods.filter((p) => p.status?.phase === 'Running');
    if (running.length) return ok(id, title, `pod ${running.map((p) => p.metadata?.name).join(', ')} running`);
    if (deps.length || pods.length)
      return bad(
        'fail',
        id,
        title,
        `sk-ctrl exists but nothing is available (${deps.length} Deployment(s), ${pods.length} pod(s), none running)`,
        `kubectl -n ${ns} describe pods; ${fix}`,
      );
    return bad('fail', id, title, 'no sk-ctrl Deployment or pod found', fix);
  });
}

export async function checkClusterIssuer(kube: Kube, issuer = DEFAULT_CERT_MANAGER_ISSUER): Promise<Check> {
  const id = 'cert-manager-issuer';
  const title = `cert-manager ClusterIssuer ${issuer}`;
  return guarded(id, title, async () => {
    const crd = await kube.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CLUSTER_ISSUER_CRD}`);
    if (!crd)
      return bad(
        'fail',
        id,
        title,
        'cert-manager is not installed (no clusterissuers.cert-manager.io CRD); sk-ctrl needs it for the driver webhook certificate',
        `install cert-manager, then create the issuer: kubectl apply -f - <<< '{"apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer","metadata":{"name":"${issuer}"},"spec":{"selfSigned":{}}}'`,
      );
    const obj = await kube.get(`/apis/cert-manager.io/v1/clusterissuers/${encodeURIComponent(issuer)}`);
    if (!obj)
      return bad(
        'fail',
        id,
        title,
        `missing: sk-ctrl issues the driver certificate from the ClusterIssuer "${issuer}"`,
        `kubectl apply -f - <<< '{"apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer","metadata":{"name":"${issuer}"},"spec":{"selfSigned":{}}}'`,
      );
    return ok(id, title, 'exists');
  });
}

export async function checkVirtualNodes(kube: Kube): Promise<Check> {
  const id = 'kwok-nodes';
  const title = 'KWOK nodes (type=virtual) Ready';
  const fix =
    'create KWOK-managed Node objects labelled type=virtual, annotated kwok.x-k8s.io/node=fake, tainted kwok-provider=true:NoSchedule, with capacity in status (and run the KWOK controller)';
  return guarded(id, title, async () => {
    const nodes = await kube.list<Node>('/api/v1/nodes', { labelSelector: 'type=virtual' });
    if (!nodes.length)
      return bad('fail', id, title, 'no node is labelled type=virtual: every simulated pod would stay Pending', fix);
    const ready = nodes.filter(isNodeReady);
    if (!ready.length)
      return bad(
        'fail',
        id,
        title,
        `${nodes.length} node(s) labelled type=virtual, none Ready`,
        'is the KWOK controller running, and are the nodes annotated kwok.x-k8s.io/node=fake?',
      );
    const untainted = ready.filter(
      (n) => !(n.spec?.taints ?? []).some((t) => t.key === 'kwok-provider' && t.effect === 'NoSchedule'),
    );
    if (untainted.length)
      return bad(
        'warn',
        id,
        title,
        `${ready.length}/${nodes.length} Ready, but ${untainted.map((n) => n.metadata?.name).join(', ')} lack the kwok-provider NoSchedule taint: the driver pod could land on a fake node and never run`,
        'kubectl taint nodes NODE kwok-provider=true:NoSchedule',
      );
    if (ready.length < nodes.length)
      return bad(
        'warn',
        id,
        title,
        `${ready.length}/${nodes.length} Ready`,
        'check the NotReady ones (kubectl get nodes -l type=virtual)',
      );
    return ok(id, title, `${ready.length} Ready`);
  });
}

/** The driver pod needs a real node (not type=virtual) to run on. */
export async function checkDriverNodes(kube: Kube): Promise<Check> {
  const id = 'driver-nodes';
  const title = 'real nodes for the driver pod';
  return guarded(id, title, async () => {
    const nodes = (await kube.list<Node>('/api/v1/nodes')).filter(
      (n) => n.metadata?.labels?.type !== 'virtual' && n.metadata?.annotations?.['kwok.x-k8s.io/node'] !== 'fake',
    );
    const usable = nodes.filter((n) => isNodeReady(n) && !n.spec?.unschedulable);
    if (!usable.length)
      return bad(
        'fail',
        id,
        title,
        'no Ready, schedulable node without type=virtual: the SimKube driver pod has nowhere to run',
        'SimKube needs at least one real node with a container runtime (e.g. a kind worker) besides the KWOK nodes',
      );
    return ok(id, title, `${usable.length} node(s)`);
  });
}

export async function checkTraceSync(
  kube: Kube,
  namespace: string,
  selector = DEFAULT_TRACE_SYNC_SELECTOR,
): Promise<Check> {
  const id = 'trace-sync';
  const title = `trace-sync pods (${selector}) in ${namespace}`;
  const fix = `deploy the sim-arena trace-sync DaemonSet in ${namespace} (container command: sim-arena trace-sync --dir /var/lib/sim-arena/traces, env NODE_NAME from spec.nodeName, a hostPath for the dir, RBAC to list/watch/patch ConfigMaps)`;
  return guarded(id, title, async () => {
    const pods = (
      await kube.list<Pod>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector: selector })
    ).filter((p) => !p.metadata?.deletionTimestamp);
    const running = pods.filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName);
    if (!running.length)
      return bad(
        'fail',
        id,
        title,
        pods.length
          ? `${pods.length} pod(s), none Running`
          : 'none found: SimKube reads traces from the node disk, and nothing copies them there',
        fix,
      );
    if (running.length < pods.length)
      return bad(
        'warn',
        id,
        title,
        `${running.length}/${pods.length} Running`,
        `kubectl -n ${namespace} get pods -l ${selector}`,
      );
    return ok(id, title, `${running.length} Running on ${new Set(running.map((p) => p.spec?.nodeName)).size} node(s)`);
  });
}

/** The SimKube traps a Failed/Retrying Simulation most often comes from. */
export async function simkubeTrapChecks(k: KubeConfig | Kube, opts: PreflightOptions = {}): Promise<Check[]> {
  const kube = asKube(k);
  const o = defaults(opts);
  return Promise.all([
    checkDriverNamespace(kube, o.driverNamespace),
    checkServiceAccount(kube, o.driverNamespace, o.serviceAccount),
    checkMetricsNamespace(kube, o.metricsNamespace),
    checkClusterIssuer(kube, o.certManagerIssuer),
  ]);
}

/** Every check for a backend, in a stable order. Never throws for cluster problems (they become failed checks). */
export async function runPreflight(
  k: KubeConfig | Kube,
  backend: BackendName,
  opts: PreflightOptions = {},
): Promise<Check[]> {
  const kube = asKube(k);
  const o = defaults(opts);
  const api = await checkApi(kube);
  if (api.status !== 'ok') return [api];
  const checks: Array<Promise<Check>> = [checkArenaEpisodeCrd(kube)];
  if (backend === 'kwok') checks.push(checkKwokStageCrd(kube));
  if (backend === 'simkube') {
    checks.push(
      checkSimulationCrd(kube),
      checkSkCtrl(kube, o.driverNamespace),
      checkDriverNamespace(kube, o.driverNamespace),
      checkServiceAccount(kube, o.driverNamespace, o.serviceAccount),
      checkMetricsNamespace(kube, o.metricsNamespace),
      checkClusterIssuer(kube, o.certManagerIssuer),
      checkVirtualNodes(kube),
      checkKwokStageCrd(kube),
      checkDriverNodes(kube),
      checkTraceSync(kube, o.operatorNamespace, o.traceSyncSelector),
    );
  }
  return [api, ...(await Promise.all(checks))];
}

export function preflightPassed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.status !== 'fail');
}

/** A Preflight condition for the ArenaEpisode: False while anything fails, True (reason Warnings when some warn). */
export function preflightCondition(checks: readonly Check[], observedGeneration?: number): ConditionUpdate {
  const failed = checks.filter((c) => c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn');
  const describe = (cs: Check[]) =>
    cs.map((c) => `${c.title}: ${c.message}${c.fix ? ` (fix: ${c.fix})` : ''}`).join('; ');
  const base = observedGeneration !== undefined ? { observedGeneration } : {};
  if (failed.length)
    return {
      type: 'Preflight',
      status: 'False',
      reason: 'ChecksFailed',
      message: describe(failed).slice(0, 32000),
      ...base,
    };
  if (warned.length)
    return {
      type: 'Preflight',
      status: 'True',
      reason: 'Warnings',
      message: describe(warned).slice(0, 32000),
      ...base,
    };
  return { type: 'Preflight', status: 'True', reason: 'Passed', message: `${checks.length} checks passed`, ...base };
}

const MARK: Record<CheckStatus, string> = { ok: ' ok ', warn: 'WARN', fail: 'FAIL' };

export function formatChecks(checks: readonly Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`[${MARK[c.status]}] ${c.title}: ${c.message}`);
    if (c.fix) lines.push(`       fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push(
    failed
      ? `${failed} check(s) failed, ${warned} warning(s)`
      : `all checks passed${warned ? ` (${warned} warning(s))` : ''}`,
  );
  return lines.join('\n');
}
