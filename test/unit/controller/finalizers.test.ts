import { expect } from 'chai';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../../src/controller/finalizers.js';
import { FakeObjectStore } from './fake-apis.js';

describe('controller/finalizers (fake store)', () => {
  it('adds a finalizer to an object without any, and is a no-op when present', async () => {
    const store = new FakeObjectStore();
    await addFinalizer(store, 'simarena.io/cleanup');
    expect(store.obj.metadata!.finalizers).to.deep.equal(['simarena.io/cleanup']);
    await addFinalizer(store, 'simarena.io/cleanup');
    expect(store.patches).to.equal(1);
    expect(hasFinalizer(store.obj, 'simarena.io/cleanup')).to.equal(true);
  });

  it('keeps a finalizer another writer added between our read and our patch', async () => {
    const store = new FakeObjectStore();
    store.afterGet = () => store.write((o) => (o.metadata!.finalizers = ['other.io/keep']));
    await addFinalizer(store, 'simarena.io/cleanup');
    expect(store.failedTests).to.equal(1);
    expect(store.obj.metadata!.finalizers).to.deep.equal(['other.io/keep', 'simarena.io/cleanup']);
  });

  it('is not disturbed by unrelated writes once the object has a finalizer list', async () => {
    const store = new FakeObjectStore(['a.io/x']);
    store.afterGet = () => store.write((o) => (o.metadata!.labels = { touched: 'yes' }));
    await addFinalizer(store, 'simarena.io/cleanup');
    expect(store.failedTests).to.equal(0);
    expect(store.obj.metadata!.finalizers).to.deep.equal(['a.io/x', 'simarena.io/cleanup']);
  });

  it('removes only its own entry even when the list shifted under it', async () => {
    const store = new FakeObjectStore(['a.io/x', 'simarena.io/cleanup', 'b.io/y']);
    store.afterGet = () => store.write((o) => o.metadata!.finalizers!.splice(0, 1));
    await removeFinalizer(store, 'simarena.io/cleanup');
    expect(store.failedTests).to.equal(1);
    expect(store.obj.metadata!.finalizers).to.deep.equal(['b.io/y']);
  });

  it('gives up after maxAttempts under constant contention', async () => {
    const store = new FakeObjectStore();
    const origGet = store.get.bind(store);
    store.get = async () => {
      const o = await origGet();
      store.write((x) => (x.metadata!.labels = { n: String(Math.random()) }));
      return o;
    };
    let err: unknown;
    try {
      await addFinalizer(store, 'f', { maxAttempts: 3 });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/still conflicting after 3 attempts/);
    expect(store.patches).to.equal(3);
  });

  it('does not retry a 422 that was not caused by a concurrent write', async () => {
    const store = new FakeObjectStore(['a.io/x']);
    let err: unknown;
    try {
      await addFinalizer(store, 'Not A Finalizer!');
    } catch (e) {
      err = e;
    }
    expect(String((err as Error).message)).to.match(/is invalid/);
    expect(store.patches).to.equal(1);
  });

  it('treats a missing object as done when removing', async () => {
    const gone = {
      get: async () => {
        throw Object.assign(new Error('nf'), { statusCode: 404 });
      },
      jsonPatch: async () => {
        throw new Error('unreachable');
      },
    };
    expect(await removeFinalizer(gone, 'f')).to.equal(undefined);
  });
});
