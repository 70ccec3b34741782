// Counting a workload's pods the way the arena observes them (shared by the cluster backends).
import type { V1Pod } from '@kubernetes/client-node';
import type { Observation } from '../arena/observation.js';

export function isReady(p: V1Pod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function isUnschedulable(p: V1Pod): boolean {
  return (p.status?.conditions ?? []).some(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
}

/** pending: phase Pending (never ready); ready: not pending and Ready=True; total: every pod not being deleted. */
export function observePods(pods: V1Pod[]): Observation {
  let ready = 0;
  let pending = 0;
  let total = 0;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const phase = p.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    total++;
    if (phase === 'Pending' || phase === undefined) pending++;
    else if (isReady(p)) ready++;
  }
  return { ready, pending, total };
}

/** A pod has settled when it is bound and Ready, or the scheduler has marked it Unschedulable. */
export function isSettled(p: V1Pod): boolean {
  if (p.metadata?.deletionTimestamp) return false;
  if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return true;
  if (p.spec?.nodeName) return isReady(p);
  return isUnschedulable(p);
}

export function labelSelector(matchLabels: Record<string, string>): string {
  return Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
