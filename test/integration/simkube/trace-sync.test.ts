// trace-sync against the real API server: the --once command, the watch loop, and the backend waiting for it.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { traceSyncCommand } from '../../../src/cli/trace-sync.js';
import type { StepRun } from '../../../src/arena/backend.js';
import {
  sha256Hex,
  syncedAnnotation,
  syncErrorAnnotation,
  traceConfigMap,
  traceConfigMapName,
} from '../../../src/sim/simkube/contract.js';
import { SimkubeBackend } from '../../../src/sim/simkube/index.js';
import { simulationPath } from '../../../src/sim/simkube/simulation.js';
import type { Simulation } from '../../../src/sim/simkube/simulation.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
import {
  clusterOrSkip,
  deleteNamespace,
  deleteSimulation,
  fakeTraceSyncPod,
  freshNamespace,
  installSimkubeCrds,
  kwokNode,
  LocalTraceSync,
  waitFor,
  type Cluster,
} from './helpers.js';

interface CM {
  metadata?: { annotations?: Record<string, string> };
}

describe('simkube: trace-sync on the real API server', function () {
  this.timeout(120_000);
  let c: Cluster;
  let ns: string;
  let dir: string;
  let node: string;
  const sims: string[] = [];

  before(async function () {
    c = await clusterOrSkip(this);
    await installSimkubeCrds(c);
    ns = await freshNamespace(c, 'sk-sync');
    node = await kwokNode(c);
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sk-sync-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  after(async function () {
    if (!c) return;
    for (const s of sims) await deleteSimulation(c, s).catch(() => undefined);
    await deleteNamespace(c, ns);
  });

  const cmPath = (name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;

  it('--once writes every trace ConfigMap to DIR/<name>.sktrace and annotates synced.<node>', async () => {
    const bytes = encodeTrace(canonicalScenario('healthy').trace);
    const name = traceConfigMapName(bytes);
    await c.kube.create(`/api/v1/namespaces/${ns}/configmaps`, traceConfigMap(name, ns, bytes));
    await c.kube.create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'unrelated', namespace: ns },
      data: { a: 'b' },
    });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let rc: number;
    try {
      rc = await traceSyncCommand([
        '--once',
        '--dir',
        dir,
        '--namespace',
        ns,
        '--node',
        'node-a',
        '--kubeconfig',
        c.path,
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(rc).to.equal(0);
    expect(out.join('')).to.contain(`${name}: written`);
    const file = path.join(dir, `${name}.sktrace`);
    expect(sha256Hex(await readFile(file))).to.equal(sha256Hex(bytes));
    expect((await stat(file)).mode & 0o777).to.equal(0o644);
    const cm = (await c.kube.get<CM>(cmPath(name)))!;
    expect(cm.metadata?.annotations?.[syncedAnnotation('node-a')]).to.equal(sha256Hex(bytes));
    expect(await c.kube.get<CM>(cmPath('unrelated'))).to.not.have.nested.property('metadata.annotations');
  });

  it('the watch loop follows creates and deletes, and flags an invalid trace instead of writing it', async () => {
    const s = await LocalTraceSync.start(c, ns, 'node-b');
    try {
      const bytes = encodeTrace(canonicalScenario('cpu-heavy').trace);
      const name = traceConfigMapName(bytes);
      await c.kube.create(`/api/v1/namespaces/${ns}/configmaps`, traceConfigMap(name, ns, bytes));
      const file = path.join(s.dir, `${name}.sktrace`);
      await waitFor(
        'the trace file',
        async () => (await readFile(file).catch(() => undefined))?.length === bytes.length,
      );
      await waitFor(
        'the synced annotation',
        async () =>
          (await c.kube.get<CM>(cmPath(name)))?.metadata?.annotations?.[syncedAnnotation('node-b')] ===
          sha256Hex(bytes),
      );

      const bad = new TextEncoder().encode('{"version": 2, "events": []}');
      await c.kube.create(`/api/v1/namespaces/${ns}/configmaps`, traceConfigMap('sa-trace-bad', ns, bad));
      const err = await waitFor(
        'the sync-error annotation',
        async () =>
          (await c.kube.get<CM>(cmPath('sa-trace-bad')))?.metadata?.annotations?.[syncErrorAnnotation('node-b')],
      );
      expect(err).to.match(/^invalid trace: /);
      expect(await stat(path.join(s.dir, 'sa-trace-bad.sktrace')).catch(() => 'absent')).to.equal('absent');

      await c.kube.delete(cmPath(name));
      await waitFor(
        'the file of the deleted ConfigMap to go',
        async () => (await stat(file).catch(() => 'absent')) === 'absent',
      );
    } finally {
      await s.stop();
    }
  });

  it('the backend waits (TraceSyncUnavailable, TraceSyncing) until every trace-sync node has the trace, then creates the Simulation', async () => {
    const { trace, meta } = canonicalScenario('replicas-under');
    const backend = new SimkubeBackend(c.kc, { operatorNamespace: ns, stepSeconds: 20 });
    const run: StepRun = {
      name: `sksync-${process.pid}-s1`,
      trace,
      workload: meta.workload,
      opts: { seed: 0 },
      startedAt: Date.now(),
    };
    await backend.start(run);
    let r = await backend.poll(run);
    expect(r.waiting?.reason).to.equal('TraceSyncUnavailable');
    expect(r.waiting?.message).to.match(/trace-sync/);

    await fakeTraceSyncPod(c, ns, node);
    r = await backend.poll(run);
    expect(r.waiting?.reason).to.equal('TraceSyncing');
    expect(r.waiting?.message).to.contain(node);
    expect(await c.kube.get(simulationPath(backend.simulationName(run)))).to.equal(undefined);

    const s = await LocalTraceSync.start(c, ns, node);
    try {
      sims.push(backend.simulationName(run));
      r = await waitFor('the Simulation to be created', async () => {
        const p = await backend.poll(run);
        return p.waiting?.reason === 'TraceSyncing' ? undefined : p;
      });
      expect(r.waiting?.reason).to.equal('SimulationCreated');
      const sim = (await c.kube.get<Simulation>(simulationPath(backend.simulationName(run))))!;
      const cm = traceConfigMapName(encodeTrace(trace));
      expect(sim.spec.driver.tracePath).to.equal(`file:///var/lib/sim-arena/traces/${cm}.sktrace`);
      expect(sha256Hex(await readFile(path.join(s.dir, `${cm}.sktrace`)))).to.equal(sha256Hex(encodeTrace(trace)));
      // The Simulation exists; SimKube's controller (when it runs) may already have begun initializing it.
      expect((await backend.poll(run)).waiting?.reason).to.be.oneOf(['SimulationPending', 'SimulationInitializing']);
      await backend.cleanup(run);
      await backend.cleanup(run);
      expect(await c.kube.get(`/api/v1/namespaces/${ns}/configmaps/${cm}`)).to.not.equal(undefined);
    } finally {
      await s.stop();
    }
  });
});
