import { expect } from 'chai';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { addFinalizer, removeFinalizer } from '../../../src/controller/finalizers.js';
import { apiErrorCode } from '../../../src/kube/errors.js';
import { jsonPatch, mergePatch, resourcePath } from '../../../src/kube/request.js';
import { pathAccessor, type ObjectAccessor } from '../../../src/kube/custom-objects.js';
import { clusterOrSkip, deleteNamespace, freshNamespace } from './helpers.js';

describe('controller/finalizers (real cluster)', function () {
  this.timeout(60_000);
  let kc: KubeConfig | undefined;
  let core: CoreV1Api;
  let ns: string | undefined;

  before(async function () {
    kc = await clusterOrSkip(this);
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'rt-finalizers');
  });

  after(async () => {
    // Leave nothing stuck in Terminating.
    if (kc && ns) {
      const list = await core.listNamespacedConfigMap({ namespace: ns });
      for (const cm of list.items.filter((c) => c.metadata?.finalizers?.length)) {
        await mergePatch(kc, cmPath(cm.metadata!.name!), { metadata: { finalizers: null } });
      }
    }
    await deleteNamespace(kc, ns);
  });

  const cmPath = (name: string): string =>
    resourcePath({ version: 'v1', resource: 'configmaps', namespace: ns!, name });
  const accessor = (name: string): ObjectAccessor =>
    pathAccessor(kc!, { version: 'v1', resource: 'configmaps', namespace: ns!, name });
  const finalizersOf = async (name: string): Promise<string[]> =>
    (await core.readNamespacedConfigMap({ namespace: ns!, name })).metadata?.finalizers ?? [];

  it('the server rejects a JSON Patch whose resourceVersion test is stale', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns!, body: { metadata: { name: 'stale' } } });
    await mergePatch(kc!, cmPath('stale'), { metadata: { labels: { bump: '1' } } });
    let code: number | undefined;
    try {
      await jsonPatch(kc!, cmPath('stale'), [
        { op: 'test', path: '/metadata/resourceVersion', value: cm.metadata!.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: ['x.io/f'] },
      ]);
    } catch (err) {
      code = apiErrorCode(err);
    }
    expect(code).to.equal(422);
    expect(await finalizersOf('stale')).to.deep.equal([]);
  });

  it('keeps a finalizer written by a concurrent writer between our read and our patch', async () => {
    await core.createNamespacedConfigMap({ namespace: ns!, body: { metadata: { name: 'raced' } } });
    const inner = accessor('raced');
    let reads = 0;
    const racing: ObjectAccessor = {
      get: async () => {
        const obj = await inner.get();
        if (reads++ === 0) await addFinalizer(accessor('raced'), 'other.io/keep'); // lands after our read
        return obj;
      },
      jsonPatch: (ops) => inner.jsonPatch(ops),
    };
    await addFinalizer(racing, 'simarena.io/cleanup');
    expect(reads).to.equal(2);
    expect(await finalizersOf('raced')).to.deep.equal(['other.io/keep', 'simarena.io/cleanup']);
  });

  it('concurrent adders, a remover and an unrelated writer never lose a finalizer', async () => {
    await core.createNamespacedConfigMap({ namespace: ns!, body: { metadata: { name: 'busy' } } });
    let rejected = 0;
    const counting = (name: string): ObjectAccessor => {
      const inner = accessor(name);
      return {
        get: () => inner.get(),
        jsonPatch: async (ops) => {
          try {
            return await inner.jsonPatch(ops);
          } catch (err) {
            rejected++;
            throw err;
          }
        },
      };
    };
    let stop = false;
    const noise = (async () => {
      for (let i = 0; !stop; i++) {
        await mergePatch(kc!, cmPath('busy'), { metadata: { labels: { n: String(i) } } });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const names = ['a.io/f', 'b.io/f', 'c.io/f', 'd.io/f'];
      await Promise.all(names.map((f) => addFinalizer(counting('busy'), f)));
      expect([...(await finalizersOf('busy'))].sort()).to.deep.equal(names);
      expect(rejected, 'the writers really collided').to.be.greaterThan(0);

      await Promise.all([
        removeFinalizer(counting('busy'), 'a.io/f'),
        removeFinalizer(counting('busy'), 'c.io/f'),
        addFinalizer(counting('busy'), 'e.io/f'),
      ]);
      expect([...(await finalizersOf('busy'))].sort()).to.deep.equal(['b.io/f', 'd.io/f', 'e.io/f']);
    } finally {
      stop = true;
      await noise;
    }
  });

  it('a finalizer holds a deleted object until the last one is removed', async () => {
    await core.createNamespacedConfigMap({ namespace: ns!, body: { metadata: { name: 'doomed' } } });
    await addFinalizer(accessor('doomed'), 'simarena.io/cleanup');
    await addFinalizer(accessor('doomed'), 'other.io/keep');
    await core.deleteNamespacedConfigMap({ namespace: ns!, name: 'doomed' });
    const held = await core.readNamespacedConfigMap({ namespace: ns!, name: 'doomed' });
    expect(held.metadata?.deletionTimestamp).to.not.equal(undefined);

    const afterFirst = await removeFinalizer(accessor('doomed'), 'simarena.io/cleanup');
    expect(afterFirst?.metadata?.finalizers).to.deep.equal(['other.io/keep']);
    const afterLast: KubernetesObject | undefined = await removeFinalizer(accessor('doomed'), 'other.io/keep');
    expect(afterLast?.metadata?.finalizers ?? []).to.deep.equal([]);
    let gone = false;
    try {
      await core.readNamespacedConfigMap({ namespace: ns!, name: 'doomed' });
    } catch (err) {
      gone = apiErrorCode(err) === 404;
    }
    expect(gone).to.equal(true);
    expect(await removeFinalizer(accessor('doomed'), 'other.io/keep')).to.equal(undefined);
  });
});
