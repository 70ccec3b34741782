// The simkube backend end to end on the real control plane against SimKube 2.7's REAL sk-ctrl and sk-driver
// (test/cluster/simkube/up.sh: sk-ctrl out of cluster, the driver runner starting sk-driver for each driver pod),
// with trace-sync running in-process for a KWOK node, writing into the driver runner's node folder.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { runToCompletion, type PollResult, type StepRun } from '../../../src/arena/backend.js';
import { SimkubeBackend } from '../../../src/sim/simkube/index.js';
import { simulationPath } from '../../../src/sim/simkube/simulation.js';
import { traceFileName } from '../../../src/sim/simkube/contract.js';
import type { Simulation } from '../../../src/sim/simkube/simulation.js';
import { canonicalScenario, deploymentObject, buildTrace } from '../../../src/trace/generate.js';
import { deleteSimulation, simkubeSuite, SimulationStates, waitFor, waitNamespaceGone } from './helpers.js';

describe('simkube: replays through SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(240_000);
  const suite = simkubeSuite('sk-replay');
  let states: SimulationStates;
  let backend: SimkubeBackend;
  const runs: StepRun[] = [];

  before(async function () {
    this.timeout(240_000);
    states = new SimulationStates(suite.c).start();
    backend = new SimkubeBackend(suite.c.kc, {
      operatorNamespace: suite.ns,
      traceDir: suite.traceDir,
      stepSeconds: 20,
      pollMs: { sync: 200, blocked: 300, starting: 200, settling: 300 },
    });
    suite.onCleanup(async () => {
      await states?.stop();
      for (const r of runs) await deleteSimulation(suite.c, backend.simulationName(r)).catch(() => undefined);
    });
    // A crashed earlier test run may have left the virtual namespace behind (not owned by any Simulation).
    await suite.c.kube.delete('/api/v1/namespaces/virtual-default');
    await waitNamespaceGone(suite.c, 'virtual-default');
  });

  function stepRun(name: string, scenario: string): StepRun {
    const { trace, meta } = canonicalScenario(scenario);
    const r: StepRun = { name, trace, workload: meta.workload, opts: { seed: 0 }, startedAt: Date.now() };
    runs.push(r);
    return r;
  }

  async function embedded(r: StepRun) {
    return new EmbeddedBackend().run(r.trace, r.workload, { seed: 0 });
  }

  for (const [scenario, expected] of [
    ['cpu-slight', { ready: 0, pending: 3, total: 3 }],
    ['replicas-over', { ready: 5, pending: 0, total: 5 }],
  ] as const) {
    it(`${scenario}: observes ${expected.ready}/${expected.pending}/${expected.total}, like the embedded backend`, async () => {
      const r = stepRun(`skr-${suite.tag}-${scenario}-s1`, scenario);
      const seen: string[] = [];
      const obs = await runToCompletion(
        {
          name: 'simkube',
          start: (x) => backend.start(x),
          poll: async (x) => {
            const p: PollResult = await backend.poll(x);
            if (p.waiting && seen[seen.length - 1] !== p.waiting.reason) seen.push(p.waiting.reason);
            return p;
          },
          cleanup: (x) => backend.cleanup(x),
        },
        r,
      );
      expect(obs).to.deep.equal(expected);
      expect(obs).to.deep.equal(await embedded(r));
      expect(seen).to.include('SimulationCreated');
      expect(seen, 'the window opened once the driver replayed, not at Running').to.include('DriverStarting');
      expect(states.statesOf(backend.simulationName(r))).to.include('Running');
      // cleanup deleted the Simulation; the GC cascade takes the virtual namespace with it
      await waitFor(
        'the Simulation to go',
        async () => !(await suite.c.kube.get(simulationPath(backend.simulationName(r)))),
        90_000,
      );
      await waitNamespaceGone(suite.c, 'virtual-default');
    });
  }

  it("surfaces SimKube's one-at-a-time lock as waiting SimulationBlocked, and proceeds once the other is gone", async () => {
    const a = stepRun(`skb-${suite.tag}-a-s1`, 'healthy');
    const b = stepRun(`skb-${suite.tag}-b-s1`, 'replicas-under');
    await backend.start(a);
    await waitFor('A Running', async () => {
      await backend.poll(a);
      return (
        (await suite.c.kube.get<Simulation>(simulationPath(backend.simulationName(a))))?.status?.state === 'Running'
      );
    });
    await backend.start(b);
    const blocked = await waitFor('B Blocked', async () => {
      const p = await backend.poll(b);
      return p.waiting?.reason === 'SimulationBlocked' ? p : undefined;
    });
    expect(blocked.waiting?.message)
      .to.match(/one simulation at a time/)
      .and.contain(backend.simulationName(a));
    await backend.cleanup(a);
    const obs = await waitFor('B observed', async () => (await backend.poll(b)).observation, 150_000, 300);
    expect(obs).to.deep.equal({ ready: 1, pending: 0, total: 1 });
    const bStates = states.statesOf(backend.simulationName(b));
    expect(bStates[0], bStates.join(' → ')).to.equal('Blocked');
    expect(bStates.indexOf('Running'), bStates.join(' → ')).to.be.greaterThan(0);
    await backend.cleanup(b);
    await waitNamespaceGone(suite.c, 'virtual-default');
  });

  // The driver Job has backoffLimit 0: when sk-driver exits 1, sk-ctrl marks the Simulation Failed and deletes its
  // metaroot at once, and garbage collection takes the driver pod with the terminated status that holds the driver's
  // words, usually before the next poll. The backend reads that status on every poll while Running and keeps a
  // failure on the Simulation (simarena.io/driver-error), then quotes it when the Simulation is Failed.
  it("a replay SimKube's driver fails on: the error quotes the driver, and the Failed Simulation is deleted so the lock is free", async () => {
    // A kind the API server does not serve: sk-driver applies the Deployment, then fails on the Widget.
    const widget = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'default' },
      spec: { template: { spec: { containers: [] } } },
    };
    const r = stepRun(`skf-${suite.tag}-s1`, 'healthy');
    r.trace = buildTrace([deploymentObject({ replicas: 1, cpu: '100m', memory: '64Mi' }), widget]);
    (r.trace.get('config') as Map<string, Map<string, unknown>>)
      .get('trackedObjects')!
      .set('example.com/v1.Widget', new Map([['podSpecTemplatePaths', ['/spec/template']]]) as never);
    let err: Error | undefined;
    await runToCompletion(backend, r).catch((e: Error) => (err = e));
    expect(err?.message, "the driver's own words")
      .to.match(/is Failed/)
      .and.match(/SimKube's driver: driver pod sk-skf-[^ ]+ exited 1/)
      // sk-driver's own error for the kind the API server does not serve, not its backtrace.
      .and.match(/driver failed/)
      .and.match(/ApiError: "404 page not found/)
      .and.not.match(/anyhow::|tokio::runtime/);
    expect(err!.message).to.match(/sim-arena deleted Simulation/);
    await waitFor(
      'the Failed Simulation to go',
      async () => !(await suite.c.kube.get(simulationPath(backend.simulationName(r)))),
      90_000,
    );
    // The lock is free: the next replay is not Blocked for long.
    const next = stepRun(`skf-${suite.tag}-after-s1`, 'healthy');
    expect(await runToCompletion(backend, next)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    await waitNamespaceGone(suite.c, 'virtual-default');
  });

  it('pre-start removes what a crashed run left in the virtual namespace', async () => {
    // An earlier replay's virtual namespace may still be terminating (SimKube deletes it when a Simulation ends).
    await waitFor(
      'virtual-default from an earlier replay to be gone',
      async () => !(await suite.c.kube.get('/api/v1/namespaces/virtual-default')),
      120_000,
    );
    await suite.c.kube.create('/api/v1/namespaces', {
      metadata: { name: 'virtual-default', labels: { 'simkube.io/virtual': 'true' } },
    });
    const leftover = deploymentObject({ replicas: 2, cpu: '100m', memory: '64Mi' }) as {
      metadata: Record<string, unknown>;
      spec: { template: { spec: Record<string, unknown> } };
    };
    leftover.metadata = {
      name: 'web',
      namespace: 'virtual-default',
      labels: { app: 'web', 'simkube.io/simulation': 'crashed-run' },
    };
    leftover.spec.template.spec.nodeSelector = { type: 'virtual' };
    leftover.spec.template.spec.tolerations = [{ key: 'kwok-provider', operator: 'Exists', effect: 'NoSchedule' }];
    await suite.c.kube.create('/apis/apps/v1/namespaces/virtual-default/deployments', leftover);
    await waitFor(
      'leftover pods',
      async () =>
        (await suite.c.kube.list('/api/v1/namespaces/virtual-default/pods', { labelSelector: 'app=web' })).length === 2,
    );
    const r = stepRun(`skl-${suite.tag}-s1`, 'healthy');
    r.trace = buildTrace([deploymentObject({ replicas: 2, cpu: '500m', memory: '512Mi' })]);
    await backend.start(r);
    expect(await suite.c.kube.get('/apis/apps/v1/namespaces/virtual-default/deployments/web')).to.equal(undefined);
    await waitFor(
      'leftover pods gone',
      async () =>
        (await suite.c.kube.list('/api/v1/namespaces/virtual-default/pods', { labelSelector: 'app=web' })).length === 0,
    );
    const obs = await waitFor('observed', async () => (await backend.poll(r)).observation, 90_000, 300);
    expect(obs).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    await backend.cleanup(r);
    // the namespace existed before SimKube's driver ran, so it is not owned by its root: remove it ourselves
    await waitFor(
      'Simulation gone',
      async () => !(await suite.c.kube.get(simulationPath(backend.simulationName(r)))),
      90_000,
    );
    await suite.c.kube.delete('/api/v1/namespaces/virtual-default');
    await waitNamespaceGone(suite.c, 'virtual-default');
  });

  it('collects trace ConfigMaps no Simulation refers to once past their grace; trace-sync then removes the node files', async () => {
    const used = stepRun(`skg-${suite.tag}-a-s1`, 'healthy');
    const unused = stepRun(`skg-${suite.tag}-b-s1`, 'replicas-over');
    const patient = new SimkubeBackend(suite.c.kc, { operatorNamespace: suite.ns }); // the default grace: 2 minutes
    const eager = new SimkubeBackend(suite.c.kc, { operatorNamespace: suite.ns, traceGraceMs: 0 });
    const cmUnused = await eager.ensureConfigMap(unused);
    // A Simulation that refers to the other one.
    await backend.start(used);
    await waitFor('a Simulation for the first run', async () => {
      await backend.poll(used);
      return suite.c.kube.get(simulationPath(backend.simulationName(used)));
    });
    const cmUsed = await backend.ensureConfigMap(used);
    const file = (name: string) => path.join(suite.sync.dir, traceFileName(name));
    await waitFor(
      'both traces on the node',
      async () => existsSync(file(cmUsed.name)) && existsSync(file(cmUnused.name)),
    );

    const young = await patient.collectTraceConfigMaps();
    expect(young, 'both are younger than the grace').to.not.include(cmUsed.name).and.not.include(cmUnused.name);
    const first = await eager.collectTraceConfigMaps();
    expect(first).to.include(cmUnused.name).and.not.include(cmUsed.name);
    expect(await suite.c.kube.get(`/api/v1/namespaces/${suite.ns}/configmaps/${cmUnused.name}`)).to.equal(undefined);
    await waitFor('trace-sync to remove the unused file', async () => !existsSync(file(cmUnused.name)));
    expect(existsSync(file(cmUsed.name)), 'the file of the Simulation in use stays').to.equal(true);

    // Once its Simulation is gone, the other one goes too (cleanup collects; a later cleanup, here a direct call,
    // catches a ConfigMap whose Simulation was still being deleted).
    await eager.cleanup(used);
    await waitFor(
      'the Simulation to go',
      async () => !(await suite.c.kube.get(simulationPath(backend.simulationName(used)))),
      90_000,
    );
    await waitNamespaceGone(suite.c, 'virtual-default');
    await eager.collectTraceConfigMaps();
    expect(await suite.c.kube.get(`/api/v1/namespaces/${suite.ns}/configmaps/${cmUsed.name}`)).to.equal(undefined);
    await waitFor('trace-sync to remove the other file', async () => !existsSync(file(cmUsed.name)));
  });
});
