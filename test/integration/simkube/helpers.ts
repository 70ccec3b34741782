// Shared pieces for the simkube suites: reach the real test control plane (or skip), install SimKube's CRDs from
// the fixture, a fake trace-sync pod that KWOK marks Running, and in-process trace-sync loops.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { silentLogger } from '../../../src/util/log.js';
import { kubeRequest } from '../../../src/kube/request.js';
import { Kube } from '../../../src/kube/client.js';
import { TraceSyncer, TraceSyncLoop } from '../../../src/sim/simkube/sync.js';
import { ensureSimkube, simkubeLogTail } from '../../support/simkube.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SIMKUBE_CRDS = path.resolve(
  REPO_ROOT,
  '..',
  'shared',
  'fixtures',
  'simkube',
  'crds',
  'simkube.io_simulations.yml',
);
export const NODE_TRACE_DIR = '/var/lib/sim-arena/traces';

export interface Cluster {
  kc: KubeConfig;
  path: string;
  kube: Kube;
}

let cached: Promise<Cluster | string> | undefined;

/** The test cluster (SIM_ARENA_TEST_KUBECONFIG, <repo>/.cluster/kubeconfig, else KUBECONFIG), or why not. */
function findCluster(): Promise<Cluster | string> {
  cached ??= (async () => {
    // Bring the shared test cluster up first (built on a fresh machine), so these suites never skip in `npm test`.
    await ensureCluster().catch((e: Error) => process.stderr.write(`  test cluster: ${e.message.split('\n')[0]}\n`));
    const candidates = [
      process.env.SIM_ARENA_TEST_KUBECONFIG,
      path.join(REPO_ROOT, '.cluster', 'kubeconfig'),
      process.env.KUBECONFIG?.split(':')[0],
    ].filter((p): p is string => !!p);
    const file = candidates.find((p) => existsSync(p));
    if (!file)
      return `no kubeconfig (looked at ${candidates.join(', ')}); start the test cluster with test/cluster/up.sh`;
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
      return { kc, path: file, kube: Kube.of(kc) };
    } catch (e) {
      return `the cluster in ${file} is unreachable (${(e as Error).message}); start it with test/cluster/up.sh`;
    }
  })();
  return cached;
}

/** The cluster, or this.skip() with the reason. */
export async function clusterOrSkip(ctx: Mocha.Context): Promise<Cluster> {
  const c = await findCluster();
  if (typeof c === 'string') {
    process.stderr.write(`  (skipping simkube integration tests: ${c})\n`);
    ctx.skip();
  }
  return c as Cluster;
}

import { ensureCluster, waitFor } from '../../support/cluster.js';

export { waitFor };

/** Server-side-applies SimKube's CRDs from the fixture and waits until they are Established. */
export async function installSimkubeCrds(c: Cluster): Promise<void> {
  const docs = parseAllDocuments(readFileSync(SIMKUBE_CRDS, 'utf8'))
    .map((d) => d.toJSON() as { metadata: { name: string } })
    .filter(Boolean);
  for (const crd of docs) {
    await kubeRequest(c.kc, {
      method: 'PATCH',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      query: { fieldManager: 'sim-arena-tests', force: true },
      body: crd,
      contentType: PatchStrategy.ServerSideApply,
    });
  }
  for (const crd of docs) {
    await waitFor(`CRD ${crd.metadata.name} Established`, async () => {
      const o = await c.kube.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      return o?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
    });
  }
  // Discovery of a fresh CRD lags a little behind Established.
  await waitFor(
    'simulations.simkube.io served',
    async () => (await c.kube.list('/apis/simkube.io/v1/simulations')) !== undefined,
  );
}

let counter = 0;
export async function freshNamespace(c: Cluster, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 63).replace(/-+$/, '');
  await c.kube.create('/api/v1/namespaces', { metadata: { name, labels: { 'simarena.io/test': 'true' } } });
  return name;
}

export async function deleteNamespace(c: Cluster, name: string): Promise<void> {
  await c.kube.delete(`/api/v1/namespaces/${name}`).catch(() => undefined);
}

/** A Ready KWOK node labelled type=virtual. */
export async function kwokNode(c: Cluster): Promise<string> {
  return waitFor('a Ready type=virtual node', async () => {
    const nodes = await c.kube.list<{
      metadata?: { name?: string; labels?: Record<string, string> };
      status?: { conditions?: Array<{ type: string; status: string }> };
    }>('/api/v1/nodes', { labelSelector: 'type=virtual' });
    // Prefer the cluster's shared nodes over per-run nodes of the kwok backend (they come and go).
    const ready = nodes.filter(
      (n) =>
        n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') &&
        !n.metadata?.labels?.['simarena.io/pool'],
    );
    return ready.map((n) => n.metadata!.name!).sort()[0];
  });
}

/** A pod that looks like one of the trace-sync DaemonSet's: pinned to a KWOK node, which marks it Running. */
export async function fakeTraceSyncPod(
  c: Cluster,
  namespace: string,
  node: string,
  name = `trace-sync-${node}`,
): Promise<void> {
  await c.kube.create(`/api/v1/namespaces/${namespace}/pods`, {
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/component': 'trace-sync', 'app.kubernetes.io/name': 'sim-arena' },
    },
    spec: {
      nodeName: node,
      tolerations: [{ key: 'kwok-provider', operator: 'Exists', effect: 'NoSchedule' }],
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'trace-sync',
          image: 'sim-arena:test',
          command: ['node', 'dist/cli/main.js', 'trace-sync', '--dir', '/host-traces'],
        },
      ],
    },
  });
  await waitFor(`fake trace-sync pod ${namespace}/${name} Running`, async () => {
    const p = await c.kube.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${namespace}/pods/${name}`);
    return p?.status?.phase === 'Running';
  });
}

/** trace-sync in-process for one (fake) node, writing to a temp dir that stands in for the node's hostPath. */
export class LocalTraceSync {
  readonly dir: string;
  loop: TraceSyncLoop | undefined;
  syncer: TraceSyncer | undefined;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** `dir`: where it writes (default a fresh temp dir), e.g. <driver runner node root>/<the backend's traceDir>. */
  static async start(c: Cluster, namespace: string, node: string, dir?: string): Promise<LocalTraceSync> {
    if (dir) await mkdir(dir, { recursive: true });
    const s = new LocalTraceSync(dir ?? (await mkdtemp(path.join(tmpdir(), `sk-node-${node}-`))));
    s.syncer = new TraceSyncer(c.kube, { dir: s.dir, namespace, node, logger: silentLogger() });
    s.loop = new TraceSyncLoop(c.kc, s.syncer, { logger: silentLogger() });
    await s.loop.start();
    return s;
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Deletes a cluster-scoped Simulation and waits until it is gone. */
export async function deleteSimulation(c: Cluster, name: string): Promise<void> {
  await c.kube.delete(`/apis/simkube.io/v1/simulations/${name}`, { propagationPolicy: 'Foreground' });
  await waitFor(
    `Simulation ${name} gone`,
    async () => !(await c.kube.get(`/apis/simkube.io/v1/simulations/${name}`)),
    90_000,
  );
}

export async function waitNamespaceGone(c: Cluster, name: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `namespace ${name} gone`,
    async () => !(await c.kube.get(`/api/v1/namespaces/${name}`)),
    timeoutMs,
    300,
  );
}

/**
 * The states each Simulation goes through, as SimKube's sk-ctrl writes them (polled every 200 ms: a state held
 * for less than that can be missed, which SimKube's own transitions never are).
 */
export class SimulationStates {
  private readonly seen = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly c: Cluster) {}

  start(): this {
    const loop = (): void => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, 200);
        });
    };
    loop();
    return this;
  }

  private async tick(): Promise<void> {
    for (const s of await this.c.kube.list<{ metadata?: { name?: string }; status?: { state?: string | null } }>(
      '/apis/simkube.io/v1/simulations',
    )) {
      const name = s.metadata?.name;
      const state = s.status?.state;
      if (!name || !state) continue;
      const list = this.seen.get(name) ?? [];
      if (list[list.length - 1] !== state) list.push(state);
      this.seen.set(name, list);
    }
  }

  statesOf(name: string): string[] {
    return this.seen.get(name) ?? [];
  }

  /** Every Simulation seen with a state, in the order first seen. */
  names(): string[] {
    return [...this.seen.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }
}

/** What a suite registered with `simkubeSuite` reads in its tests. */
export interface SimkubeSuite {
  c: Cluster;
  /** The suite's namespace: trace ConfigMaps and the fake trace-sync pod live here (the backend's operatorNamespace). */
  ns: string;
  sync: LocalTraceSync;
  /** Unique to this run: names and the suite's own folder on the node. */
  tag: string;
  /** The backend's traceDir: this suite's folder under NODE_TRACE_DIR (trace-sync prunes files it does not own). */
  traceDir: string;
  /** Runs at the end of the suite, before trace-sync stops and the namespace goes (e.g. deleting Simulations). */
  onCleanup(f: () => Promise<unknown>): void;
}

/**
 * The set-up every suite against the real SimKube repeats, registered as mocha hooks in the calling `describe`: the
 * test cluster (or skip), SimKube started (built once per machine, hence the long timeout), a namespace named after
 * `prefix` with a trace-sync loop for one KWOK node writing into the driver runner's node folder; sk-ctrl's and the
 * driver runner's log tails after a failed test; clean-ups, trace-sync and the namespace removed at the end.
 */
export function simkubeSuite(prefix: string): SimkubeSuite {
  const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const cleanups: Array<() => Promise<unknown>> = [];
  const s = {
    tag,
    traceDir: `${NODE_TRACE_DIR}/${tag}`,
    onCleanup: (f: () => Promise<unknown>) => void cleanups.push(f),
  } as SimkubeSuite;
  before(async function () {
    this.timeout(3_600_000); // a cold build of SimKube's binaries happens here once per machine
    s.c = await clusterOrSkip(this);
    const sk = await ensureSimkube();
    s.ns = await freshNamespace(s.c, prefix);
    const node = await kwokNode(s.c);
    await fakeTraceSyncPod(s.c, s.ns, node);
    s.sync = await LocalTraceSync.start(s.c, s.ns, node, path.join(sk.nodeRoot, s.traceDir));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(
        `--- sk-ctrl.log\n${simkubeLogTail('sk-ctrl.log')}\n--- driver-runner.log\n${simkubeLogTail('driver-runner.log')}\n`,
      );
    }
  });
  after(async function () {
    this.timeout(180_000);
    if (!s.c) return;
    for (const f of cleanups) await f().catch(() => undefined);
    await s.sync?.stop();
    if (s.ns) await deleteNamespace(s.c, s.ns);
  });
  return s;
}
