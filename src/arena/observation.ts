// What a policy sees after each replay of the trace.

export interface Observation {
  ready: number;
  pending: number;
  total: number;
}

/** The workload's current requests as written in the trace (canonical quantities). */
export interface WorkloadResources {
  /** The target container's request (default: the first app container). */
  cpu: string;
  memory: string;
  replicas: number;
  /** The pod's effective request as the scheduler sees it: init containers, sidecars and overhead included. */
  effectiveCpu?: string;
  effectiveMemory?: string;
}

export function atTarget(obs: Observation, target: number): boolean {
  return obs.ready === target && obs.total === target && obs.pending === 0;
}

export function formatObservation(o: Observation): string {
  return `${o.ready} ready / ${o.pending} pending / ${o.total} total`;
}
