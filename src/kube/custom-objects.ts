// CustomObjectsApi patches. Its patch calls default to application/json-patch+json, which the server
// rejects for a merge-patch object, so the content type is always set explicitly.
import {
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { jsonPatch, kubeRequest, resourcePath, type JsonPatchOp, type ResourceRef } from './request.js';

export const mergePatchOptions = (): ReturnType<typeof setHeaderOptions> =>
  setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const jsonPatchOptions = (): ReturnType<typeof setHeaderOptions> =>
  setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  /** Omit for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

/**
 * Merge-patches `.status` through the /status subresource. Arrays (e.g. conditions) are replaced whole. With
 * `resourceVersion` the patch applies only to that version of the object (else 409 Conflict).
 */
export function patchCustomObjectStatus(
  api: CustomObjectsApi,
  ref: CustomObjectRef,
  status: object,
  resourceVersion?: string,
): Promise<KubernetesObject> {
  const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
  return ref.namespace
    ? api.patchNamespacedCustomObjectStatus({ ...ref, namespace: ref.namespace, body }, mergePatchOptions())
    : api.patchClusterCustomObjectStatus({ ...ref, body }, mergePatchOptions());
}

/** Merge-patches `.metadata` (labels, annotations; null deletes a key). Not for finalizers: see finalizers.ts. */
export function patchCustomObjectMetadata(
  api: CustomObjectsApi,
  ref: CustomObjectRef,
  metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
): Promise<KubernetesObject> {
  const body = { metadata };
  return ref.namespace
    ? api.patchNamespacedCustomObject({ ...ref, namespace: ref.namespace, body }, mergePatchOptions())
    : api.patchClusterCustomObject({ ...ref, body }, mergePatchOptions());
}

/** Read and JSON-patch one object; what finalizers.ts needs. */
export interface ObjectAccessor {
  get(): Promise<KubernetesObject>;
  jsonPatch(ops: JsonPatchOp[]): Promise<KubernetesObject>;
}

/** An accessor for any object by REST path (core or custom resource). */
export function pathAccessor(kc: KubeConfig, ref: ResourceRef): ObjectAccessor {
  const path = resourcePath(ref);
  return {
    get: () => kubeRequest<KubernetesObject>(kc, { method: 'GET', path }),
    jsonPatch: (ops) => jsonPatch(kc, path, ops),
  };
}

/** An accessor for a custom object through CustomObjectsApi. */
export function customObjectAccessor(api: CustomObjectsApi, ref: CustomObjectRef): ObjectAccessor {
  return {
    get: () =>
      ref.namespace
        ? api.getNamespacedCustomObject({ ...ref, namespace: ref.namespace })
        : api.getClusterCustomObject(ref),
    jsonPatch: (ops) =>
      ref.namespace
        ? api.patchNamespacedCustomObject({ ...ref, namespace: ref.namespace, body: ops }, jsonPatchOptions())
        : api.patchClusterCustomObject({ ...ref, body: ops }, jsonPatchOptions()),
  };
}
