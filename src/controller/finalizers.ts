import type { KubernetesObject } from '@kubernetes/client-node';
import { sleep } from './backoff.js';
import { apiErrorCode, apiErrorMessage, isConflict, isNotFound } from '../kube/errors.js';
import { type JsonPatchOp } from '../kube/request.js';
import { type ObjectAccessor } from '../kube/custom-objects.js';

export interface FinalizerOptions {
  /** Read-patch attempts before giving up under contention. Default 10. */
  maxAttempts?: number;
}

export function hasFinalizer(obj: KubernetesObject | undefined, finalizer: string): boolean {
  return obj?.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds `finalizer` unless present. The patch only applies to the exact list it was computed from
 * (or, when there is no list yet, to the exact resourceVersion), so a finalizer another writer added
 * meanwhile is never dropped.
 */
export async function addFinalizer(
  target: ObjectAccessor,
  finalizer: string,
  opts: FinalizerOptions = {},
): Promise<KubernetesObject> {
  const result = await guardedPatch(target, opts, (obj) => {
    const list = obj.metadata?.finalizers;
    if (list?.includes(finalizer)) return undefined;
    if (!list) {
      return [
        { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
      ];
    }
    return [
      { op: 'test', path: '/metadata/finalizers', value: list },
      { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
    ];
  });
  if (!result) throw new Error(`object disappeared while adding finalizer ${finalizer}`);
  return result;
}

/**
 * Removes `finalizer` if present, guarded by a test that the entry is still at the index it was read at.
 * Resolves to the updated object, or undefined when the object is gone (removing the last finalizer
 * of a deleted object lets the server delete it).
 */
export async function removeFinalizer(
  target: ObjectAccessor,
  finalizer: string,
  opts: FinalizerOptions = {},
): Promise<KubernetesObject | undefined> {
  return guardedPatch(target, opts, (obj) => {
    const i = obj.metadata?.finalizers?.indexOf(finalizer) ?? -1;
    if (i < 0) return undefined;
    return [
      { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
      { op: 'remove', path: `/metadata/finalizers/${i}` },
    ];
  });
}

/**
 * Reads the object, builds guarded JSON Patch ops from it (a `test` op first, so a concurrent change
 * makes the patch fail instead of being overwritten) and retries from a fresh read on failure.
 * `build` returning undefined means nothing to do.
 *
 * The server answers a failed `test` op with a bare 422 Invalid ("the server rejected our request due
 * to an error in our request"), the same code as a real validation error. The re-read tells them
 * apart: if the resourceVersion has not moved, nobody raced us and the 422 is final.
 */
async function guardedPatch(
  target: ObjectAccessor,
  opts: FinalizerOptions,
  build: (obj: KubernetesObject) => JsonPatchOp[] | undefined,
): Promise<KubernetesObject | undefined> {
  const attempts = opts.maxAttempts ?? 10;
  let lastErr: unknown;
  let lastRv: string | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt)); // spread out competing writers
    let obj: KubernetesObject;
    try {
      obj = await target.get();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const rv = obj.metadata?.resourceVersion;
    if (lastErr !== undefined && rv === lastRv) throw lastErr;
    const ops = build(obj);
    if (!ops) return obj;
    if (!rv) throw new Error('object has no resourceVersion');
    try {
      return await target.jsonPatch(ops);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isConflict(err) && apiErrorCode(err) !== 422) throw err;
      lastErr = err;
      lastRv = rv;
    }
  }
  throw new Error(`finalizer update still conflicting after ${attempts} attempts: ${apiErrorMessage(lastErr)}`);
}
