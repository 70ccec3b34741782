import type { KubernetesObject } from '@kubernetes/client-node';

/** The work-queue key of an object: "namespace/name", or "name" when cluster-scoped. */
export function objectKey(obj: KubernetesObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface OwnerMatch {
  kind: string;
  /** API group of the owner ('' for core); any group when omitted. Versions are not compared. */
  group?: string;
  /** Only follow the reference with `controller: true`. */
  controllerOnly?: boolean;
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** Keys of the owners of `obj` matching `owner` (owner references are namespace-local). */
export function ownerKeys(obj: KubernetesObject, owner: OwnerMatch): string[] {
  const ns = obj.metadata?.namespace;
  return (obj.metadata?.ownerReferences ?? [])
    .filter((r) => r.kind === owner.kind)
    .filter((r) => owner.group === undefined || groupOf(r.apiVersion) === owner.group)
    .filter((r) => !owner.controllerOnly || r.controller === true)
    .map((r) => (ns ? `${ns}/${r.name}` : r.name));
}

/** The key named by a label on `obj` (e.g. simarena.io/episode=<name>), in `namespace` or the object's own. */
export function labelKey(obj: KubernetesObject, label: string, namespace?: string): string | undefined {
  const value = obj.metadata?.labels?.[label];
  if (!value) return undefined;
  const ns = namespace ?? obj.metadata?.namespace;
  return ns ? `${ns}/${value}` : value;
}

/**
 * An informer handler for owned objects that enqueues their owner's key: from ownerReferences,
 * falling back to `label` when given (for objects that cannot carry an owner reference).
 */
export function enqueueOwner(
  enqueue: (key: string) => void,
  owner: OwnerMatch & { label?: string; labelNamespace?: string },
): (obj: KubernetesObject) => void {
  return (obj) => {
    const keys = ownerKeys(obj, owner);
    if (keys.length === 0 && owner.label) {
      const k = labelKey(obj, owner.label, owner.labelNamespace);
      if (k) keys.push(k);
    }
    for (const k of keys) enqueue(k);
  };
}
