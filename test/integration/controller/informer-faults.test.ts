// Informer fault handling against a loopback fake API server (faults a real server cannot be made
// to produce on demand). Needs no cluster, so it always runs.
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Informer, type InformerEventType } from '../../../src/controller/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeApiServer } from './fake-apiserver.js';

async function waitUntil(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('controller/informer faults (loopback fake API server)', function () {
  this.timeout(15000);
  let server: FakeApiServer;
  let informer: Informer | undefined;
  let events: Array<[InformerEventType, string]>;

  function makeInformer(opts: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer {
    informer = new Informer({
      kc: server.kubeConfig(),
      path: server.path,
      logger: silentLogger(),
      restartBackoff: { baseMs: 50, maxMs: 200 },
      resyncMs: 0,
      idleTimeoutMs: 0,
      ...opts,
    });
    informer.on((obj: KubernetesObject, type) => events.push([type, obj.metadata!.name!]));
    return informer;
  }

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    events = [];
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await server.stop();
  });

  it('lists, then watches from the list resourceVersion with bookmarks, and fills apiVersion/kind on listed items', async () => {
    server.put('a');
    const inf = makeInformer();
    inf.start();
    await inf.hasSynced();
    expect(inf.get('a', 'ns')).to.include({ kind: 'ConfigMap', apiVersion: 'v1' });
    await waitUntil(() => server.watches.length === 1, 2000, 'watch');
    expect(server.watches[0]!.get('resourceVersion')).to.equal('101');
    expect(server.watches[0]!.get('allowWatchBookmarks')).to.equal('true');
    server.put('b');
    await waitUntil(() => inf.get('b', 'ns') !== undefined, 2000, 'b');
    server.put('b', { x: '1' });
    server.delete('a');
    await waitUntil(() => inf.get('a', 'ns') === undefined, 2000, 'delete a');
    expect(events).to.deep.equal([
      ['add', 'a'],
      ['add', 'b'],
      ['update', 'b'],
      ['delete', 'a'],
    ]);
  });

  it('restarts with backoff after a failing watch and catches up by relisting', async () => {
    server.put('a');
    server.watchModes = ['fail', 'fail'];
    const inf = makeInformer();
    inf.start();
    await inf.hasSynced();
    await waitUntil(() => server.watches.length >= 3 && server.openStreams === 1, 5000, 'third watch to connect');
    expect(inf.restarts).to.equal(2);
    expect(server.lists).to.equal(3);
    server.put('c');
    await waitUntil(() => inf.get('c', 'ns') !== undefined, 2000, 'c after restart');
    expect(events.filter(([t]) => t === 'add').map(([, n]) => n)).to.deep.equal(['a', 'c']);
  });

  it('retries a failing initial list and only then reports synced', async () => {
    server.listFailures = 2;
    server.put('a');
    const inf = makeInformer();
    inf.start();
    expect(inf.synchronized).to.equal(false);
    await inf.hasSynced();
    expect(server.lists).to.equal(3);
    expect(inf.list().map((o) => o.metadata!.name)).to.deep.equal(['a']);
  });

  it('recovers from a dropped watch connection', async () => {
    server.put('a');
    const inf = makeInformer();
    inf.start();
    await inf.hasSynced();
    await waitUntil(() => server.openStreams === 1, 2000, 'watch');
    server.dropStreams();
    await waitUntil(() => server.watches.length >= 2 && server.openStreams === 1, 5000, 'reconnect');
    server.put('b');
    await waitUntil(() => inf.get('b', 'ns') !== undefined, 2000, 'b after reconnect');
  });

  it('restarts a silent (half-open) stream from the watchdog and emits deletes missed meanwhile', async () => {
    server.put('a');
    server.put('gone');
    server.watchModes = ['hang'];
    const inf = makeInformer({ idleTimeoutMs: 300 });
    inf.start();
    await inf.hasSynced();
    await waitUntil(() => server.openStreams === 1, 2000, 'hung watch');
    // Changes the client never hears about on the hung stream:
    server.delete('gone', { silently: true });
    server.put('late');
    await waitUntil(() => inf.restarts === 1, 3000, 'watchdog restart');
    await waitUntil(() => inf.get('late', 'ns') !== undefined && inf.get('gone', 'ns') === undefined, 3000, 'relist');
    expect(events).to.deep.include(['delete', 'gone']);
    expect(events).to.deep.include(['add', 'late']);
    await waitUntil(() => server.openStreams === 1, 2000, 'only the new watch open');
  });

  it('re-emits every cached object on resync', async () => {
    server.put('a');
    server.put('b');
    const inf = makeInformer({ resyncMs: 100 });
    inf.start();
    await inf.hasSynced();
    await waitUntil(() => events.filter(([t]) => t === 'resync').length >= 4, 2000, 'two resyncs');
    expect(new Set(events.filter(([t]) => t === 'resync').map(([, n]) => n))).to.deep.equal(new Set(['a', 'b']));
  });

  it('stays stopped after stop() (client-node 1.4.0 fires an AbortError on stop) and closes its stream', async () => {
    server.put('a');
    const inf = makeInformer();
    inf.start();
    await inf.hasSynced();
    await waitUntil(() => server.openStreams === 1, 2000, 'watch');
    const before = { lists: server.lists, watches: server.watches.length };
    await inf.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect({ lists: server.lists, watches: server.watches.length }).to.deep.equal(before);
    expect(server.openStreams).to.equal(0);
    expect(inf.restarts).to.equal(0);
  });

  it('stop() before the first sync rejects hasSynced instead of hanging', async () => {
    server.listFailures = 1000;
    const inf = makeInformer();
    inf.start();
    const synced = inf.hasSynced().then(
      () => 'synced',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 100));
    await inf.stop();
    expect(await synced).to.match(/stopped before it synced/);
  });
});
