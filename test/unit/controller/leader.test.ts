import { expect } from 'chai';
import type { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaderElector, type LeaderElectionOptions } from '../../../src/controller/leader.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeLeaseApi } from './fake-apis.js';

const microTimeRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('controller/leader (fake Lease API)', () => {
  let store: FakeLeaseApi;
  const electors: LeaderElector[] = [];

  function elector(identity: string, extra: Partial<LeaderElectionOptions> = {}): LeaderElector {
    const e = new LeaderElector({
      api: store.as(identity) as unknown as CoordinationV1Api,
      namespace: 'ns',
      name: 'lease',
      identity,
      logger: silentLogger(),
      ...timing,
      ...extra,
    });
    electors.push(e);
    return e;
  }

  beforeEach(() => {
    store = new FakeLeaseApi();
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });

  it('rejects inconsistent timings', () => {
    expect(() => elector('x', { leaseDurationMs: 1000, renewDeadlineMs: 1000 })).to.throw(
      /leaseDurationMs > renewDeadlineMs/,
    );
    expect(() => elector('x', { retryPeriodMs: 700 })).to.throw(/renewDeadlineMs > retryPeriodMs/);
  });

  it('creates the Lease with 6-digit MicroTime strings and renews it keeping acquireTime', async () => {
    const a = elector('a');
    expect(await a.tryAcquireOrRenew()).to.equal(true);
    const first = store.get('lease')!;
    expect(first.spec!.holderIdentity).to.equal('a');
    expect(first.spec!.leaseDurationSeconds).to.equal(1);
    expect(String(first.spec!.renewTime)).to.match(microTimeRe);
    expect(String(first.spec!.acquireTime)).to.match(microTimeRe);
    await new Promise((r) => setTimeout(r, 5));
    expect(await a.tryAcquireOrRenew()).to.equal(true);
    const second = store.get('lease')!;
    expect(second.spec!.acquireTime).to.equal(first.spec!.acquireTime);
    expect(second.spec!.renewTime).to.not.equal(first.spec!.renewTime);
    expect(second.spec!.leaseTransitions).to.equal(0);
  });

  it('lets exactly one of two electors lead, and hands over on release', async () => {
    const events: string[] = [];
    const a = elector('a', {
      onStartedLeading: () => void events.push('a+'),
      onStoppedLeading: () => void events.push('a-'),
    });
    const b = elector('b', {
      onStartedLeading: () => void events.push('b+'),
      onStoppedLeading: () => void events.push('b-'),
    });
    a.start();
    await waitUntil(() => a.isLeader);
    b.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(b.isLeader).to.equal(false);
    expect(b.leader).to.equal('a');

    await a.stop();
    expect(a.isLeader).to.equal(false);
    const t0 = Date.now();
    await waitUntil(() => b.isLeader);
    expect(Date.now() - t0, 'a released Lease is taken without waiting for expiry').to.be.lessThan(800);
    expect(store.get('lease')!.spec!.holderIdentity).to.equal('b');
    expect(store.get('lease')!.spec!.leaseTransitions).to.equal(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).to.deep.equal(['a+', 'a-', 'b+']);
  });

  it('steps down when it cannot renew, and the other takes over only after the lease expires', async () => {
    let aStopped = 0;
    const a = elector('a', { onStoppedLeading: () => void aStopped++ });
    const b = elector('b');
    a.start();
    await waitUntil(() => a.isLeader);
    b.start();
    await new Promise((r) => setTimeout(r, 150));
    store.cutOff.add('a');
    const cut = Date.now();
    await waitUntil(() => !a.isLeader, 3000);
    expect(Date.now() - cut).to.be.within(300, 2000);
    expect(aStopped).to.equal(1);
    await waitUntil(() => b.isLeader, 4000);
    expect(Date.now() - cut, 'b must wait a full lease duration').to.be.greaterThan(900);
    store.cutOff.delete('a');
    await new Promise((r) => setTimeout(r, 400));
    expect(a.isLeader, 'a keeps campaigning but must not steal a live lease').to.equal(false);
  });

  it('takes over a Lease left behind by a dead holder after the lease duration', async () => {
    const ghost = elector('ghost');
    expect(await ghost.tryAcquireOrRenew()).to.equal(true);
    const b = elector('b');
    expect(await b.tryAcquireOrRenew()).to.equal(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await b.tryAcquireOrRenew()).to.equal(true);
    expect(store.get('lease')!.spec!.holderIdentity).to.equal('b');
  });
});
