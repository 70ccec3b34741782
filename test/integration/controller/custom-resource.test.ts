// The runtime on a custom resource: informer on a CRD path, status and metadata merge patches
// through CustomObjectsApi, and finalizers through the CustomObjectsApi accessor.
import { expect } from 'chai';
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { setCondition, type Condition } from '../../../src/controller/conditions.js';
import { addFinalizer, removeFinalizer } from '../../../src/controller/finalizers.js';
import { Informer } from '../../../src/controller/informer.js';
import {
  customObjectAccessor,
  patchCustomObjectMetadata,
  patchCustomObjectStatus,
  type CustomObjectRef,
} from '../../../src/kube/custom-objects.js';
import { isNotFound, isConflict } from '../../../src/kube/errors.js';
import { resourcePath } from '../../../src/kube/request.js';
import { silentLogger } from '../../../src/util/log.js';
import { clusterOrSkip, deleteNamespace, freshNamespace, waitUntil } from './helpers.js';

interface Widget extends KubernetesObject {
  spec?: { size?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

describe('controller on a custom resource (real cluster)', function () {
  this.timeout(90_000);
  const group = 'runtime-test.simarena.io';
  const id = Math.floor(Math.random() * 1e8).toString(36);
  const plural = `rtw${id}s`;
  const kind = `Rtw${id}`;
  let kc: KubeConfig | undefined;
  let ns: string | undefined;
  let api: CustomObjectsApi;
  let informer: Informer<Widget> | undefined;

  before(async function () {
    kc = await clusterOrSkip(this);
    ns = await freshNamespace(kc, 'rt-crd');
    api = kc.makeApiClient(CustomObjectsApi);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: `rtw${id}`, kind, listKind: `${kind}List` },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    await waitUntil(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      },
      30_000,
      'CRD established',
    );
  });

  after(async () => {
    await informer?.stop();
    if (kc) {
      try {
        await kc.makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `${plural}.${group}` });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    await deleteNamespace(kc, ns);
  });

  it('watches the CR, writes status and labels with merge patches, and runs finalizers to deletion', async () => {
    informer = new Informer<Widget>({
      kc: kc!,
      path: resourcePath({ group, version: 'v1', resource: plural, namespace: ns! }),
      resyncMs: 0,
      logger: silentLogger(),
    });
    informer.start();
    await informer.hasSynced();

    await api.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns!,
      plural,
      body: { apiVersion: `${group}/v1`, kind, metadata: { name: 'w1' }, spec: { size: 1 } },
    });
    await waitUntil(() => informer!.get('w1', ns) !== undefined, 10_000, 'CR add');
    const ref: CustomObjectRef = { group, version: 'v1', plural, namespace: ns!, name: 'w1' };
    const generation = informer.get('w1', ns)!.metadata!.generation;

    const conditions = setCondition([], {
      type: 'Ready',
      status: 'False',
      reason: 'Reconciling',
      observedGeneration: generation!,
    });
    await patchCustomObjectStatus(api, ref, { conditions, observedGeneration: generation });
    await waitUntil(
      () => informer!.get('w1', ns)?.status?.conditions?.[0]?.reason === 'Reconciling',
      10_000,
      'status update',
    );
    const w = informer.get('w1', ns)!;
    expect(w.status!.observedGeneration).to.equal(generation);
    expect(w.metadata!.generation, 'a status write does not bump generation').to.equal(generation);
    expect(w.spec).to.deep.equal({ size: 1 });

    // With a resourceVersion, a status write applies only to that version of the object.
    const ready = setCondition(conditions, {
      type: 'Ready',
      status: 'True',
      reason: 'Reconciled',
      observedGeneration: generation!,
    });
    const at = (await patchCustomObjectStatus(api, ref, { conditions: ready }, w.metadata!.resourceVersion)).metadata!
      .resourceVersion!;
    expect(at).to.not.equal(w.metadata!.resourceVersion);
    const stale = await patchCustomObjectStatus(api, ref, { observedGeneration: 99 }, w.metadata!.resourceVersion).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(stale), String(stale)).to.equal(true);
    const current = (await api.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns!,
      plural,
      name: 'w1',
    })) as { status?: { observedGeneration?: number } };
    expect(current.status?.observedGeneration).to.equal(generation);

    await patchCustomObjectMetadata(api, ref, { labels: { 'simarena.io/episode': 'w1' } });
    await waitUntil(
      () => informer!.get('w1', ns)?.metadata?.labels?.['simarena.io/episode'] === 'w1',
      10_000,
      'label update',
    );
    expect(informer.get('w1', ns)!.status!.conditions).to.have.length(1);

    const acc = customObjectAccessor(api, ref);
    await addFinalizer(acc, 'simarena.io/cleanup');
    await addFinalizer(acc, 'other.io/keep');
    await api.deleteNamespacedCustomObject({ group, version: 'v1', namespace: ns!, plural, name: 'w1' });
    await waitUntil(
      () => informer!.get('w1', ns)?.metadata?.deletionTimestamp !== undefined,
      10_000,
      'deletionTimestamp',
    );
    await removeFinalizer(acc, 'simarena.io/cleanup');
    expect(informer.get('w1', ns)).to.not.equal(undefined);
    await removeFinalizer(acc, 'other.io/keep');
    await waitUntil(() => informer!.get('w1', ns) === undefined, 10_000, 'CR delete');
  });
});
