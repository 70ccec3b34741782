import { expect } from 'chai';
import type { CoordinationV1Api, KubernetesObject } from '@kubernetes/client-node';
import { Controller } from '../../../src/controller/controller.js';
import type { Informer, InformerHandler } from '../../../src/controller/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeLeaseApi } from './fake-apis.js';
import { deferred } from './fake-timers.js';

/** Just the informer surface the controller uses. */
class StubInformer {
  handlers: Array<InformerHandler<KubernetesObject>> = [];
  started = false;
  stopped = false;
  private sync = deferred();

  on(h: InformerHandler<KubernetesObject>): () => void {
    this.handlers.push(h);
    return () => (this.handlers = this.handlers.filter((x) => x !== h));
  }
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  hasSynced(): Promise<void> {
    return this.sync.promise;
  }
  markSynced(): void {
    this.sync.resolve();
  }
  emit(obj: KubernetesObject): void {
    for (const h of this.handlers) h(obj, 'add');
  }
  asInformer(): Informer {
    return this as unknown as Informer;
  }
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function waitUntil(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const obj = (name: string, extra: Partial<KubernetesObject['metadata']> = {}): KubernetesObject => ({
  metadata: { name, namespace: 'ns', ...extra },
});

describe('controller/controller (stub informers)', () => {
  const controllers: Controller[] = [];
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.stop()));
  });

  it('enqueues informer events, reconciles only after the caches synced, and serves /healthz and /readyz', async () => {
    const primary = new StubInformer();
    const owned = new StubInformer();
    const seen: string[] = [];
    const c = new Controller({
      name: 'test',
      informers: [
        primary.asInformer(),
        {
          informer: owned.asInformer(),
          keys: (o) => (o.metadata?.labels?.owner ? `ns/${o.metadata.labels.owner}` : undefined),
        },
      ],
      reconcile: async (key) => {
        seen.push(key);
      },
      health: { host: '127.0.0.1', port: 0 },
      logger: silentLogger(),
    });
    controllers.push(c);
    const starting = c.start();
    await waitUntil(() => c.healthAddress !== undefined && primary.started && owned.started);
    const port = c.healthAddress!.port;
    expect(await get(port, '/healthz')).to.deep.equal({ status: 200, body: 'ok' });
    const notReady = await get(port, '/readyz');
    expect(notReady.status).to.equal(503);
    expect(notReady.body).to.match(/informers not synced/);

    primary.emit(obj('a'));
    owned.emit(obj('a-child', { labels: { owner: 'a' } }));
    owned.emit(obj('stray'));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen, 'no reconcile before sync').to.deep.equal([]);

    primary.markSynced();
    owned.markSynced();
    await starting;
    await c.queue.whenIdle();
    expect(seen).to.deep.equal(['ns/a']);
    expect((await get(port, '/readyz')).status).to.equal(200);
    expect((await get(port, '/nope')).status).to.equal(404);

    await c.stop();
    expect(primary.stopped && owned.stopped).to.equal(true);
    expect(primary.handlers.length).to.equal(0);
    let refused = false;
    try {
      await get(port, '/healthz');
    } catch {
      refused = true;
    }
    expect(refused, 'health server closed').to.equal(true);
  });

  it('with leader election, reconciles only on the leader; a synced standby is ready too (rolling updates must complete)', async () => {
    const leases = new FakeLeaseApi();
    const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
    const make = (id: string, seen: string[], inf: StubInformer): Controller => {
      const c = new Controller({
        name: id,
        informers: [inf.asInformer()],
        reconcile: async (key) => void seen.push(key),
        leaderElection: {
          api: leases.as(id) as unknown as CoordinationV1Api,
          namespace: 'ns',
          name: 'ctl',
          identity: id,
          ...timing,
        },
        health: { host: '127.0.0.1', port: 0 },
        logger: silentLogger(),
      });
      controllers.push(c);
      return c;
    };
    const seenA: string[] = [];
    const seenB: string[] = [];
    const infA = new StubInformer();
    const infB = new StubInformer();
    const a = make('a', seenA, infA);
    const b = make('b', seenB, infB);
    infA.markSynced();
    await a.start();
    await waitUntil(() => a.isLeader);
    infB.markSynced();
    await b.start();
    infA.emit(obj('x'));
    infB.emit(obj('x'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seenA).to.deep.equal(['ns/x']);
    expect(seenB).to.deep.equal([]);
    expect(b.isLeader).to.equal(false);
    expect((await get(b.healthAddress!.port, '/readyz')).status, 'a standby that is synced is ready').to.equal(200);

    await a.stop();
    await waitUntil(() => b.isLeader);
    await b.queue.whenIdle();
    expect(seenB, 'keys queued while following are reconciled on taking over').to.deep.equal(['ns/x']);
    expect((await get(b.healthAddress!.port, '/readyz')).status).to.equal(200);
  });
});

describe('controller/onShutdownSignals', () => {
  it('runs the shutdown function once on the first SIGTERM/SIGINT and can be removed', async () => {
    const { onShutdownSignals } = await import('../../../src/controller/controller.js');
    let calls = 0;
    const before = process.listenerCount('SIGTERM');
    const off = onShutdownSignals(() => void calls++, { exit: false, logger: silentLogger() });
    expect(process.listenerCount('SIGTERM')).to.equal(before + 1);
    process.emit('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(calls).to.equal(1);
    off();
    expect(process.listenerCount('SIGTERM')).to.equal(before);
  });
});
