import { expect } from 'chai';
import type { EventsV1Api, EventsV1Event } from '@kubernetes/client-node';
import { EventRecorder } from '../../../src/controller/events.js';
import { silentLogger } from '../../../src/util/log.js';
import { apiError, checkMicroTime } from './fake-apis.js';

class FakeEventsApi {
  events = new Map<string, EventsV1Event>();
  creates = 0;
  patches: Array<{ name: string; body: unknown; hasOptions: boolean }> = [];
  fail = false;
  /** Fail this many creates with a connection error (after storing the Event when `landed`). */
  dropped = 0;
  landed = false;
  names: string[] = [];

  async createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event> {
    if (this.fail) throw apiError(500, 'InternalError', 'etcd is down');
    this.names.push(p.body.metadata!.name!);
    if (this.events.has(p.body.metadata!.name!)) throw apiError(409, 'AlreadyExists', 'exists');
    if (this.dropped > 0) {
      this.dropped--;
      if (this.landed) this.events.set(p.body.metadata!.name!, JSON.parse(JSON.stringify(p.body)) as EventsV1Event);
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    const ev = JSON.parse(JSON.stringify(p.body)) as EventsV1Event;
    checkMicroTime('eventTime', ev.eventTime);
    if (!ev.reportingController || !ev.reportingInstance || !ev.action || !ev.reason)
      throw apiError(422, 'Invalid', 'missing field');
    if ((ev.regarding?.namespace ?? 'default') !== p.namespace) throw apiError(422, 'Invalid', 'namespace mismatch');
    this.creates++;
    this.events.set(ev.metadata!.name!, ev);
    return ev;
  }

  async patchNamespacedEvent(
    p: { name: string; namespace: string; body: { series: { count: number; lastObservedTime: unknown } } },
    options?: unknown,
  ): Promise<EventsV1Event> {
    const ev = this.events.get(p.name);
    if (!ev) throw apiError(404, 'NotFound', 'gone');
    const body = JSON.parse(JSON.stringify(p.body)) as typeof p.body;
    checkMicroTime('series.lastObservedTime', body.series.lastObservedTime);
    this.patches.push({ name: p.name, body, hasOptions: options !== undefined });
    ev.series = body.series as EventsV1Event['series'];
    return ev;
  }
}

const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', uid: 'u-1' } };

describe('controller/events (fake events API)', () => {
  let api: FakeEventsApi;
  let rec: EventRecorder;

  beforeEach(() => {
    api = new FakeEventsApi();
    rec = new EventRecorder({ api: api as unknown as EventsV1Api, reportingInstance: 'pod-0', logger: silentLogger() });
  });

  it('creates an events.k8s.io/v1 Event regarding the object', async () => {
    const ev = await rec.normal(cm, 'TraceLoaded', 'Reconcile', 'loaded 3 objects');
    expect(ev).to.not.equal(undefined);
    expect(ev!.metadata!.namespace).to.equal('ns');
    expect(ev!.metadata!.name).to.match(/^cm\.[0-9a-f]+$/);
    expect(ev).to.deep.include({
      type: 'Normal',
      reason: 'TraceLoaded',
      action: 'Reconcile',
      note: 'loaded 3 objects',
      reportingController: 'simarena.io/operator',
      reportingInstance: 'pod-0',
    });
    expect(ev!.regarding).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'cm',
      namespace: 'ns',
      uid: 'u-1',
    });
    expect(String(ev!.eventTime)).to.match(/\.\d{6}Z$/);
  });

  it('folds repeats into a series on the first Event (merge patch)', async () => {
    await rec.warning(cm, 'StepFailed', 'Simulate', 'boom');
    await rec.warning(cm, 'StepFailed', 'Simulate', 'boom');
    await rec.warning(cm, 'StepFailed', 'Simulate', 'boom');
    expect(api.creates).to.equal(1);
    expect(api.patches.map((p) => (p.body as { series: { count: number } }).series.count)).to.deep.equal([2, 3]);
    expect(
      api.patches.every((p) => p.hasOptions),
      'content type options passed',
    ).to.equal(true);
    await rec.warning(cm, 'StepFailed', 'Simulate', 'different note');
    expect(api.creates).to.equal(2);
  });

  it('starts a new Event when the series Event has expired', async () => {
    await rec.normal(cm, 'R', 'A');
    api.events.clear();
    const ev = await rec.normal(cm, 'R', 'A');
    expect(ev).to.not.equal(undefined);
    expect(api.creates).to.equal(2);
  });

  it('puts events about cluster-scoped objects in the default namespace and truncates long notes', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    const ev = await rec.normal(node, 'Seen', 'Observe', 'x'.repeat(5000));
    expect(ev!.metadata!.namespace).to.equal('default');
    expect(Buffer.byteLength(ev!.note!)).to.be.at.most(1024);
  });

  it('never throws when the API fails', async () => {
    api.fail = true;
    rec = new EventRecorder({ api: api as unknown as EventsV1Api, retryForMs: 0, logger: silentLogger() });
    expect(await rec.normal(cm, 'R', 'A')).to.equal(undefined);
  });

  it('retries a transient failure under the same name, and an attempt that landed is not posted twice', async () => {
    api.dropped = 2;
    const ev = await rec.normal(cm, 'StepCompleted', 'Step', 'step 1');
    expect(ev?.reason).to.equal('StepCompleted');
    expect(api.names).to.have.length(3);
    expect(new Set(api.names).size).to.equal(1);
    expect(api.events.size).to.equal(1);

    api.names = [];
    api.dropped = 1;
    api.landed = true;
    const again = await rec.normal(cm, 'StepCompleted', 'Step', 'step 2');
    expect(again?.note).to.equal('step 2');
    expect(api.names).to.have.length(2);
    expect(api.events.size).to.equal(2);
  });

  it('gives up on a transient failure after retryForMs', async () => {
    api.fail = true;
    rec = new EventRecorder({ api: api as unknown as EventsV1Api, retryForMs: 300, logger: silentLogger() });
    const t = Date.now();
    expect(await rec.normal(cm, 'R', 'A')).to.equal(undefined);
    expect(api.names).to.have.length(0);
    expect(Date.now() - t).to.be.below(2000);
  });
});
