// What the cluster can hold, as policies need to know it: the node pool from the trace's Node objects, or the default.
import type { MsgMap } from '../trace/msgpack.js';
import { getIn, getMap } from '../trace/model.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';
import { isNodeObject, traceEvents, type Trace } from '../trace/trace.js';
import type { NodeCapacity } from './policies.js';

export interface PoolShape {
  count: number;
  cpu: string;
  memory: string;
  pods: number;
}

export interface ClusterCapacity {
  nodeCount: number;
  largestNode: NodeCapacity;
}

/** v1 Node objects applied in the trace (and not deleted later), last version of each. */
export function traceNodes(trace: Trace): MsgMap[] {
  const nodes = new Map<string, MsgMap>();
  for (const ev of traceEvents(trace)) {
    for (const o of ev.applied) if (isNodeObject(o)) nodes.set(getIn(o, ['metadata', 'name']) as string, o);
    for (const o of ev.deleted) if (isNodeObject(o)) nodes.delete(getIn(o, ['metadata', 'name']) as string);
  }
  return [...nodes.values()];
}

export function clusterCapacity(trace: Trace, pool: PoolShape): ClusterCapacity {
  const nodes = traceNodes(trace).filter((n) => getIn(n, ['spec', 'unschedulable']) !== true);
  if (nodes.length === 0) return { nodeCount: pool.count, largestNode: { cpuMillis: cpuMillis(pool.cpu), memoryBytes: quantityUnits(pool.memory) } };
  let cpu = 0n;
  let mem = 0n;
  for (const n of nodes) {
    // Per resource, allocatable falls back to capacity (the API server's defaulting does the same for the whole map).
    const pick = (r: string) => getMap(n, ['status', 'allocatable'])?.get(r) ?? getMap(n, ['status', 'capacity'])?.get(r);
    const c = pick('cpu');
    const m = pick('memory');
    if (typeof c === 'string' || typeof c === 'number') cpu = cpuMillis(c) > cpu ? cpuMillis(c) : cpu;
    if (typeof m === 'string' || typeof m === 'number') mem = quantityUnits(m) > mem ? quantityUnits(m) : mem;
  }
  return { nodeCount: nodes.length, largestNode: { cpuMillis: cpu, memoryBytes: mem } };
}
