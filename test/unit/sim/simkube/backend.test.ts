import { expect } from 'chai';
import { canonicalScenario } from '../../../../src/trace/generate.js';
import { encodeTrace } from '../../../../src/trace/trace.js';
import type { StepRun } from '../../../../src/arena/backend.js';
import { SimkubeBackend, SimkubeError, defaultEpisodeOf } from '../../../../src/sim/simkube/index.js';
import {
  sha256Hex,
  syncedAnnotation,
  syncErrorAnnotation,
  traceConfigMapName,
  TRACE_KEY,
} from '../../../../src/sim/simkube/contract.js';
import { TRACE_LABEL } from '../../../../src/api/names.js';
import { SIMULATIONS_PATH } from '../../../../src/sim/simkube/simulation.js';
import type { Simulation } from '../../../../src/sim/simkube/simulation.js';
import { FakeKube } from './fake-kube.js';

const NS = 'sim-arena';
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const VPODS = '/api/v1/namespaces/virtual-default/pods';
const VDEPS = '/apis/apps/v1/namespaces/virtual-default/deployments';

function stepRun(name = 'ep1-s3', scenario = 'replicas-over'): StepRun {
  const { trace, meta } = canonicalScenario(scenario);
  return { name, trace, workload: meta.workload, opts: { seed: 1, durationSeconds: 30 }, startedAt: Date.now() };
}

function backend(fake: FakeKube, extra: Partial<ConstructorParameters<typeof SimkubeBackend>[1]> = {}): SimkubeBackend {
  return new SimkubeBackend(undefined, { kube: fake.kube(), operatorNamespace: NS, awaitFinish: false, ...extra });
}

function syncPod(fake: FakeKube, node: string, phase = 'Running'): void {
  fake.put(PODS, {
    metadata: { name: `trace-sync-${node}`, namespace: NS, labels: { 'app.kubernetes.io/component': 'trace-sync' } },
    spec: { nodeName: node },
    status: { phase },
  });
}

function annotate(fake: FakeKube, run: StepRun, nodes: string[], value?: string): void {
  const bytes = encodeTrace(run.trace);
  const cm = fake.get(CMS, traceConfigMapName(bytes))!;
  cm.metadata!.annotations = {
    ...cm.metadata!.annotations,
    ...Object.fromEntries(nodes.map((n) => [syncedAnnotation(n), value ?? sha256Hex(bytes)])),
  };
}

function pod(name: string, sim: string, ready: boolean | 'unschedulable'): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'virtual-default', labels: { app: 'web', 'simkube.io/simulation': sim } },
    spec: ready === 'unschedulable' ? {} : { nodeName: 'kwok-node-0' },
    status:
      ready === 'unschedulable'
        ? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }
        : { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function setState(fake: FakeKube, name: string, state: string, ageMs = 0): Simulation {
  const sim = fake.get(SIMULATIONS_PATH, name) as Simulation;
  sim.status = { observedGeneration: 1, state: state as never, startTime: new Date(Date.now() - ageMs).toISOString() };
  sim.metadata!.creationTimestamp = new Date(Date.now() - ageMs).toISOString();
  return sim;
}

/** The driver's SimulationRoot (<pod>-root, owned by the sim): the driver made it `agoMs` ago, right before replaying. */
function replayBegan(fake: FakeKube, name: string, agoMs = 0): void {
  const sim = fake.get(SIMULATIONS_PATH, name)!;
  const owner = [{ apiVersion: 'simkube.io/v1', kind: 'Simulation', name, uid: sim.metadata!.uid }];
  fake.put('/apis/simkube.io/v1/simulationroots', {
    metadata: {
      name: `sk-${name}-metaroot`,
      ownerReferences: owner,
      creationTimestamp: new Date(Date.now() - agoMs - 60_000).toISOString(),
    },
  });
  fake.put('/apis/simkube.io/v1/simulationroots', {
    metadata: {
      name: `sk-${name}-driver-x1-root`,
      ownerReferences: owner,
      creationTimestamp: new Date(Date.now() - agoMs).toISOString(),
    },
  });
}

async function startAndSync(fake: FakeKube, b: SimkubeBackend, run: StepRun): Promise<string> {
  syncPod(fake, 'n1');
  await b.start(run);
  annotate(fake, run, ['n1']);
  const r = await b.poll(run);
  expect(r.waiting?.reason).to.equal('SimulationCreated');
  return b.simulationName(run);
}

describe('simkube backend (fake API)', () => {
  it('start writes a content-addressed trace ConfigMap, idempotently', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    await b.start(run);
    await b.start(run);
    const cms = fake.list(CMS);
    expect(cms).to.have.length(1);
    const bytes = encodeTrace(run.trace);
    const cm = cms[0]! as {
      metadata: { name: string; labels: Record<string, string> };
      binaryData: Record<string, string>;
    };
    expect(cm.metadata.name).to.equal(`sa-trace-${sha256Hex(bytes).slice(0, 16)}`);
    expect(cm.metadata.labels[TRACE_LABEL]).to.equal('true');
    expect(Buffer.from(cm.binaryData[TRACE_KEY]!, 'base64').equals(Buffer.from(bytes))).to.equal(true);
  });

  it('waits with TraceSyncUnavailable when no trace-sync pod runs, TraceSyncing until every node annotated', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    await b.start(run);
    let r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('TraceSyncUnavailable');
    expect(r.waiting?.message)
      .to.match(/trace-sync/)
      .and.match(/DaemonSet/);
    syncPod(fake, 'n1');
    syncPod(fake, 'n2');
    syncPod(fake, 'n3', 'Pending'); // not Running: not waited for
    r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('TraceSyncing');
    annotate(fake, run, ['n1']);
    r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('TraceSyncing');
    expect(r.waiting?.message).to.match(/1 of 2 node/);
    annotate(fake, run, ['n2'], 'stale-sha');
    expect((await b.poll(run)).waiting?.reason).to.equal('TraceSyncing');
    expect(fake.list(SIMULATIONS_PATH)).to.have.length(0);
    annotate(fake, run, ['n2']);
    r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('SimulationCreated');
    expect(fake.list(SIMULATIONS_PATH)).to.have.length(1);
  });

  it('creates a Simulation SimKube accepts (lifecycleParams, port 8888, file:// tracePath, hooks, labels)', async () => {
    const fake = new FakeKube();
    const b = backend(fake, { stepSeconds: 45, speed: 2 });
    const run = stepRun('Ep_One-s12');
    run.opts = { seed: 1 };
    const name = await startAndSync(fake, b, run);
    expect(name).to.match(/^[a-z][a-z0-9-]{0,48}$/);
    const sim = fake.get(SIMULATIONS_PATH, name) as Simulation;
    const cm = traceConfigMapName(encodeTrace(run.trace));
    expect(sim.apiVersion).to.equal('simkube.io/v1');
    expect(sim.spec.lifecycleParams).to.deep.equal({});
    expect(sim.spec.driver).to.include({
      image: 'quay.io/appliedcomputing/sk-driver:v2.7.0',
      namespace: 'simkube',
      port: 8888,
      virtualNsPrefix: 'virtual',
    });
    expect(sim.spec.driver.tracePath).to.equal(`file:///var/lib/sim-arena/traces/${cm}.sktrace`);
    expect(sim.spec).to.include({ duration: '45s', speed: 2, repetitions: 1 });
    expect(sim.spec.hooks?.preStartHooks).to.deep.equal([
      { cmd: 'kubectl', args: ['apply', '-f', '/config/kwok'], ignoreFailure: true },
    ]);
    expect(sim.metadata?.labels).to.include({
      'app.kubernetes.io/managed-by': 'sim-arena',
      'simarena.io/run': 'Ep_One-s12',
      'simarena.io/episode': 'Ep_One',
    });
    // polling again does not create a second one
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationPending');
    expect(fake.list(SIMULATIONS_PATH)).to.have.length(1);
  });

  it('pre-start: deletes older Simulations of the episode and waits until they are gone', async () => {
    const fake = new FakeKube();
    fake.slowForeground = true;
    const b = backend(fake);
    fake.put(SIMULATIONS_PATH, {
      metadata: {
        name: 'ep1-s2',
        labels: { 'app.kubernetes.io/managed-by': 'sim-arena', 'simarena.io/episode': 'ep1' },
      },
      spec: {},
    });
    fake.put(SIMULATIONS_PATH, {
      metadata: {
        name: 'other-2',
        labels: { 'app.kubernetes.io/managed-by': 'sim-arena', 'simarena.io/episode': 'other' },
      },
      spec: {},
    });
    const run = stepRun('ep1-s3');
    syncPod(fake, 'n1');
    await b.start(run);
    expect(fake.get(SIMULATIONS_PATH, 'ep1-s2')?.metadata?.deletionTimestamp).to.be.a('string');
    expect(fake.get(SIMULATIONS_PATH, 'other-2')?.metadata?.deletionTimestamp).to.equal(undefined);
    annotate(fake, run, ['n1']);
    const r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('PreviousSimulation');
    fake.store.get(SIMULATIONS_PATH)!.delete('ep1-s2');
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationCreated');
  });

  it('pre-start: deletes leftover workload objects and pods in the virtual namespace, but not those of a live Simulation', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    fake.put('/api/v1/namespaces', { metadata: { name: 'virtual-default' } });
    fake.put(SIMULATIONS_PATH, {
      metadata: { name: 'live' },
      spec: {},
      status: { observedGeneration: 1, state: 'Running' },
    });
    fake.put(SIMULATIONS_PATH, {
      metadata: { name: 'done' },
      spec: {},
      status: { observedGeneration: 1, state: 'Finished' },
    });
    fake.put(VDEPS, {
      metadata: { name: 'web', namespace: 'virtual-default', labels: { 'simkube.io/simulation': 'crashed' } },
    });
    fake.put(VPODS, pod('web-a', 'crashed', true));
    fake.put(VPODS, pod('web-b', 'done', true));
    fake.put(VPODS, pod('web-c', 'live', true));
    await b.start(stepRun());
    expect(fake.get(VDEPS, 'web')).to.equal(undefined);
    expect(fake.list(VPODS).map((p) => p.metadata?.name)).to.deep.equal(['web-c']);
    // once our Simulation exists, start() leaves the namespace alone
    fake.put(VPODS, pod('web-d', 'crashed', true));
    fake.put(SIMULATIONS_PATH, { metadata: { name: 'ep1-s3' }, spec: {} });
    await b.start(stepRun());
    expect(fake.get(VPODS, 'web-d')).to.not.equal(undefined);
  });

  it('surfaces Blocked and Paused as waiting', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    fake.put(SIMULATIONS_PATH, {
      metadata: { name: 'someone-else' },
      spec: {},
      status: { observedGeneration: 1, state: 'Running' },
    });
    setState(fake, name, 'Blocked');
    const r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('SimulationBlocked');
    expect(r.waiting?.message)
      .to.match(/one simulation at a time/)
      .and.match(/someone-else/);
    setState(fake, name, 'Paused');
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationPaused');
  });

  it("observes the sim's own pods once they all settle", async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun(); // replicas-over: 5 replicas
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Initializing');
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationInitializing');
    setState(fake, name, 'Running');
    // Running, but the driver pod is still starting (it sleeps 5 s before replaying)
    expect((await b.poll(run)).waiting?.reason).to.equal('DriverStarting');
    replayBegan(fake, name);
    for (let i = 0; i < 4; i++) fake.put(VPODS, pod(`web-${i}`, name, true));
    fake.put(VPODS, pod('web-old', 'another-sim', true)); // not ours
    let r = await b.poll(run);
    expect(r.waiting?.reason).to.equal('PodsSettling');
    fake.put(VPODS, pod('web-4', name, false));
    expect((await b.poll(run)).waiting?.reason).to.equal('PodsSettling');
    fake.put(VPODS, pod('web-4', name, true));
    r = await b.poll(run);
    expect(r.observation).to.deep.equal({ ready: 5, pending: 0, total: 5 });
  });

  it('awaitFinish (the default): keeps the observation on the Simulation until SimKube finishes it, then returns it', async () => {
    const fake = new FakeKube();
    const b = backend(fake, { awaitFinish: undefined });
    const run = stepRun('ep3-s1', 'cpu-slight');
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Running');
    replayBegan(fake, name);
    for (let i = 0; i < 3; i++) fake.put(VPODS, pod(`web-${i}`, name, 'unschedulable'));
    let r = await b.poll(run);
    expect(r.observation).to.equal(undefined);
    expect(r.waiting?.reason).to.equal('SimulationFinishing');
    expect(fake.get(SIMULATIONS_PATH, name)!.metadata!.annotations!['simarena.io/observation']).to.equal(
      '{"ready":0,"pending":3,"total":3}',
    );
    // the pods go with the driver's root; the observation stays
    fake.store.get(VPODS)!.clear();
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationFinishing');
    const sim = fake.get(SIMULATIONS_PATH, name) as Simulation;
    sim.status = { ...sim.status, state: 'Finished' };
    r = await b.poll(run);
    expect(r.observation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
  });

  it('counts Unschedulable pods as settled (cpu-slight: 0/3/3)', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun('ep2-s1', 'cpu-slight');
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Running');
    for (let i = 0; i < 3; i++) fake.put(VPODS, pod(`web-${i}`, name, 'unschedulable'));
    expect((await b.poll(run)).observation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
  });

  it('observes what is there once 80% of duration/speed has passed since the driver began replaying, and explains when nothing appeared', async () => {
    const fake = new FakeKube();
    const b = backend(fake, { speed: 2 });
    const run = stepRun(); // 30 s at speed 2: window 12 s
    const name = await startAndSync(fake, b, run);
    // Running for a minute, but the driver began replaying 11 s ago: the window is still open.
    setState(fake, name, 'Running', 60_000);
    replayBegan(fake, name, 11_000);
    expect((await b.poll(run)).waiting?.reason).to.equal('PodsSettling');
    fake.store.get('/apis/simkube.io/v1/simulationroots')!.clear();
    replayBegan(fake, name, 13_000);
    let err: unknown;
    await b.poll(run).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(SimkubeError);
    expect((err as Error).message)
      .to.match(/no pod of Deployment default\/web appeared in virtual-default/)
      .and.match(/job-name=sk-/);
    fake.put(VPODS, pod('web-0', name, true));
    fake.put(VPODS, pod('web-1', name, false));
    expect((await b.poll(run)).observation).to.deep.equal({ ready: 1, pending: 1, total: 2 });
  });

  it('throws on Finished before observing, with a hint to raise stepDuration', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Finished');
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err?.message)
      .to.match(/finished before sim-arena could observe/)
      .and.match(/raise stepDuration/);
  });

  it('throws on Failed with the traps found (monitoring namespace, driver namespace, ClusterIssuer)', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Failed');
    fake.put('/api/v1/namespaces/default/events', {
      metadata: { name: 'e1', namespace: 'default' },
      involvedObject: { kind: 'Simulation', name },
      type: 'Warning',
      reason: 'SetupFailed',
      message: 'metrics namespace monitoring missing',
    });
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err).to.be.instanceOf(SimkubeError);
    expect(err!.message).to.match(/is Failed/);
    expect(err!.message).to.match(/SetupFailed: metrics namespace monitoring missing/);
    expect(err!.message).to.match(/kubectl create namespace monitoring/);
    expect(err!.message).to.match(/namespace simkube/);
    expect(err!.message).to.match(/ClusterIssuer selfsigned/);
  });

  it("on Failed quotes the driver's own error (its pod's terminated status), then deletes the Simulation so it cannot hold SimKube's lock", async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Failed');
    fake.put('/api/v1/namespaces/simkube/pods', {
      metadata: { name: `sk-${name}-driver-x1`, namespace: 'simkube', labels: { 'job-name': `sk-${name}-driver` } },
      status: {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'driver',
            state: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                message:
                  '2026-12-04T13:00:00Z  INFO sk_driver: applying apps/v1.ReplicaSet virtual-default/web\n\u001b[31m2026-12-04T13:00:01Z ERROR sk_driver: driver failed: ApiError: .spec.metadata: field not declared in schema\u001b[0m',
              },
            },
          },
        ],
      },
    });
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err).to.be.instanceOf(SimkubeError);
    expect(err!.message)
      .to.match(/is Failed/)
      .and.match(
        new RegExp(
          `driver pod sk-${name}-driver-x1 exited 1 \\(Error\\): .*\\.spec\\.metadata: field not declared in schema`,
        ),
      );
    expect(err!.message, 'the driver named the cause: no setup traps').to.not.match(/monitoring/);
    expect(err!.message).to.match(new RegExp(`sim-arena deleted Simulation ${name}`));
    expect(fake.get(SIMULATIONS_PATH, name)).to.equal(undefined);
  });

  it("Blocked names the holder of SimKube's lock, Failed ones included; a Failed holder sim-arena made is deleted", async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Blocked');
    const lease = (holder: string): void =>
      void fake.put('/apis/coordination.k8s.io/v1/namespaces/simkube/leases', {
        metadata: { name: 'sk-lease', namespace: 'simkube' },
        spec: { holderIdentity: holder },
      });
    fake.put(SIMULATIONS_PATH, { metadata: { name: 'theirs' }, spec: {}, status: { state: 'Failed' } });
    lease('theirs');
    let m = (await b.poll(run)).waiting?.message;
    expect(m)
      .to.match(/one simulation at a time/)
      .and.match(
        /waits for theirs to finish: it is Failed but still holds the lock; delete it \(kubectl delete simulation theirs\)/,
      );
    expect(fake.get(SIMULATIONS_PATH, 'theirs'), 'not ours: left alone').to.not.equal(undefined);
    fake.put(SIMULATIONS_PATH, {
      metadata: { name: 'ours-old', labels: { 'app.kubernetes.io/managed-by': 'sim-arena' } },
      spec: {},
      status: { state: 'Failed' },
    });
    lease('ours-old');
    m = (await b.poll(run)).waiting?.message;
    expect(m).to.match(/waits for ours-old to finish: it is Failed and still held the lock, so sim-arena deleted it/);
    expect(fake.get(SIMULATIONS_PATH, 'ours-old')).to.equal(undefined);
    fake.put(SIMULATIONS_PATH, { metadata: { name: 'busy' }, spec: {}, status: { state: 'Running' } });
    lease('busy');
    expect((await b.poll(run)).waiting?.message).to.match(/waits for busy to finish \(Running\)/);
  });

  it('a Running Simulation whose driver never begins replaying fails after driverStartTimeoutMs, and is deleted', async () => {
    const fake = new FakeKube();
    const b = backend(fake, { driverStartTimeoutMs: 30_000 });
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Running', 10_000);
    expect((await b.poll(run)).waiting?.reason).to.equal('DriverStarting');
    setState(fake, name, 'Running', 40_000);
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err?.message)
      .to.match(/Running for 40s without its driver replaying anything/)
      .and.match(new RegExp(`sim-arena deleted Simulation ${name}`));
  });

  it('gives a Retrying Simulation a grace period, then throws', async () => {
    const fake = new FakeKube();
    const b = backend(fake, { retryGraceMs: 10_000 });
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    setState(fake, name, 'Retrying', 1000);
    expect((await b.poll(run)).waiting?.reason).to.equal('SimulationRetrying');
    setState(fake, name, 'Retrying', 20_000);
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err?.message)
      .to.match(/is Retrying/)
      .and.match(/monitoring/);
  });

  it('throws when trace-sync rejected the trace as invalid; waits on other sync errors', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    syncPod(fake, 'n1');
    await b.start(run);
    const cm = fake.get(CMS, traceConfigMapName(encodeTrace(run.trace)))!;
    cm.metadata!.annotations = { [syncErrorAnnotation('n1')]: 'write /x: ENOSPC' };
    expect((await b.poll(run)).waiting?.reason).to.equal('TraceSyncFailed');
    cm.metadata!.annotations = { [syncErrorAnnotation('n1')]: 'invalid trace: version: missing' };
    let err: Error | undefined;
    await b.poll(run).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/rejected trace ConfigMap/);
  });

  it('cleanup deletes the Simulation (Foreground), tolerates 404, keeps the ConfigMap', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    const name = await startAndSync(fake, b, run);
    await b.cleanup(run);
    await b.cleanup(run);
    expect(fake.get(SIMULATIONS_PATH, name)).to.equal(undefined);
    expect(fake.calls.some((c) => c.method === 'DELETE' && c.path.endsWith(`/simulations/${name}`))).to.equal(true);
    expect(fake.list(CMS)).to.have.length(1);
  });

  it('refuses a trace larger than a ConfigMap can hold', async () => {
    const fake = new FakeKube();
    const b = backend(fake);
    const run = stepRun();
    b.traceBytes = () => new Uint8Array(1024 * 1024 + 1);
    let err: Error | undefined;
    await b.start(run).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/at most 1048576/);
  });

  it('derives the episode from run.episode or the operator run name (<episode>-s<step>)', () => {
    const r = stepRun('abc-1f2e3d4c-s7');
    expect(defaultEpisodeOf(r)).to.equal('abc-1f2e3d4c');
    expect(defaultEpisodeOf({ ...r, name: 'abc-7' })).to.equal(undefined);
    expect(defaultEpisodeOf({ ...r, name: 'sa-run-1234567890' })).to.equal(undefined);
    expect(defaultEpisodeOf({ ...r, name: 'single' })).to.equal(undefined);
    expect(defaultEpisodeOf({ ...r, name: 'x-1', episode: 'ns.ep' } as StepRun)).to.equal('ns.ep');
  });
});
