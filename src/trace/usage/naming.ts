// Which workload a pod belongs to, from the names Kubernetes controllers give their pods:
//   Deployment  <name>-<pod-template-hash>-<5 chars>   (via its ReplicaSet <name>-<hash>)
//   ReplicaSet, DaemonSet, Job   <name>-<5 chars>
//   StatefulSet <name>-<ordinal>
//   CronJob     <name>-<scheduled time in minutes>-<5 chars>   (via its Job <name>-<minutes>)
//   Pod         <name>
// The generated suffixes use apimachinery's alphabet (no vowels, no 0/1/3 that read like letters).
import type { WorkloadRef } from '../workload.js';

const SUFFIX = '[bcdfghjklmnpqrstvwxz2456789]{5}';
const HASH = '[bcdfghjklmnpqrstvwxz2456789]{1,10}';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pattern(kind: string, name: string): RegExp | null {
  const n = escape(name);
  switch (kind) {
    case 'Deployment':
      return new RegExp(`^${n}-${HASH}-${SUFFIX}$`);
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'Job':
      return new RegExp(`^${n}-${SUFFIX}$`);
    case 'StatefulSet':
      return new RegExp(`^${n}-(0|[1-9][0-9]*)$`);
    case 'CronJob':
      return new RegExp(`^${n}-[0-9]+-${SUFFIX}$`);
    case 'Pod':
      return new RegExp(`^${n}$`);
    default:
      return null;
  }
}

/**
 * The workload a pod name belongs to, among `workloads` in the pod's namespace. When several match
 * (`web-7d4b9c8f6d-x2x5k` is a pod of Deployment `web` and of ReplicaSet `web-7d4b9c8f6d`), the longest name wins.
 */
export function workloadOfPod(
  namespace: string,
  pod: string,
  workloads: readonly WorkloadRef[],
): WorkloadRef | undefined {
  let best: WorkloadRef | undefined;
  for (const w of workloads) {
    if (w.namespace !== namespace) continue;
    const re = pattern(w.kind, w.name);
    if (!re || !re.test(pod)) continue;
    if (!best || w.name.length > best.name.length) best = w;
  }
  return best;
}
