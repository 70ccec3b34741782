import { expect } from 'chai';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { Controller } from '../../../src/controller/controller.js';
import { Informer, type InformerEventType } from '../../../src/controller/informer.js';
import { mergePatch, resourcePath } from '../../../src/kube/request.js';
import { silentLogger } from '../../../src/util/log.js';
import { clusterOrSkip, deleteNamespace, freshNamespace, waitUntil } from './helpers.js';

describe('controller/informer (real cluster)', function () {
  this.timeout(60_000);
  let kc: KubeConfig | undefined;
  let core: CoreV1Api;
  let ns: string | undefined;
  const stoppers: Array<() => Promise<void>> = [];

  before(async function () {
    kc = await clusterOrSkip(this);
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'rt-informer');
  });

  afterEach(async () => {
    await Promise.all(stoppers.splice(0).map((s) => s()));
  });

  after(async () => {
    await deleteNamespace(kc, ns);
  });

  const cm = (
    name: string,
    data: Record<string, string> = {},
    labels: Record<string, string> = { rt: 'yes' },
  ): V1ConfigMap => ({
    metadata: { name, labels },
    data,
  });

  function configMapInformer(
    opts: { labelSelector?: string; watchTimeoutSeconds?: number } = {},
  ): Informer<V1ConfigMap> {
    const inf = new Informer<V1ConfigMap>({
      kc: kc!,
      path: resourcePath({ version: 'v1', resource: 'configmaps', namespace: ns! }),
      labelSelector: opts.labelSelector ?? 'rt=yes',
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
      resyncMs: 0,
      logger: silentLogger(),
    });
    stoppers.push(() => inf.stop());
    return inf;
  }

  it('lists existing ConfigMaps, then sees create, update and delete through the watch', async () => {
    await core.createNamespacedConfigMap({ namespace: ns!, body: cm('pre', { v: '0' }) });
    await core.createNamespacedConfigMap({ namespace: ns!, body: cm('unlabelled', {}, { other: 'x' }) });
    const events: Array<[InformerEventType, string]> = [];
    const inf = configMapInformer();
    inf.on((o, t) => events.push([t, o.metadata!.name!]));
    inf.start();
    await inf.hasSynced();
    expect(inf.list(ns).map((o) => o.metadata!.name)).to.deep.equal(['pre']);
    expect(inf.get('pre', ns)).to.include({ kind: 'ConfigMap', apiVersion: 'v1' });

    await core.createNamespacedConfigMap({ namespace: ns!, body: cm('a', { v: '1' }) });
    await waitUntil(() => inf.get('a', ns)?.data?.v === '1', 10_000, 'add of a');
    await mergePatch(kc!, resourcePath({ version: 'v1', resource: 'configmaps', namespace: ns!, name: 'a' }), {
      data: { v: '2' },
    });
    await waitUntil(() => inf.get('a', ns)?.data?.v === '2', 10_000, 'update of a');
    await core.deleteNamespacedConfigMap({ namespace: ns!, name: 'a' });
    await waitUntil(() => inf.get('a', ns) === undefined, 10_000, 'delete of a');

    expect(events).to.deep.equal([
      ['add', 'pre'],
      ['add', 'a'],
      ['update', 'a'],
      ['delete', 'a'],
    ]);
  });

  it('keeps following changes across server-side watch timeouts', async () => {
    const inf = configMapInformer({ watchTimeoutSeconds: 1 });
    inf.start();
    await inf.hasSynced();
    await new Promise((r) => setTimeout(r, 2500)); // the server has closed the watch at least twice
    await core.createNamespacedConfigMap({ namespace: ns!, body: cm('after-timeouts') });
    await waitUntil(() => inf.get('after-timeouts', ns) !== undefined, 10_000, 'event after reconnects');
    expect(inf.restarts, 'a clean close is resumed by ListWatch, not a restart').to.equal(0);
  });

  it('drives a Controller: every changed key is reconciled against the cache', async () => {
    const inf = configMapInformer({ labelSelector: 'ctl=yes' });
    const reconciled: Array<{ key: string; v: string | undefined }> = [];
    const ctl = new Controller({
      name: 'rt-configmaps',
      informers: [inf],
      workers: 2,
      reconcile: async (key) => {
        const [namespace, name] = key.split('/');
        reconciled.push({ key, v: inf.get(name!, namespace)?.data?.v });
      },
      health: { host: '127.0.0.1', port: 0 },
      logger: silentLogger(),
    });
    stoppers.push(() => ctl.stop());
    await ctl.start();
    const ready = await fetch(`http://127.0.0.1:${ctl.healthAddress!.port}/readyz`);
    expect(ready.status).to.equal(200);

    await core.createNamespacedConfigMap({ namespace: ns!, body: cm('c1', { v: '1' }, { ctl: 'yes' }) });
    await waitUntil(() => reconciled.some((r) => r.key === `${ns}/c1` && r.v === '1'), 10_000, 'reconcile of c1');
    await core.deleteNamespacedConfigMap({ namespace: ns!, name: 'c1' });
    await waitUntil(
      () => reconciled.some((r) => r.key === `${ns}/c1` && r.v === undefined),
      10_000,
      'reconcile after delete',
    );
  });
});
