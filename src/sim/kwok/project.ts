// Turning trace objects into objects for a real cluster: the same changes SimKube's driver makes (namespace
// moved, status dropped, pods pinned to virtual nodes with the kwok-provider toleration, ports removed), plus a
// per-run node-pool label so concurrent runs never share nodes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { MsgMap } from '../../trace/msgpack.js';
import { toPlain } from '../../trace/model.js';
import { podSpecPath } from '../../trace/gvk.js';
import type { PoolNode } from '../../trace/nodepool.js';
import { MANAGED_BY, POOL_LABEL, RUN_LABEL } from '../../api/names.js';

export const KWOK_TOLERATION = { key: 'kwok-provider', operator: 'Exists', effect: 'NoSchedule' };

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

const STRIPPED_METADATA = [
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'generation',
  'managedFields',
  'ownerReferences',
  'selfLink',
];

export interface ProjectOptions {
  namespace: string;
  run: string;
  /** Pin pods to nodes carrying this pool label value (omit to use any `type=virtual` node). */
  pool?: string;
}

function at(o: unknown, path: string[]): Record<string, unknown> | undefined {
  let cur = o;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>) : undefined;
}

export function projectObject(obj: MsgMap, opts: ProjectOptions): KubernetesObject {
  const o = toPlain(obj) as Obj;
  delete o.status;
  const md = (o.metadata ??= {});
  for (const k of STRIPPED_METADATA) delete md[k];
  const ann = md.annotations as Record<string, string> | undefined;
  if (ann) delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  md.namespace = opts.namespace;
  md.labels = { ...(md.labels as Record<string, string> | undefined), ...MANAGED_BY, [RUN_LABEL]: opts.run };
  const path = podSpecPath(o.kind as string);
  const spec = path ? at(o, path) : undefined;
  if (spec) pinPodSpec(spec, opts);
  // The pods carry the run's label too, so the backend can watch them across namespaces.
  const template = path && path.length > 1 ? at(o, path.slice(0, -1)) : undefined;
  if (template) {
    const tmd = ((template.metadata as Record<string, unknown> | undefined) ??= {});
    tmd.labels = { ...(tmd.labels as Record<string, string> | undefined), [RUN_LABEL]: opts.run };
  }
  return o as KubernetesObject;
}

function pinPodSpec(spec: Record<string, unknown>, opts: ProjectOptions): void {
  spec.nodeSelector = {
    ...(spec.nodeSelector as Record<string, string> | undefined),
    type: 'virtual',
    ...(opts.pool ? { [POOL_LABEL]: opts.pool } : {}),
  };
  const tolerations = (spec.tolerations as Array<Record<string, unknown>> | undefined) ?? [];
  if (!tolerations.some((t) => t.key === 'kwok-provider')) tolerations.push({ ...KWOK_TOLERATION });
  spec.tolerations = tolerations;
  for (const list of ['containers', 'initContainers']) {
    for (const c of (spec[list] as Array<Record<string, unknown>> | undefined) ?? []) delete c.ports;
  }
  // KWOK pods have no real service account token to mount.
  spec.automountServiceAccountToken = false;
  delete spec.serviceAccountName;
  delete spec.serviceAccount;
}

export interface NodeShape {
  name: string;
  cpu: string;
  memory: string;
  pods: string;
  labels?: Record<string, string>;
  taints?: Array<Record<string, unknown>>;
}

/** A KWOK-managed Node object (capacity and allocatable in status, like SimKube's virtual nodes). */
export function kwokNode(n: NodeShape, pool: string): KubernetesObject {
  const res = { cpu: n.cpu, memory: n.memory, pods: n.pods };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: { ...n.labels, type: 'virtual', [POOL_LABEL]: pool, 'kubernetes.io/hostname': n.name, ...MANAGED_BY },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { taints: n.taints ?? [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }] },
    status: { capacity: res, allocatable: res },
  } as KubernetesObject;
}

/** Node shapes for a run: the episode's node pool (src/trace/nodepool.ts), renamed into the run. */
export function poolNodes(nodes: PoolNode[], run: string): NodeShape[] {
  return nodes.map((n) => ({
    name: `${run}-${n.name}`.slice(0, 63),
    cpu: n.allocatable.cpu ?? '0',
    memory: n.allocatable.memory ?? '0',
    pods: n.allocatable.pods ?? '110',
    labels: n.labels ?? {},
    ...(n.taints ? { taints: n.taints.map((t) => ({ ...t })) } : {}),
  }));
}
