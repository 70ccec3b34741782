import type { KubernetesObject } from '@kubernetes/client-node';
import { apiErrorCode, apiErrorMessage, isConflict, isNotFound, type JsonPatchOp, type ObjectAccessor } from './kube.js';

export interface FinalizerOptions {
  /** Read-patch attempts before giving up under contention. Default 8. */
  maxAttempts?: number;
}

export function hasFinalizer(obj: KubernetesObject | undefined, finalizer: string): boolean {
  return obj?.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Adds `finalizer` unless present. Never drops finalizers another writer added concurrently. */
export async function addFinalizer(target: ObjectAccessor, finalizer: string, opts: FinalizerOptions = {}): Promise<KubernetesObject> {
  const result = await guardedPatch(target, opts, (obj) => {
    const list = obj.metadata?.finalizers;
    if (list?.includes(finalizer)) return undefined;
    return list ? [{ op: 'add', path: '/metadata/finalizers/-', value: finalizer }] : [{ op: 'add', path: '/metadata/finalizers', value: [finalizer] }];
  });
  if (!result) throw new Error(`object disappeared while adding finalizer ${finalizer}`);
  return result;
}

/**
 * Removes `finalizer` if present. Resolves to the updated object, or undefined when the object is gone
 * (removing the last finalizer of a deleted object lets the server delete it).
 */
export async function removeFinalizer(
  target: ObjectAccessor,
  finalizer: string,
  opts: FinalizerOptions = {},
): Promise<KubernetesObject | undefined> {
  return guardedPatch(target, opts, (obj) => {
    const i = obj.metadata?.finalizers?.indexOf(finalizer) ?? -1;
    return i < 0 ? undefined : [{ op: 'remove', path: `/metadata/finalizers/${i}` }];
  });
}

/**
 * Reads the object, builds JSON Patch ops from it and applies them behind a `test` of the
 * resourceVersion it read, so a concurrent write makes the patch fail rather than be overwritten;
 * then reads again and retries. `build` returning undefined means nothing to do.
 */
async function guardedPatch(
  target: ObjectAccessor,
  opts: FinalizerOptions,
  build: (obj: KubernetesObject) => JsonPatchOp[] | undefined,
): Promise<KubernetesObject | undefined> {
  const attempts = opts.maxAttempts ?? 8;
  let lastErr: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let obj: KubernetesObject;
    try {
      obj = await target.get();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const ops = build(obj);
    if (!ops) return obj;
    const rv = obj.metadata?.resourceVersion;
    if (!rv) throw new Error('object has no resourceVersion');
    try {
      return await target.jsonPatch([{ op: 'test', path: '/metadata/resourceVersion', value: rv }, ...ops]);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isConflict(err) && !isFailedTest(err)) throw err;
      lastErr = err;
    }
  }
  throw new Error(`finalizer update still conflicting after ${attempts} attempts: ${apiErrorMessage(lastErr)}`);
}

/** The server answers a failed JSON Patch `test` op with 422 (some versions: 500) naming the test. */
function isFailedTest(err: unknown): boolean {
  const code = apiErrorCode(err);
  return (code === 422 || code === 500) && /test/i.test(apiErrorMessage(err));
}
