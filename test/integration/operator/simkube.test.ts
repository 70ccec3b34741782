// The operator driving the simkube backend on the real control plane against SimKube 2.7's REAL sk-ctrl and
// sk-driver (test/cluster/simkube/up.sh), with trace-sync running in-process for a KWOK node (its fake DaemonSet pod
// is marked Running by KWOK) writing into the driver runner's node folder: every Simulation the operator creates
// references a trace file trace-sync wrote with the right bytes, is replayed by sk-driver and Finished by sk-ctrl or
// deleted after its step; SimKube's one-simulation-at-a-time lock shows on the waiting episode.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { readResources } from '../../../src/arena/actions.js';
import { silentLogger } from '../../../src/util/log.js';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import { type ArenaEpisode, type ArenaEpisodeSpec } from '../../../src/api/episode.js';
import type { Controller } from '../../../src/controller/controller.js';
import { Informer } from '../../../src/controller/informer.js';
import { sha256Hex, syncedAnnotation, TRACE_SHA_ANNOTATION } from '../../../src/sim/simkube/contract.js';
import { Kube } from '../../../src/kube/client.js';
import { SIMULATIONS_PATH } from '../../../src/sim/simkube/simulation.js';
import { EPISODE_LABEL, TRACE_CONFIGMAP_ANNOTATION } from '../../../src/api/names.js';
import { labelValue, simulationName, type Simulation } from '../../../src/sim/simkube/simulation.js';
import { buildTrace, canonicalScenario, deploymentObject, START_TS } from '../../../src/trace/generate.js';
import { decodeTrace, encodeTrace } from '../../../src/trace/trace.js';
import { ensureCluster, kubeConfig, waitFor } from '../../support/cluster.js';
import { ensureSimkube, simkubeLogTail } from '../../support/simkube.js';
import {
  deleteNamespace,
  fakeTraceSyncPod,
  freshNamespace,
  kwokNode,
  LocalTraceSync,
  NODE_TRACE_DIR,
  SimulationStates,
  type Cluster,
} from '../simkube/helpers.js';
import {
  createEpisode,
  ensureCrd,
  getEpisode,
  scenarioConfigMap,
  startOperator,
  traceConfigMap,
  waitForPhase,
} from './helpers.js';

/** One Simulation as the operator created it, and what was on the trace-sync node's disk at that moment. */
interface SeenSimulation {
  name: string;
  episode: string;
  tracePath: string;
  configMap: string;
  createdAt: number;
  deletedAt?: number;
  /** sha256 of <sync dir>/<configMap>.sktrace when the Simulation appeared (undefined: no file). */
  fileSha?: string;
  /** The ConfigMap's own sha256 annotation and this node's synced annotation. */
  cmSha?: string;
  syncedSha?: string;
  fileBytes?: Uint8Array;
}

// A real replay costs about a minute here (sk-ctrl setup, the driver's 5 s start, the trace, its cleanup of the
// virtual namespace), so this suite runs four: one episode already at its target, one solved in two steps while the
// first holds SimKube's lock. The operator process started from the CLI is simkube-cli.test.ts.
describe('operator: simkube episodes through SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(600_000);
  const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  // Episode names are unique to this run: the simkube backend finds an episode's older Simulations by name.
  const names = { first: `sk-${tag}-first`, second: `sk-${tag}-second` };
  const vnsPrefix = `virt-${tag}`;
  let kc: KubeConfig;
  let c: Cluster;
  let opNs: string;
  let epNs: string;
  let node: string;
  let sync: LocalTraceSync;
  let states: SimulationStates;
  const traceDir = `${NODE_TRACE_DIR}/${tag}`;
  let operator: Controller | undefined;
  let sims: Informer<KubernetesObject>;
  const seen = new Map<string, SeenSimulation>();
  const checks: Array<Promise<void>> = [];

  before(async function () {
    this.timeout(3_600_000); // a cold cluster build happens here once per run
    kc = await kubeConfig();
    c = { kc, path: await ensureCluster(), kube: Kube.of(kc) };
    await ensureCrd(kc);
    const sk = await ensureSimkube();
    opNs = await freshNamespace(c, 'sk-op');
    epNs = await freshNamespace(c, 'sk-ep');
    node = await kwokNode(c);
    await fakeTraceSyncPod(c, opNs, node);
    sync = await LocalTraceSync.start(c, opNs, node, path.join(sk.nodeRoot, traceDir));
    const mine = new Set(Object.values(names).map(labelValue));
    states = new SimulationStates(c).start();

    // Every Simulation of these episodes, as it appears: check the trace it references right then.
    sims = new Informer<KubernetesObject>({
      kc,
      path: SIMULATIONS_PATH,
      labelSelector: `${EPISODE_LABEL} in (${[...mine].join(',')})`,
      name: 'test-simulations',
      logger: silentLogger(),
    });
    sims.on((obj, type) => {
      const sim = obj as unknown as Simulation;
      const name = sim.metadata!.name!;
      if (type === 'add' && !seen.has(name)) {
        const s: SeenSimulation = {
          name,
          episode: sim.metadata!.labels![EPISODE_LABEL]!,
          tracePath: sim.spec.driver.tracePath,
          configMap: sim.metadata!.annotations![TRACE_CONFIGMAP_ANNOTATION]!,
          createdAt: Date.now(),
        };
        seen.set(name, s);
        checks.push(
          (async () => {
            const file = path.join(sync.dir, `${s.configMap}.sktrace`);
            const bytes = await readFile(file).catch(() => undefined);
            if (bytes) ((s.fileSha = sha256Hex(bytes)), (s.fileBytes = new Uint8Array(bytes)));
            const cm = await c.kube.get(`/api/v1/namespaces/${opNs}/configmaps/${s.configMap}`);
            s.cmSha = cm?.metadata?.annotations?.[TRACE_SHA_ANNOTATION];
            s.syncedSha = cm?.metadata?.annotations?.[syncedAnnotation(node)];
          })(),
        );
      }
      if (type === 'delete') {
        const s = seen.get(name);
        if (s) s.deletedAt ??= Date.now();
      }
    });
    sims.start();
    await sims.hasSynced();

    operator = await startOperator(kc, epNs, { operatorNamespace: opNs, workers: 4 });
  });

  after(async function () {
    this.timeout(180_000);
    if (!c) return;
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Episodes go first, while the operator still runs (it removes their finalizer).
    for (const n of Object.values(names))
      await custom
        .deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: epNs, plural: PLURAL, name: n })
        .catch(() => undefined);
    await waitFor(
      'the episodes to be gone',
      async () => {
        const left = await Promise.all(
          Object.values(names).map((n) =>
            getEpisode(kc, epNs, n).then(
              () => n,
              () => undefined,
            ),
          ),
        );
        return left.every((x) => x === undefined);
      },
      60_000,
    ).catch((e: Error) => process.stderr.write(`${e.message}\n`));
    await operator?.stop();
    await states?.stop();
    await sims?.stop();
    for (const s of await c.kube.list<Simulation>(SIMULATIONS_PATH, {
      labelSelector: `${EPISODE_LABEL} in (${Object.values(names).map(labelValue).join(',')})`,
    })) {
      await c.kube.delete(`${SIMULATIONS_PATH}/${s.metadata!.name!}`);
    }
    await sync?.stop();
    await deleteNamespace(c, `${vnsPrefix}-default`);
    await deleteNamespace(c, epNs);
    await deleteNamespace(c, opNs);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(
        `--- sk-ctrl.log\n${simkubeLogTail('sk-ctrl.log')}\n--- driver-runner.log\n${simkubeLogTail('driver-runner.log')}\n`,
      );
    }
  });

  const spec = (
    cm: string,
    extra: Partial<ArenaEpisodeSpec> = {},
  ): Partial<ArenaEpisodeSpec> & Pick<ArenaEpisodeSpec, 'trace' | 'targetReplicas'> => ({
    trace: { configMapRef: { name: cm } },
    targetReplicas: 3,
    maxSteps: 5,
    backend: 'simkube',
    stepDuration: '20s',
    simkube: { virtualNsPrefix: vnsPrefix, traceDir },
    ...extra,
  });

  /** The Simulations of one episode in creation order, once every check on them has finished. */
  async function simulationsOf(episode: string): Promise<SeenSimulation[]> {
    await Promise.all(checks);
    return [...seen.values()]
      .filter((s) => s.episode === labelValue(episode))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Each Simulation referenced a trace trace-sync had written (right bytes, synced annotation), was replayed, and was gone before the next step's. */
  async function expectSimulationsFor(ep: ArenaEpisode, startBytes: Uint8Array): Promise<SeenSimulation[]> {
    const name = ep.metadata!.name!;
    const history = ep.status?.history ?? [];
    // The last step's Simulation is deleted as the episode finishes (Foreground: gone once its namespace is).
    await waitFor(
      `the Simulations of ${name} to be gone`,
      async () =>
        (await c.kube.list(SIMULATIONS_PATH, { labelSelector: `${EPISODE_LABEL}=${labelValue(name)}` })).length === 0,
      90_000,
    );
    await waitFor(
      'the informer to see the deletions',
      async () =>
        [...seen.values()].filter((s) => s.episode === labelValue(name)).every((s) => s.deletedAt !== undefined),
      10_000,
    );
    const list = await simulationsOf(name);
    // One Simulation per replay: the starting trace (step 0), then one per step.
    expect(list.slice(1).map((s) => s.name)).to.deep.equal(history.map((h) => simulationName(h.simulation!)));
    expect(list[0]!.name).to.match(/-s0$/);
    for (const [i, s] of list.entries()) {
      expect(s.tracePath, s.name).to.equal(`file://${traceDir}/${s.configMap}.sktrace`);
      expect(s.configMap).to.match(/^sa-trace-[0-9a-f]{16}$/);
      expect(s.fileSha, `${s.name}: ${s.configMap}.sktrace in the synced dir`).to.be.a('string');
      expect(s.configMap, "content-addressed by the file's bytes").to.equal(`sa-trace-${s.fileSha!.slice(0, 16)}`);
      expect(s.cmSha, "the ConfigMap's sha256").to.equal(s.fileSha);
      expect(s.syncedSha, `synced.${node} annotation`).to.equal(s.fileSha);
      // The bytes are the trace of that replay: the starting trace, then each step's edited requests.
      if (i === 0) expect(s.fileSha).to.equal(sha256Hex(startBytes));
      else
        expect(
          readResources(decodeTrace(s.fileBytes!).trace, { kind: 'Deployment', namespace: 'default', name: 'web' }),
        ).to.deep.equal(history[i - 1]!.requests);
      expect(states.statesOf(s.name), `${s.name} replayed by sk-driver`).to.include('Running');
      expect(s.deletedAt, `${s.name} deleted after its step`).to.be.a('number');
      const next = list[i + 1];
      if (next) expect(s.deletedAt!, `${s.name} deleted before ${next.name} was created`).to.be.at.most(next.createdAt);
    }
    // Afterwards a file stays on disk exactly while its ConfigMap does (the backend deletes unused trace ConfigMaps
    // after traceGraceMs, and trace-sync then removes the file).
    for (const s of list) {
      const cm = await c.kube.get(`/api/v1/namespaces/${opNs}/configmaps/${s.configMap}`);
      if (!cm || cm.metadata?.deletionTimestamp) continue;
      expect((await stat(path.join(sync.dir, `${s.configMap}.sktrace`))).isFile(), s.configMap).to.equal(true);
    }
    return list;
  }

  it('SimKube runs one simulation at a time: the later episode waits (phase Waiting, Blocked) while the other runs, then both complete', async () => {
    // The first episode's replay takes a while: its trace scales the Deployment from 1 to 3 replicas 15 s in (the
    // backend observes once the pods match the final spec), so its Simulation holds SimKube's lock that long.
    const slow = buildTrace(
      [deploymentObject({ replicas: 1, cpu: '500m', memory: '512Mi' })],
      [{ ts: START_TS + 15, applied: [deploymentObject({ replicas: 3, cpu: '500m', memory: '512Mi' })] }],
    );
    const slowBytes = encodeTrace(slow);
    await traceConfigMap(kc, epNs, 'slow-trace', slowBytes);
    const cmB = await scenarioConfigMap(kc, epNs, 'replicas-under');
    // What the second episode reported over time (read through the API: the operator runs in this process).
    const snapshots: Array<{ phase?: string; blocked?: string; message?: string; at: number }> = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const e = await getEpisode(kc, epNs, names.second).catch(() => undefined);
        if (e?.status)
          snapshots.push({
            phase: e.status.phase,
            blocked: e.status.conditions?.find((x) => x.type === 'Blocked')?.status,
            message: e.status.message,
            at: Date.now(),
          });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      await createEpisode(kc, epNs, names.first, spec('slow-trace', { stepDuration: '40s' }));
      // The second starts once the first's Simulation runs.
      const firstSim = await waitFor("the first episode's Simulation to run", async () => {
        const s = [...seen.values()].find((x) => x.episode === labelValue(names.first));
        return s && states.statesOf(s.name).includes('Running') ? s : undefined;
      });
      await createEpisode(kc, epNs, names.second, spec(cmB));
      const [a, b] = await Promise.all([
        waitForPhase(kc, epNs, names.first, ['Succeeded', 'Failed'], 300_000),
        waitForPhase(kc, epNs, names.second, ['Succeeded', 'Failed'], 540_000),
      ]);
      for (const ep of [a, b]) {
        expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
        expect(ep.status?.solved, ep.metadata?.name).to.equal(true);
        expect(ep.status?.conditions?.find((x) => x.type === 'Blocked')?.status, 'no longer Blocked').to.equal('False');
      }
      expect(a.status?.initialObservation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
      expect(a.status?.history ?? []).to.have.length(0); // already at its target
      expect(b.status?.history?.map((h) => h.action)).to.deep.equal(['scale-up', 'scale-up']);

      // The later episode was Waiting, Blocked on SimKube's lock, naming the first's Simulation while that ran.
      const blocked = snapshots.filter(
        (s) => s.phase === 'Waiting' && s.blocked === 'True' && s.at < (seen.get(firstSim.name)?.deletedAt ?? Infinity),
      );
      expect(
        blocked,
        `snapshots of ${names.second}: ${JSON.stringify(snapshots.map((s) => [s.phase, s.blocked, s.message]))}`,
      ).to.not.be.empty;
      expect(blocked[0]!.message).to.match(/one simulation at a time/);
      // It names the Simulation it waits for: the first episode's (or, when another suite replays on the shared
      // cluster at the same time, that suite's Simulations as well).
      const holders = /waits for (.*) to finish/.exec(blocked[0]!.message!)?.[1]?.split(', ') ?? [];
      const foreign = holders.filter((h) => !seen.has(h));
      if (foreign.length === 0) expect(holders, blocked[0]!.message).to.include(firstSim.name);
      else process.stderr.write(`  (another suite's Simulations ran meanwhile: ${foreign.join(', ')})\n`);
      const firstDeleted = await waitFor(
        'the first Simulation to be gone',
        async () => seen.get(firstSim.name)?.deletedAt,
        90_000,
      );
      expect(blocked[0]!.at).to.be.below(firstDeleted);
      // Its own Simulation went Blocked → Running once the first one was gone.
      const secondSims = await expectSimulationsFor(b, encodeTrace(canonicalScenario('replicas-under').trace));
      const secondStates = states.statesOf(secondSims[0]!.name);
      expect(secondStates[0], secondStates.join(' → ')).to.equal('Blocked');
      expect(secondStates.indexOf('Running'), secondStates.join(' → ')).to.be.greaterThan(0);
      await expectSimulationsFor(a, slowBytes);
    } finally {
      watching = false;
      await watcher;
    }
  });
});
