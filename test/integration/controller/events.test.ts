import { expect } from 'chai';
import { CoreV1Api, EventsV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { EventRecorder } from '../../../src/controller/events.js';
import { kubeRequest, resourcePath } from '../../../src/kube/request.js';
import { silentLogger } from '../../../src/util/log.js';
import { clusterOrSkip, deleteNamespace, freshNamespace } from './helpers.js';

describe('controller/events (real cluster)', function () {
  this.timeout(60_000);
  let kc: KubeConfig | undefined;
  let ns: string | undefined;
  let cm: V1ConfigMap;

  before(async function () {
    kc = await clusterOrSkip(this);
    ns = await freshNamespace(kc, 'rt-events');
    cm = await kc
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'subject' }, data: {} } });
    cm.apiVersion = 'v1';
    cm.kind = 'ConfigMap';
  });

  after(async () => {
    await deleteNamespace(kc, ns);
  });

  it('creates an events.k8s.io/v1 Event for a ConfigMap that can be listed, and folds repeats into a series', async () => {
    const rec = new EventRecorder({ kc: kc!, reportingInstance: 'rt-test-0', logger: silentLogger() });
    const created = await rec.warning(cm, 'SubjectChecked', 'Check', 'first look');
    expect(created, 'the server accepted the Event').to.not.equal(undefined);
    const again = await rec.warning(cm, 'SubjectChecked', 'Check', 'first look');
    expect(again?.metadata?.name).to.equal(created!.metadata!.name);

    const list = await kc!.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns! });
    const mine = list.items.filter((e) => e.regarding?.uid === cm.metadata!.uid);
    expect(mine).to.have.length(1);
    const ev = mine[0]!;
    expect(ev).to.deep.include({ type: 'Warning', reason: 'SubjectChecked', action: 'Check', note: 'first look' });
    expect(ev.reportingController).to.equal('simarena.io/operator');
    expect(ev.reportingInstance).to.equal('rt-test-0');
    expect(ev.regarding).to.deep.include({ kind: 'ConfigMap', name: 'subject', namespace: ns });
    expect(ev.series?.count).to.equal(2);

    const raw = await kubeRequest<{ eventTime: string; series: { lastObservedTime: string } }>(kc!, {
      method: 'GET',
      path: resourcePath({
        group: 'events.k8s.io',
        version: 'v1',
        resource: 'events',
        namespace: ns!,
        name: ev.metadata!.name!,
      }),
    });
    expect(raw.eventTime).to.match(/\.\d{6}Z$/);
    expect(raw.series.lastObservedTime).to.match(/\.\d{6}Z$/);

    // The same event through the core v1 API (what `kubectl get events` shows).
    const coreEvents = await kc!.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns! });
    expect(
      coreEvents.items.some((e) => e.involvedObject.uid === cm.metadata!.uid && e.reason === 'SubjectChecked'),
    ).to.equal(true);
  });
});
