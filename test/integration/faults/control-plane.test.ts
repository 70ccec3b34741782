// Fault injection on a private real control plane (its own etcd and kube-apiserver, started and deleted here, so the
// shared test cluster is never disturbed): the API server restarted mid-episode and during leader election, etcd
// stopped and started again, the operator's connections cut by a proxy. Every episode must end exactly as an
// undisturbed run: the same status (history, steps, rewards) and one StepCompleted Event per step, none lost or
// repeated.
//
// Faults are injected from the operator's beforeTransition hook, so they land at a known point of a known step (the
// hook holds the transition only while the fault is set off; the transition then runs against the broken plane).
import { expect } from 'chai';
import { CoreV1Api, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../../src/controller/controller.js';
import { createOperator, type OperatorOptions } from '../../../src/operator/index.js';
import type { ArenaEpisodeSpec } from '../../../src/api/episode.js';
import { waitFor } from '../../support/cluster.js';
import { startPrivateCluster, type PrivateCluster } from '../../support/private-cluster.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { createEpisode, ensureCrd, outcome, scenarioConfigMap, waitForPhase } from '../operator/helpers.js';

const SCENARIO = 'composite';
const SPEC: Partial<ArenaEpisodeSpec> = { backend: 'embedded', stepDuration: '60s', maxSteps: 12 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Hook = NonNullable<OperatorOptions['beforeTransition']>;

/** A hook that runs `fault` once, the `nth` time any operator reaches `transition`. */
function at(transition: string, nth: number, fault: () => Promise<void>): Hook & { fired: () => boolean } {
  let seen = 0;
  let fired = false;
  const hook = async (_ep: unknown, t: string) => {
    if (t !== transition || ++seen !== nth) return;
    fired = true;
    await fault();
  };
  return Object.assign(hook, { fired: () => fired });
}

/** StepCompleted Events about episode `ep`, as the step numbers they report (a series repeat counts again). */
async function stepEvents(kc: KubeConfig, namespace: string): Promise<number[]> {
  const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.regarding?.name === 'ep' && e.reason === 'StepCompleted')
    .flatMap((e) => Array<number>(e.series?.count ?? 1).fill(Number(/^step (\d+):/.exec(e.note ?? '')?.[1])))
    .sort((a, b) => a - b);
}

describe('fault injection on a private control plane: episodes end as an undisturbed run', function () {
  this.timeout(240_000);
  let cp: PrivateCluster;
  let kc: KubeConfig;
  let reference: ReturnType<typeof outcome>;
  let referenceNs: string;
  const operators: Controller[] = [];
  let nsCount = 0;

  before(async function () {
    if (process.env.SIM_ARENA_NO_CLUSTER) {
      console.warn('      skipping: SIM_ARENA_NO_CLUSTER is set (no control plane is started)');
      this.skip();
    }
    this.timeout(600_000);
    cp = await startPrivateCluster('sim-arena-faults');
    kc = cp.kubeConfig();
    await ensureCrd(kc);
    referenceNs = await namespace();
    await operator(referenceNs);
    await episode(referenceNs);
    reference = outcome(await waitForPhase(kc, referenceNs, 'ep', ['Succeeded', 'Failed'], 120_000));
    await Promise.all(operators.splice(0).map((o) => o.stop()));
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((o) => o.stop()));
  });

  after(async function () {
    this.timeout(120_000);
    if (cp && !process.env.SIM_ARENA_KEEP_CLUSTER) await cp.down();
  });

  async function namespace(): Promise<string> {
    const name = `faults-${Date.now().toString(36)}-${nsCount++}`;
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
    return name;
  }

  async function operator(ns: string, extra: Partial<OperatorOptions> = {}): Promise<Controller> {
    // batchMs 0: a status write per transition, so a fault meets the operator in the middle of a step.
    const c = createOperator({
      kc,
      namespace: ns,
      workers: 2,
      health: false,
      leaderElection: false,
      batchMs: 0,
      ...extra,
    });
    operators.push(c);
    await c.start();
    return c;
  }

  async function episode(ns: string): Promise<void> {
    const cm = await scenarioConfigMap(kc, ns, SCENARIO);
    await createEpisode(kc, ns, 'ep', { trace: { configMapRef: { name: cm } }, targetReplicas: 3, ...SPEC });
  }

  /** Waits for the end, then checks status and Events against the undisturbed run. */
  async function expectUndisturbed(ns: string): Promise<void> {
    const got = outcome(await waitForPhase(kc, ns, 'ep', ['Succeeded', 'Failed'], 180_000));
    expect(got).to.deep.equal(reference);
    const steps = got.history.map((h) => h.step);
    // Events are posted in the background (and retried through the outage): wait for all, then look for repeats.
    await waitFor('one StepCompleted Event per step', async () => (await stepEvents(kc, ns)).length >= steps.length);
    await sleep(500);
    expect(await stepEvents(kc, ns)).to.deep.equal(steps);
  }

  it('undisturbed: the reference run solves the scenario in several steps, one StepCompleted Event each', async () => {
    const ns = referenceNs;
    expect(reference.phase).to.equal('Succeeded');
    expect(reference.history.length).to.be.greaterThan(3);
    expect(reference.history.map((h) => h.step)).to.deep.equal(reference.history.map((_, i) => i + 1));
    expect(await waitFor('the Events', async () => (await stepEvents(kc, ns)).length >= reference.history.length));
    expect(await stepEvents(kc, ns)).to.deep.equal(reference.history.map((h) => h.step));
  });

  it('kube-apiserver killed and restarted mid-episode (before step 3 is recorded)', async () => {
    const ns = await namespace();
    let restarted: Promise<void> | undefined;
    const hook = at('record', 3, async () => {
      await cp.stop('kube-apiserver', { kill: true });
      restarted = sleep(1000).then(() => cp.start('kube-apiserver'));
    });
    await operator(ns, { beforeTransition: hook });
    await episode(ns);
    await waitFor('the fault', async () => hook.fired() && restarted !== undefined, 60_000);
    await restarted;
    await expectUndisturbed(ns);
  });

  it('kube-apiserver restarted during leader election (two operators; the leader loses its Lease)', async () => {
    const ns = await namespace();
    let restarted: Promise<void> | undefined;
    const steppedDown: string[] = [];
    const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250 };
    const ops: Controller[] = [];
    const hook = at('record', 3, async () => {
      const leader = ops.find((o) => o.isLeader);
      await cp.stop('kube-apiserver', { kill: true });
      // Back only once the leader has given up its Lease (renew deadline), so both replicas contend for it anew.
      restarted = waitFor('the leader to step down', async () => leader && !leader.isLeader, 30_000, 50).then(
        async () => {
          steppedDown.push(ops.indexOf(leader!) === 0 ? 'a' : 'b');
          await cp.start('kube-apiserver');
        },
      );
    });
    for (const identity of ['a', 'b'])
      ops.push(
        await operator(ns, {
          beforeTransition: hook,
          leaderElection: { namespace: ns, name: 'faults-leader', identity, ...timing },
        }),
      );
    await waitFor('a leader', async () => ops.some((o) => o.isLeader), 30_000);
    await episode(ns);
    await waitFor('the fault', async () => hook.fired() && restarted !== undefined, 60_000);
    await restarted;
    expect(steppedDown).to.have.length(1);
    await expectUndisturbed(ns);
    expect(ops.filter((o) => o.isLeader)).to.have.length(1);
  });

  it('etcd stopped and started again mid-episode (before step 3 is recorded)', async () => {
    const ns = await namespace();
    let restarted: Promise<void> | undefined;
    let outage: 'refused' | 'hung' | 'served' | undefined;
    const hook = at('record', 3, async () => {
      await cp.stop('etcd');
      // The outage is real: a read the API server must take from etcd is not answered.
      outage = await Promise.race([
        kc
          .makeApiClient(CoreV1Api)
          .readNamespace({ name: 'default' })
          .then(
            () => 'served' as const,
            () => 'refused' as const,
          ),
        sleep(1500).then(() => 'hung' as const),
      ]);
      restarted = sleep(2000).then(() => cp.start('etcd'));
    });
    await operator(ns, { beforeTransition: hook });
    await episode(ns);
    await waitFor('the fault', async () => hook.fired() && restarted !== undefined, 60_000);
    await restarted;
    expect(outage).to.be.oneOf(['refused', 'hung']);
    await expectUndisturbed(ns);
  });

  describe("the operator's watch and connections cut (a proxy between operator and API server)", () => {
    let proxy: TcpProxy;
    let viaProxy: KubeConfig;

    beforeEach(async () => {
      const server = new URL(kc.getCurrentCluster()!.server);
      proxy = new TcpProxy(server.hostname, Number(server.port));
      const port = await proxy.start();
      viaProxy = cp.kubeConfig();
      const cluster = viaProxy.getCurrentCluster()!;
      viaProxy.clusters = viaProxy.clusters.map((c) =>
        c.name === cluster.name ? { ...c, server: `https://${server.hostname}:${port}` } : c,
      );
    });
    afterEach(async () => {
      await Promise.all(operators.splice(0).map((o) => o.stop()));
      await proxy.stop();
    });

    it('cut mid-step, and partitioned for 2 s before a later step is recorded', async () => {
      const ns = await namespace();
      const cuts: number[] = [];
      const cut = at('act', 2, async () => void cuts.push(proxy.cut()));
      const partition = at('record', 4, async () => {
        proxy.partition();
        setTimeout(() => proxy.restore(), 2000);
      });
      await operator(ns, {
        kc: viaProxy,
        beforeTransition: async (ep, t) => {
          await cut(ep, t);
          await partition(ep, t);
        },
      });
      await episode(ns);
      await expectUndisturbed(ns);
      expect(cut.fired() && partition.fired()).to.equal(true);
      // The watch and the request connection at least were open when cut.
      expect(cuts[0]).to.be.at.least(2);
    });

    it('an episode created while the watch is cut is found when it is back', async () => {
      const ns = await namespace();
      await operator(ns, { kc: viaProxy });
      proxy.partition();
      await episode(ns);
      await sleep(3000);
      const before = await waitForPhase(kc, ns, 'ep', ['Succeeded', 'Failed'], 100).catch(() => undefined);
      expect(before, 'the operator saw the episode through a partition').to.equal(undefined);
      proxy.restore();
      await expectUndisturbed(ns);
    });
  });
});
