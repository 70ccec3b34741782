// Usage consequences on the simkube backend: SimKube's driver creates the workload's pods in its virtual namespace
// and the cluster's scheduler binds them to (KWOK) nodes; the same usage model as the embedded and kwok backends
// runs on those placements, and the verdict is written into the pods' status the way the kubelet would report it
// (Ready=False, restartCount, lastState OOMKilled, CrashLoopBackOff), as the kwok backend does.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Observation } from '../../arena/observation.js';
import type { UsageRun } from '../../arena/usage/run.js';
import type { Kube } from '../../kube/client.js';
import type { Trace } from '../../trace/trace.js';
import type { WorkloadRef } from '../../trace/workload.js';
import { usageOnPods, usageObservation } from '../kwok/usage.js';

export async function applyUsageToSimkubePods(
  kube: Kube,
  trace: Trace,
  workload: WorkloadRef,
  run: UsageRun,
  pods: V1Pod[],
): Promise<Observation> {
  const names = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  const nodes: V1Node[] = [];
  const onNodes: V1Pod[] = [];
  for (const name of names) {
    const node = await kube.get<V1Node>(`/api/v1/nodes/${encodeURIComponent(name)}`);
    if (!node) continue;
    nodes.push(node);
    onNodes.push(...(await kube.list<V1Pod>('/api/v1/pods', { fieldSelector: `spec.nodeName=${name}` })));
  }
  const u = usageOnPods(trace, workload, run, pods, onNodes, nodes);
  const out: V1Pod[] = [];
  for (const [i, p] of u.pods.entries()) {
    const body = u.patches[i];
    const path = `/api/v1/namespaces/${encodeURIComponent(p.metadata!.namespace!)}/pods/${encodeURIComponent(p.metadata!.name!)}/status`;
    out.push(body ? await kube.mergePatch<V1Pod>(path, body) : p);
  }
  return usageObservation(out, u.verdict);
}

/** The usage fields of an observation kept on a Simulation (JSON), those that are there and well-formed. */
export function storedUsageFields(o: Partial<Observation>): Partial<Observation> {
  const out: Partial<Observation> = {};
  const count = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
  if (count(o.oomKills)) out.oomKills = o.oomKills!;
  if (count(o.restarts)) out.restarts = o.restarts!;
  if (typeof o.throttling === 'number' && o.throttling >= 0 && o.throttling <= 1) out.throttling = o.throttling;
  if (typeof o.usage === 'object' && o.usage !== null) out.usage = o.usage;
  if (typeof o.slack === 'object' && o.slack !== null) out.slack = o.slack;
  return out;
}
