import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, EventsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { EpisodeReconciler } from '../../../src/operator/reconciler.js';
import { defaultBackends } from '../../../src/operator/index.js';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import { type ArenaEpisode } from '../../../src/api/episode.js';
import { patchCustomObjectMetadata, patchCustomObjectStatus } from '../../../src/kube/custom-objects.js';
import { Informer } from '../../../src/controller/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitFor } from '../../support/cluster.js';
import { createEpisode, getEpisode, operatorSuite, outcome, scenarioConfigMap, startOperator } from './helpers.js';

// The reconciler starts from its own last write or the informer's copy instead of reading the episode each time;
// every status write names the version it was computed from. These tests make other writers change the episode
// between two reconciles, so the operator's copy is stale, and check that the write fails, nothing is recorded
// twice, and the episode ends exactly as an undisturbed one.
describe('operator: writes computed from a stale copy conflict and are redone', function () {
  this.timeout(120_000);
  const suite = operatorSuite('conflict');

  async function undisturbed(name: string, cm: string): Promise<ReturnType<typeof outcome>> {
    const rec = new EpisodeReconciler({ kc: suite.kc, backendFor: defaultBackends(suite.kc), logger: silentLogger() });
    await createEpisode(suite.kc, suite.ns, name, {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 20,
    });
    for (let i = 0; i < 200 && (await getEpisode(suite.kc, suite.ns, name)).status?.stepPhase !== 'Done'; i++)
      await rec.reconcile(`${suite.ns}/${name}`);
    return outcome(await getEpisode(suite.kc, suite.ns, name));
  }

  it('another writer between two steps (labels, then status): the stale write conflicts, nothing is recorded twice', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'composite');
    const expected = await undisturbed('calm', cm);
    expect(expected.phase).to.equal('Succeeded');
    expect(expected.history.length).to.be.greaterThan(2);

    await createEpisode(suite.kc, suite.ns, 'edited', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 20,
    });
    const initial = await getEpisode(suite.kc, suite.ns, 'edited');
    // An informer that never sees anything after creation: the reconciler must rely on its own writes. One step per
    // reconcile (no batching), so others can write between steps; the undisturbed run batched its steps.
    const rec = new EpisodeReconciler({
      kc: suite.kc,
      backendFor: defaultBackends(suite.kc),
      logger: silentLogger(),
      cached: () => initial,
      batchMs: 0,
    });
    const key = `${suite.ns}/edited`;
    const custom = suite.kc.makeApiClient(CustomObjectsApi);
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: suite.ns, name: 'edited' };

    expect(await rec.reconcile(key)).to.deep.equal({ requeueAfterMs: 0 });
    const afterFirst = await getEpisode(suite.kc, suite.ns, 'edited');
    expect(afterFirst.status?.stepPhase).to.equal('Cleanup');

    // Someone else labels the episode: the reconciler's copy is now one version behind.
    await patchCustomObjectMetadata(custom, ref, { labels: { team: 'blue' } });
    const labelled = await getEpisode(suite.kc, suite.ns, 'edited');
    expect(await rec.reconcile(key), 'a conflict requeues at once').to.deep.equal({ requeueAfterMs: 0 });
    const unchanged = await getEpisode(suite.kc, suite.ns, 'edited');
    expect(unchanged.metadata?.resourceVersion, 'the stale write was refused').to.equal(
      labelled.metadata?.resourceVersion,
    );
    expect(unchanged.status).to.deep.equal(labelled.status);

    // The next reconcile reads the episode again and takes the step.
    await rec.reconcile(key);
    expect((await getEpisode(suite.kc, suite.ns, 'edited')).status?.history).to.have.length(1);

    // Someone else writes the status (kubectl edit --subresource=status). The reconciler's own copy is behind and
    // the informer's copy is older still (not one it wrote): it starts from that, whose finalizer patch fails its
    // version test and reads again; the step is taken once, on the current status.
    const now = await getEpisode(suite.kc, suite.ns, 'edited');
    await patchCustomObjectStatus(custom, ref, { message: 'touched by hand' });
    await rec.reconcile(key);
    expect((await getEpisode(suite.kc, suite.ns, 'edited')).status?.history).to.have.length(
      now.status!.history!.length + 1,
    );

    for (let i = 0; i < 200 && (await getEpisode(suite.kc, suite.ns, 'edited')).status?.stepPhase !== 'Done'; i++)
      await rec.reconcile(key);
    const done = await getEpisode(suite.kc, suite.ns, 'edited');
    expect(outcome(done)).to.deep.equal(expected);
    expect(done.metadata?.labels?.team).to.equal('blue');
  });

  it('an operator under steady edits by someone else still finishes with the undisturbed result', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'composite');
    const expected = await undisturbed('calm', cm);
    suite.operator = await startOperator(suite.kc, suite.ns);
    const custom = suite.kc.makeApiClient(CustomObjectsApi);
    await createEpisode(suite.kc, suite.ns, 'busy', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 3,
      maxSteps: 20,
    });
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: suite.ns, name: 'busy' };
    let edits = 0;
    const done = await waitFor(
      'the episode to finish under edits',
      async () => {
        await patchCustomObjectMetadata(custom, ref, { labels: { edits: String(++edits) } });
        const ep = await getEpisode(suite.kc, suite.ns, 'busy');
        return ep.status?.stepPhase === 'Done' ? ep : undefined;
      },
      60_000,
      1,
    );
    expect(outcome(done)).to.deep.equal(expected);
    expect(edits).to.be.greaterThan(1);
  });

  it('embedded steps are written in batches (far fewer status writes than steps), or one write each with batchMs 0', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'mem-heavy');
    // Every version of each episode the API server hands out, through a watch of our own.
    const versions = new Map<string, Set<string>>();
    const episodes = new Informer<KubernetesObject>({
      kc: suite.kc,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${suite.ns}/${PLURAL}`,
      name: 'test-episodes',
      logger: silentLogger(),
    });
    episodes.on((obj) => {
      const name = obj.metadata!.name!;
      if (!versions.has(name)) versions.set(name, new Set());
      versions.get(name)!.add(obj.metadata!.resourceVersion!);
    });
    episodes.start();
    try {
      await episodes.hasSynced();
      const results: Array<ReturnType<typeof outcome>> = [];
      for (const [name, batchMs] of [
        ['batched', 1000],
        ['stepwise', 0],
      ] as const) {
        suite.operator = await startOperator(suite.kc, suite.ns, { batchMs });
        await createEpisode(suite.kc, suite.ns, name, {
          trace: { configMapRef: { name: cm } },
          targetReplicas: 3,
          maxSteps: 20,
          policy: { name: 'bump-cpu' },
        });
        results.push(
          outcome(
            await waitFor(
              `${name} to finish`,
              async () => {
                const e = await getEpisode(suite.kc, suite.ns, name);
                return e.status?.stepPhase === 'Done' ? (e as ArenaEpisode) : undefined;
              },
              60_000,
              20,
            ),
          ),
        );
        await suite.operator.stop();
        suite.operator = undefined;
      }
      expect(results[0]).to.deep.equal(results[1]);
      expect(results[0]!.history).to.have.length(20);
      // created, finalizer, then the status writes: a handful when batched, at least one per step otherwise.
      expect(versions.get('batched')!.size, 'versions of the batched episode').to.be.at.most(6);
      expect(versions.get('stepwise')!.size, 'versions of the stepwise episode').to.be.at.least(21);
      // One StepCompleted Event per step either way (a batched step's Event waits for its write).
      const stepsOf = async (name: string) => {
        const events = (await suite.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: suite.ns })).items;
        return events
          .filter((e) => e.regarding?.name === name && e.reason === 'StepCompleted')
          .map((e) => Number(/^step (\d+):/.exec(e.note ?? '')?.[1]))
          .sort((a, b) => a - b);
      };
      const all = Array.from({ length: 20 }, (_, i) => i + 1);
      for (const name of ['batched', 'stepwise']) {
        // Events are sent without waiting for them: give the last ones a moment to arrive.
        await waitFor(`${name}'s StepCompleted events`, async () => (await stepsOf(name)).length >= 20, 10_000).catch(
          () => undefined,
        );
        expect(await stepsOf(name), name).to.deep.equal(all);
      }
    } finally {
      await episodes.stop();
    }
  });

  it('collects replaced trace ConfigMaps during a long episode, a few at a time, keeping the one in use', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'mem-heavy');
    // Every event of the namespace's operator-written trace ConfigMaps, in order: how many were alive at most.
    const traces = new Informer<KubernetesObject>({
      kc: suite.kc,
      path: `/api/v1/namespaces/${suite.ns}/configmaps`,
      labelSelector: 'simarena.io/role=trace',
      name: 'test-traces',
      logger: silentLogger(),
    });
    let alive = 0;
    let peak = 0;
    let deleted = 0;
    traces.on((_obj, type) => {
      if (type === 'add') peak = Math.max(peak, ++alive);
      if (type === 'delete') {
        alive--;
        deleted++;
      }
    });
    traces.start();
    try {
      await traces.hasSynced();
      // One status write per step (no batching of embedded steps), so each of the 20 traces is written.
      suite.operator = await startOperator(suite.kc, suite.ns, { batchMs: 0 });
      // bump-cpu never fixes a memory problem: 20 steps, each with a new trace.
      await createEpisode(suite.kc, suite.ns, 'long', {
        trace: { configMapRef: { name: cm } },
        targetReplicas: 3,
        maxSteps: 20,
        policy: { name: 'bump-cpu' },
      });
      const ep = await waitFor(
        'the long episode to finish',
        async () => {
          const e = await getEpisode(suite.kc, suite.ns, 'long');
          return e.status?.stepPhase === 'Done' ? e : undefined;
        },
        60_000,
        20,
      );
      expect(ep.status?.history?.filter((h) => h.action === 'bump-cpu' && !h.blocked)).to.have.length(20);
      await waitFor('all but the final trace to be deleted', async () => alive === 1 && deleted === 19, 20_000);
      // 20 traces written, never more than 9 alive: replaced ones go every 8 steps, not only at the end.
      expect(peak).to.be.at.most(9);
      const left = await suite.kc
        .makeApiClient(CoreV1Api)
        .listNamespacedConfigMap({ namespace: suite.ns, labelSelector: 'simarena.io/role=trace' });
      expect(left.items.map((c) => c.metadata!.name)).to.deep.equal([ep.status!.traceConfigMap]);
    } finally {
      await traces.stop();
    }
  });
});
