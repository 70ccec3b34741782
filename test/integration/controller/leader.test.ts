import { expect } from 'chai';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../../src/controller/leader.js';
import { kubeRequest, resourcePath } from '../../../src/kube/request.js';
import { silentLogger } from '../../../src/util/log.js';
import { clusterOrSkip, deleteNamespace, freshNamespace, waitUntil } from './helpers.js';

const microTimeRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('controller/leader (real cluster)', function () {
  this.timeout(60_000);
  let kc: KubeConfig | undefined;
  let ns: string | undefined;
  const electors: LeaderElector[] = [];
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1200, retryPeriodMs: 200 };

  before(async function () {
    kc = await clusterOrSkip(this);
    ns = await freshNamespace(kc, 'rt-leader');
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });

  after(async () => {
    await deleteNamespace(kc, ns);
  });

  function elector(
    identity: string,
    lease: string,
    callbacks: { started?: () => void; stopped?: () => void } = {},
  ): LeaderElector {
    const e = new LeaderElector({
      kc: kc!,
      namespace: ns!,
      name: lease,
      identity,
      ...timing,
      ...(callbacks.started ? { onStartedLeading: callbacks.started } : {}),
      ...(callbacks.stopped ? { onStoppedLeading: callbacks.stopped } : {}),
      logger: silentLogger(),
    });
    electors.push(e);
    return e;
  }

  /** The Lease as the server stores it (raw JSON, so the time strings are exactly what was sent back). */
  async function rawLease(name: string): Promise<{ spec: Record<string, unknown> }> {
    return kubeRequest(kc!, {
      method: 'GET',
      path: resourcePath({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: ns!, name }),
    });
  }

  it('two electors on one Lease: exactly one leads, and the other takes over after release', async () => {
    const log: string[] = [];
    const a = elector('replica-a', 'rt-lease', { started: () => log.push('a+'), stopped: () => log.push('a-') });
    const b = elector('replica-b', 'rt-lease', { started: () => log.push('b+'), stopped: () => log.push('b-') });
    a.start();
    b.start();
    await waitUntil(() => a.isLeader || b.isLeader, 10_000, 'a leader');
    await new Promise((r) => setTimeout(r, 1500)); // several renew rounds
    expect([a.isLeader, b.isLeader].filter(Boolean)).to.have.length(1);
    const [leader, follower] = a.isLeader ? [a, b] : [b, a];
    expect(follower.leader).to.equal(leader.identity);

    const lease = await rawLease('rt-lease');
    expect(lease.spec.holderIdentity).to.equal(leader.identity);
    expect(lease.spec.renewTime).to.match(microTimeRe);
    expect(lease.spec.acquireTime).to.match(microTimeRe);
    expect(lease.spec.leaseDurationSeconds).to.equal(2);

    await leader.stop();
    const released = Date.now();
    await waitUntil(() => follower.isLeader, 10_000, 'takeover');
    expect(Date.now() - released, 'a released Lease is taken without waiting for it to expire').to.be.lessThan(1500);
    const after = await rawLease('rt-lease');
    expect(after.spec.holderIdentity).to.equal(follower.identity);
    expect(after.spec.leaseTransitions).to.equal(1);
    expect(log.filter((x) => x.endsWith('+'))).to.have.length(2);
    expect(log).to.include(leader === a ? 'a-' : 'b-');
  });

  it('takes over a Lease whose holder stopped renewing, only after the lease duration', async () => {
    const ghost = elector('ghost', 'rt-lease-2');
    expect(await ghost.tryAcquireOrRenew()).to.equal(true); // then never renews, like a crashed replica
    const b = elector('replica-b', 'rt-lease-2');
    const t0 = Date.now();
    b.start();
    await waitUntil(() => b.isLeader, 10_000, 'takeover of an expired lease');
    expect(Date.now() - t0).to.be.greaterThan(1900);
    const lease = await kc!
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'rt-lease-2', namespace: ns! });
    expect(lease.spec!.holderIdentity).to.equal('replica-b');
  });

  it('a stale update loses with 409 instead of overwriting the holder', async () => {
    const a = elector('a', 'rt-lease-3');
    expect(await a.tryAcquireOrRenew()).to.equal(true);
    const api = kc!.makeApiClient(CoordinationV1Api);
    const stale = await api.readNamespacedLease({ name: 'rt-lease-3', namespace: ns! });
    expect(await a.tryAcquireOrRenew()).to.equal(true); // bumps resourceVersion
    let code: number | undefined;
    try {
      await api.replaceNamespacedLease({
        name: 'rt-lease-3',
        namespace: ns!,
        body: { ...stale, spec: { ...stale.spec, holderIdentity: 'intruder' } },
      });
    } catch (err) {
      code = (err as { code?: number }).code;
    }
    expect(code).to.equal(409);
    expect((await rawLease('rt-lease-3')).spec.holderIdentity).to.equal('a');
  });
});
