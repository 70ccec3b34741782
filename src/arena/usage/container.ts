// The target container's requests and limits as the usage model needs them (cores, bytes).
import { getIn } from '../../trace/model.js';
import type { MsgValue } from '../../trace/msgpack.js';
import { cpuMillis, quantityUnits } from '../../trace/quantity.js';
import type { Trace } from '../../trace/trace.js';
import { containerAt, currentObject, podSpecOf, resolveContainer, type WorkloadRef } from '../../trace/workload.js';
import type { UsageContainer } from './model.js';

function value(v: MsgValue | undefined, resource: 'cpu' | 'memory'): number | null {
  if (v === undefined || v === null || (typeof v !== 'string' && typeof v !== 'number')) return null;
  return resource === 'cpu' ? Number(cpuMillis(v)) / 1000 : Number(quantityUnits(v));
}

/** Requests default to limits, as the API server defaults them. */
export function usageContainer(trace: Trace, ref: WorkloadRef, container?: string): UsageContainer {
  const spec = podSpecOf(currentObject(trace, ref))!;
  const c = containerAt(spec, resolveContainer(spec, ref, container));
  const read = (kind: 'requests' | 'limits', r: 'cpu' | 'memory') => value(getIn(c, ['resources', kind, r]), r);
  const limitCpu = read('limits', 'cpu');
  const limitMem = read('limits', 'memory');
  return {
    requestCpu: read('requests', 'cpu') ?? limitCpu ?? 0,
    requestMem: read('requests', 'memory') ?? limitMem ?? 0,
    limitCpu,
    limitMem,
  };
}
