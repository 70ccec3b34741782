// The embedded simulator's seam to the usage model: the replay's placements in, the usage-aware observation out.
import type { Observation } from '../../arena/observation.js';
import { applyUsage, type UsageRun } from '../../arena/usage/run.js';
import type { UsageNode, UsagePod } from '../../arena/usage/model.js';
import type { Trace } from '../../trace/trace.js';
import type { WorkloadRef } from '../../trace/workload.js';
import type { SimResult } from './result.js';

export function placementsOf(result: SimResult, ref: WorkloadRef): { pods: UsagePod[]; nodes: UsageNode[] } {
  const pods: UsagePod[] = [];
  for (const p of result.pods) {
    const o = p.owner;
    if (o.name !== ref.name || o.namespace !== ref.namespace || o.kind !== ref.kind) continue;
    pods.push({ node: p.node, running: p.phase === 'Running' });
  }
  const nodes: UsageNode[] = result.nodes.map((n) => ({
    name: n.name,
    allocCpu: n.allocatable.cpu / 1000,
    allocMem: n.allocatable.memory,
    requestedCpu: n.requested.cpu / 1000,
    requestedMem: n.requested.memory,
  }));
  return { pods, nodes };
}

export function observeWithUsage(
  result: SimResult,
  trace: Trace,
  ref: WorkloadRef,
  base: Observation,
  run: UsageRun,
): Observation {
  const { pods, nodes } = placementsOf(result, ref);
  return applyUsage(trace, ref, run, base, pods, nodes);
}
