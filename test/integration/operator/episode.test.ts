import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import { runEpisode, episodeSpec } from '../../../src/arena/episode.js';
import { getPolicy } from '../../../src/arena/policies.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { CANONICAL, canonicalScenario } from '../../../src/trace/generate.js';
import { QTablePolicy, serializeQTable } from '../../../src/agents/q-table.js';
import { train } from '../../../src/agents/train.js';
import { ensureCluster, kubectl, waitFor } from '../../support/cluster.js';
import {
  createEpisode,
  getEpisode,
  operatorSuite,
  outcome,
  scenarioConfigMap,
  startOperator,
  traceConfigMap,
  waitForPhase,
} from './helpers.js';

describe('operator: ArenaEpisode on the real API server', function () {
  this.timeout(180_000);
  const suite = operatorSuite('op');

  it('solves a canonical scenario on the embedded backend and records history, rewards and events', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'composite');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'composite', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 20,
      backend: 'embedded',
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'composite', ['Succeeded', 'Failed']);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    expect(ep.status?.solved).to.equal(true);
    expect(ep.status?.observedGeneration).to.equal(ep.metadata?.generation);
    expect(ep.status?.initialObservation).to.deep.equal({ ready: 0, pending: 5, total: 5 });

    // The same episode through the CLI's code path gives the same steps and rewards.
    const s = canonicalScenario('composite');
    const local = await runEpisode(
      episodeSpec({ workload: s.meta.workload, target: 3, maxSteps: 20, durationSeconds: 30 }),
      s.trace,
      getPolicy('heuristic'),
      new EmbeddedBackend(),
    );
    const got = outcome(ep);
    expect(got.history.map((h) => h.action)).to.deep.equal(local.history.map((h) => h.action));
    expect(got.history.map((h) => h.observation)).to.deep.equal(local.history.map((h) => h.observation));
    expect(got.totalReward).to.be.closeTo(local.totalReward, 1e-9);
    expect(got.stepsToSolve).to.equal(local.stepsToSolve);

    const ready = ep.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('True');
    expect(ready?.reason).to.equal('Solved');
    expect(ep.status?.traceConfigMap).to.match(/^composite-trace-[0-9a-f]{12}$/);

    // Old trace ConfigMaps are collected: only the starting one and the current one remain.
    const cms = await suite.kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: suite.ns });
    const names = cms.items.map((c) => c.metadata!.name!).filter((n) => n.startsWith('composite-'));
    expect(names.sort()).to.deep.equal([cm, ep.status!.traceConfigMap!].sort());

    const events = await suite.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: suite.ns });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).to.include('Started');
    expect(reasons).to.include('StepCompleted');
    expect(reasons).to.include('Solved');
  });

  it('shows the printer columns in kubectl get ae', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'healthy', { trace: { configMapRef: { name: cm } }, targetReplicas: 2 });
    await waitForPhase(suite.kc, suite.ns, 'healthy', ['Succeeded']);
    const out = kubectl(await ensureCluster(), ['get', 'ae', '-n', suite.ns]);
    const [header, row] = out.trim().split('\n');
    expect(header!.split(/\s+/)).to.deep.equal(['NAME', 'PHASE', 'STEP', 'POLICY', 'REWARD', 'SOLVED', 'AGE']);
    expect(row).to.match(/^healthy\s+Succeeded\s+0\s+heuristic\s+0\s+true\s+\S+$/);
  });

  it('runs an episode on the kwok backend: the real scheduler decides', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'cpu-slight');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'kwok', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 5,
      backend: 'kwok',
      stepDuration: '60s',
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'kwok', ['Succeeded', 'Failed'], 150_000);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    expect(ep.status?.initialObservation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
    expect(ep.status?.history?.map((h) => h.action)).to.deep.equal(['reduce-cpu', 'reduce-cpu']);
    expect(ep.status?.history?.at(-1)?.observation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
    expect(ep.status?.solved).to.equal(true);
    // Every replay cleaned up after itself: no run namespaces or run nodes remain.
    const core = suite.kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode({ labelSelector: 'simarena.io/pool' });
    expect(nodes.items.filter((n) => n.metadata?.labels?.['simarena.io/pool']?.startsWith('kwok-'))).to.have.length(0);
  });

  it('plays a trained q-table loaded from a ConfigMap', async function () {
    this.timeout(240_000);
    const policy = new QTablePolicy({}, {});
    const scenarios = CANONICAL.map((c) => ({
      name: c.meta.name,
      target: c.meta.target,
      workload: c.meta.workload,
      trace: () => canonicalScenario(c.meta.name).trace,
    }));
    await train({
      policy,
      scenarios,
      episodes: 3000,
      seed: 1,
      backend: new EmbeddedBackend(),
      spec: (sc, seed) => episodeSpec({ workload: sc.workload, target: sc.target, maxSteps: 50, seed }),
    });
    await suite.kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: suite.ns,
      body: { metadata: { name: 'model' }, data: { 'q-table.json': serializeQTable(policy) } },
    });
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'cpu-mem');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'learned', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 20,
      policy: { name: 'q-table', parameters: { modelConfigMap: 'model' } },
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'learned', ['Succeeded', 'Failed']);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    expect(ep.status?.solved).to.equal(true);
    expect(ep.status?.history?.every((h) => h.action === 'reduce-cpu' || h.action === 'reduce-mem')).to.equal(true);

    await createEpisode(suite.kc, suite.ns, 'nomodel', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      policy: { name: 'q-table', parameters: { modelConfigMap: 'absent' } },
    });
    const bad = await waitForPhase(suite.kc, suite.ns, 'nomodel', ['Failed']);
    expect(bad.status?.message)
      .to.contain('ConfigMap')
      .and.to.contain('absent')
      .and.to.contain('kubectl create configmap');
  });

  describe('invalid episodes end Failed with a message that says what to fix', () => {
    it('a ConfigMap that does not exist', async () => {
      suite.operator = await startOperator(suite.kc, suite.ns);
      await createEpisode(suite.kc, suite.ns, 'nocm', {
        trace: { configMapRef: { name: 'missing' } },
        targetReplicas: 3,
      });
      const ep = await waitForPhase(suite.kc, suite.ns, 'nocm', ['Failed']);
      expect(ep.status?.message)
        .to.contain('ConfigMap')
        .and.to.contain('does not exist')
        .and.to.contain('kubectl create configmap');
    });

    it('bytes that are not a trace', async () => {
      await traceConfigMap(suite.kc, suite.ns, 'junk', new TextEncoder().encode('{"not": "msgpack"}'));
      suite.operator = await startOperator(suite.kc, suite.ns);
      await createEpisode(suite.kc, suite.ns, 'junk', { trace: { configMapRef: { name: 'junk' } }, targetReplicas: 3 });
      const ep = await waitForPhase(suite.kc, suite.ns, 'junk', ['Failed']);
      expect(ep.status?.message).to.match(/trace is invalid/);
      expect(ep.status?.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('InvalidTrace');
    });

    it('a workload that is not in the trace', async () => {
      const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
      suite.operator = await startOperator(suite.kc, suite.ns);
      await createEpisode(suite.kc, suite.ns, 'nowl', {
        trace: { configMapRef: { name: cm } },
        targetReplicas: 3,
        workload: { name: 'api' },
      });
      const ep = await waitForPhase(suite.kc, suite.ns, 'nowl', ['Failed']);
      expect(ep.status?.message)
        .to.contain('Deployment default/api is not in the trace')
        .and.to.contain('Deployment default/web');
    });

    it('an unknown policy is refused by the API server with the allowed names', async () => {
      const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
      let err: Error | undefined;
      try {
        await createEpisode(suite.kc, suite.ns, 'badpolicy', {
          trace: { configMapRef: { name: cm } },
          targetReplicas: 3,
          policy: { name: 'telepathy' },
        });
      } catch (e) {
        err = e as Error;
      }
      expect(err, 'the CRD schema should reject it').to.exist;
      expect(String((err as { body?: string }).body ?? err!.message))
        .to.contain('telepathy')
        .and.to.contain('heuristic');
    });
  });

  it('deleting an episode removes what it created (finalizer)', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'cpu-heavy');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'del', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 3,
    });
    await waitForPhase(suite.kc, suite.ns, 'del', ['Succeeded']);
    const core = suite.kc.makeApiClient(CoreV1Api);
    const before = (
      await core.listNamespacedConfigMap({ namespace: suite.ns, labelSelector: 'simarena.io/episode=del' })
    ).items;
    expect(before.length).to.be.greaterThan(0);
    // Through the API, not a blocking kubectl: the operator runs in this process and must keep reconciling.
    await suite.kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: suite.ns,
      plural: PLURAL,
      name: 'del',
    });
    await waitFor('the episode to be gone', async () =>
      getEpisode(suite.kc, suite.ns, 'del').then(
        () => false,
        () => true,
      ),
    );
    const after = (
      await core.listNamespacedConfigMap({ namespace: suite.ns, labelSelector: 'simarena.io/episode=del' })
    ).items;
    expect(after).to.have.length(0);
  });
});
