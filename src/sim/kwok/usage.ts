// Usage consequences on the kwok backend: the real scheduler's placements go through the same usage model as the
// embedded replay, and the backend then drives what the kubelet would report — Ready=False, restartCount, the last
// state OOMKilled and CrashLoopBackOff — into the pods' status; the observation is counted from those pods.
import type { CoreV1Api, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Observation } from '../../arena/observation.js';
import type { UsageNode, UsagePod } from '../../arena/usage/model.js';
import { usageContainer } from '../../arena/usage/container.js';
import { evaluateUsage, type UsageVerdict } from '../../arena/usage/model.js';
import type { UsageRun } from '../../arena/usage/run.js';
import { cpuMillis, quantityUnits } from '../../trace/quantity.js';
import type { Trace } from '../../trace/trace.js';
import type { WorkloadRef } from '../../trace/workload.js';
import { observePods } from '../pods.js';
import { mergePatchOptions } from '../../kube/custom-objects.js';

const cores = (q: string | undefined) => (q ? Number(cpuMillis(q)) / 1000 : 0);
const bytes = (q: string | undefined) => (q ? Number(quantityUnits(q)) : 0);

/** A pod's effective request (containers summed, against the largest init container), as the scheduler counts it. */
function podRequest(p: V1Pod): { cpu: number; memory: number } {
  const sum = { cpu: 0, memory: 0 };
  for (const c of p.spec?.containers ?? []) {
    sum.cpu += cores(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu);
    sum.memory += bytes(c.resources?.requests?.memory ?? c.resources?.limits?.memory);
  }
  for (const c of p.spec?.initContainers ?? []) {
    sum.cpu = Math.max(sum.cpu, cores(c.resources?.requests?.cpu));
    sum.memory = Math.max(sum.memory, bytes(c.resources?.requests?.memory));
  }
  return sum;
}

const byCreation = (a: V1Pod, b: V1Pod) => {
  const ta = a.metadata?.creationTimestamp ? new Date(a.metadata.creationTimestamp).getTime() : 0;
  const tb = b.metadata?.creationTimestamp ? new Date(b.metadata.creationTimestamp).getTime() : 0;
  return ta - tb || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
};

/** The usage model's verdict on real pods, and the status patch each pod needs (null: leave it as it is). */
export interface PodUsage {
  /** The workload's pods in creation order (the model's pod order). */
  pods: V1Pod[];
  verdict: UsageVerdict;
  patches: Array<ReturnType<typeof podStatusPatch> | null>;
}

/**
 * Evaluate usage on real placements (any backend whose pods a real scheduler bound): `workloadPods` are the
 * workload's pods, `allPods` every pod on `nodes` (their requests count against the nodes), `nodes` those nodes.
 */
export function usageOnPods(
  trace: Trace,
  workload: WorkloadRef,
  run: UsageRun,
  workloadPods: V1Pod[],
  allPods: V1Pod[],
  nodes: V1Node[],
): PodUsage {
  const pods = [...workloadPods].sort(byCreation);
  const requested = new Map<string, { cpu: number; memory: number }>();
  for (const p of allPods) {
    const n = p.spec?.nodeName;
    if (!n || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata?.deletionTimestamp)
      continue;
    const r = podRequest(p);
    const cur = requested.get(n) ?? { cpu: 0, memory: 0 };
    requested.set(n, { cpu: cur.cpu + r.cpu, memory: cur.memory + r.memory });
  }
  const usageNodes: UsageNode[] = nodes.map((n) => ({
    name: n.metadata!.name!,
    allocCpu: cores(n.status?.allocatable?.cpu),
    allocMem: bytes(n.status?.allocatable?.memory),
    requestedCpu: requested.get(n.metadata!.name!)?.cpu ?? 0,
    requestedMem: requested.get(n.metadata!.name!)?.memory ?? 0,
  }));
  const usagePods: UsagePod[] = pods.map((p) => ({
    node: p.spec?.nodeName ?? null,
    running: p.status?.phase === 'Running' && !!p.spec?.nodeName,
  }));
  const container = usageContainer(trace, workload, run.container);
  const v = evaluateUsage(run.file, run.series, container, usagePods, usageNodes, run.step, run.settings);
  const patches = pods.map((p, i) =>
    !usagePods[i]!.running || (v.ready[i] && v.podRestarts[i] === 0)
      ? null
      : podStatusPatch(p, v.ready[i]!, v.podRestarts[i]!, v.podCrashLooping[i]!, run.container),
  );
  return { pods, verdict: v, patches };
}

/** The observation of the pods as patched, with the verdict's usage fields. */
export function usageObservation(patched: V1Pod[], v: UsageVerdict): Observation {
  return {
    ...observePods(patched),
    oomKills: v.oomKills,
    restarts: v.restarts,
    throttling: v.throttling,
    usage: v.usage,
    slack: v.slack,
  };
}

/**
 * Evaluate usage on the run's real placements, write the verdict into the workload's pods' status, and observe.
 * `workloadPods` are the workload's pods, `allPods` every pod on the run's nodes, `nodes` the run's nodes.
 */
export async function applyUsageToKwokPods(
  core: CoreV1Api,
  namespace: string,
  trace: Trace,
  workload: WorkloadRef,
  run: UsageRun,
  workloadPods: V1Pod[],
  allPods: V1Pod[],
  nodes: V1Node[],
): Promise<Observation> {
  const u = usageOnPods(trace, workload, run, workloadPods, allPods, nodes);
  const out: V1Pod[] = [];
  for (const [i, p] of u.pods.entries()) {
    const body = u.patches[i];
    out.push(
      body ? await core.patchNamespacedPodStatus({ name: p.metadata!.name!, namespace, body }, mergePatchOptions()) : p,
    );
  }
  return usageObservation(out, u.verdict);
}

/** What the kubelet would report for a container OOM-killed `restarts` times, or throttled out of readiness. */
export function podStatusPatch(
  p: V1Pod,
  ready: boolean,
  restarts: number,
  crashLooping: boolean,
  containerName?: string,
) {
  const now = new Date().toISOString();
  const target = containerName ?? p.spec?.containers?.[0]?.name;
  const containerStatuses = (p.spec?.containers ?? []).map((c) => {
    const old = p.status?.containerStatuses?.find((s) => s.name === c.name);
    const base = { name: c.name, image: c.image ?? '', imageID: old?.imageID ?? '', started: true };
    if (c.name !== target)
      return {
        ...base,
        ready: old?.ready ?? true,
        restartCount: old?.restartCount ?? 0,
        state: old?.state ?? { running: { startedAt: now } },
      };
    return {
      ...base,
      ready,
      restartCount: restarts,
      ...(restarts > 0 ? { lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: now } } } : {}),
      state: crashLooping
        ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${c.name}` } }
        : { running: { startedAt: now } },
      started: !crashLooping,
    };
  });
  const conditions = (p.status?.conditions ?? []).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady'
      ? {
          ...c,
          status: ready ? 'True' : 'False',
          ...(ready ? {} : { reason: 'ContainersNotReady' }),
          lastTransitionTime: now,
        }
      : c,
  );
  return { status: { conditions, containerStatuses } };
}
