// What the cluster can hold, as policies need to know it, read from the episode's node pool (src/trace/nodepool.ts).
import type { MsgMap } from '../trace/msgpack.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';
import { effectivePool, poolNodes, traceNodeObjects, type NodePool } from '../trace/nodepool.js';
import type { Trace } from '../trace/trace.js';
import type { NodeCapacity } from './policies.js';

export interface ClusterCapacity {
  nodeCount: number;
  largestNode: NodeCapacity;
}

/** v1 Node objects applied in a trace not converted yet (and not deleted later), last version of each. */
export function traceNodes(trace: Trace): MsgMap[] {
  return traceNodeObjects(trace);
}

/** Schedulable nodes, and per resource the largest allocatable among them. */
export function clusterCapacity(trace: Trace, pool: NodePool): ClusterCapacity {
  const nodes = poolNodes(effectivePool(trace, pool)).filter((n) => !n.unschedulable);
  let cpu = 0n;
  let mem = 0n;
  for (const n of nodes) {
    const c = n.allocatable.cpu;
    const m = n.allocatable.memory;
    if (c !== undefined && cpuMillis(c) > cpu) cpu = cpuMillis(c);
    if (m !== undefined && quantityUnits(m) > mem) mem = quantityUnits(m);
  }
  return { nodeCount: nodes.length, largestNode: { cpuMillis: cpu, memoryBytes: mem } };
}
