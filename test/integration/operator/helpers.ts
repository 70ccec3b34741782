// Shared pieces for the operator suites: install the CRD, create trace ConfigMaps and episodes, run an operator
// in-process, read results.
import { expect } from 'chai';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { installCrd } from '../../../src/cli/operator.js';
import { createOperator, type OperatorOptions } from '../../../src/operator/index.js';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import { type ArenaEpisode, type ArenaEpisodeSpec, type HistoryEntry } from '../../../src/api/episode.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
import type { Controller } from '../../../src/controller/controller.js';
import { deleteNamespace, freshNamespace, kubeConfig, waitFor } from '../../support/cluster.js';

export async function ensureCrd(kc: KubeConfig): Promise<void> {
  await installCrd(kc);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor('the ArenaEpisode CRD to be established', async () => {
    const crd = await api.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

export async function traceConfigMap(
  kc: KubeConfig,
  namespace: string,
  name: string,
  bytes: Uint8Array,
  key = 'trace.msgpack',
): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace,
    body: { metadata: { name }, binaryData: { [key]: Buffer.from(bytes).toString('base64') } },
  });
}

export async function scenarioConfigMap(kc: KubeConfig, namespace: string, scenario: string): Promise<string> {
  const name = `${scenario}-trace`;
  await traceConfigMap(kc, namespace, name, encodeTrace(canonicalScenario(scenario).trace));
  return name;
}

export async function createEpisode(
  kc: KubeConfig,
  namespace: string,
  name: string,
  spec: Partial<ArenaEpisodeSpec> & Pick<ArenaEpisodeSpec, 'trace' | 'targetReplicas'>,
): Promise<ArenaEpisode> {
  const body = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ArenaEpisode',
    metadata: { name, namespace },
    spec: { workload: { name: 'web' }, ...spec },
  };
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body })) as ArenaEpisode;
}

export async function getEpisode(kc: KubeConfig, namespace: string, name: string): Promise<ArenaEpisode> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as ArenaEpisode;
}

export async function waitForPhase(
  kc: KubeConfig,
  namespace: string,
  name: string,
  phases: string[],
  timeoutMs = 60_000,
): Promise<ArenaEpisode> {
  return waitFor(
    `episode ${name} to reach ${phases.join('/')}`,
    async () => {
      const ep = await getEpisode(kc, namespace, name);
      return phases.includes(ep.status?.phase ?? '') && ep.status?.stepPhase === 'Done' ? ep : undefined;
    },
    timeoutMs,
  );
}

export async function startOperator(
  kc: KubeConfig,
  namespace: string,
  extra: Partial<OperatorOptions> = {},
): Promise<Controller> {
  const c = createOperator({ kc, namespace, workers: 4, health: false, leaderElection: false, ...extra });
  await c.start();
  return c;
}

/** What an episode's result is, without times (which differ between runs). */
export function outcome(ep: ArenaEpisode) {
  const s = ep.status ?? {};
  return {
    phase: s.phase,
    solved: s.solved,
    step: s.step,
    stepsToSolve: s.stepsToSolve,
    totalReward: s.totalReward,
    initialObservation: s.initialObservation,
    history: (s.history ?? []).map(
      ({ startTime, endTime, simulation, ...rest }) => (void startTime, void endTime, void simulation, rest),
    ),
  };
}

/** The cpu-slight scenario's outcome on any backend: two CPU reductions, solved. Returns the history. */
export function expectCpuSlightSolved(ep: ArenaEpisode): HistoryEntry[] {
  expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
  expect(ep.status?.solved).to.equal(true);
  expect(ep.status?.initialObservation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
  const history = ep.status?.history ?? [];
  expect(history.map((h) => h.action)).to.deep.equal(['reduce-cpu', 'reduce-cpu']);
  expect(history.at(-1)?.observation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
  return history;
}

/** What a suite registered with `operatorSuite` reads in its tests: the cluster, this test's namespace and the
 * operator it started (stopped for it after each test, or after the suite). */
export interface OperatorSuite {
  kc: KubeConfig;
  ns: string;
  operator: Controller | undefined;
}

/**
 * The set-up every operator suite repeats, registered as mocha hooks in the calling `describe`: a kubeconfig for the
 * test cluster (built or started on first use, hence the long timeout) with the CRD established, a fresh namespace
 * named after `prefix` for each test (or one for the whole suite), and the operator stopped and the namespace
 * deleted afterwards.
 */
export function operatorSuite(prefix: string, namespacePer: 'test' | 'suite' = 'test'): OperatorSuite {
  const s = {} as OperatorSuite;
  const open = async () => {
    s.ns = await freshNamespace(s.kc, prefix);
  };
  const close = async () => {
    await s.operator?.stop();
    s.operator = undefined;
    await deleteNamespace(s.kc, s.ns);
  };
  before(async function () {
    this.timeout(3_600_000); // a cold cluster build happens here once per run
    s.kc = await kubeConfig();
    await ensureCrd(s.kc);
    if (namespacePer === 'suite') await open();
  });
  if (namespacePer === 'test') {
    beforeEach(open);
    afterEach(close);
  } else after(close);
  return s;
}
