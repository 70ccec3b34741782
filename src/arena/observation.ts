// What a policy sees after each replay of the trace.
import type { ResourceUsage } from './usage/model.js';

export interface Observation {
  ready: number;
  pending: number;
  total: number;
  // With usage (README "Usage and right-sizing"); absent otherwise.
  /** OOM kills in this step's window, all pods. */
  oomKills?: number;
  /** Container restarts since the episode's start under the current spec. */
  restarts?: number;
  /** Mean throttled CPU fraction of running pods over the window (0–1). */
  throttling?: number;
  /** Per-pod demand percentiles over the window next to the request and the limit applied (cores / bytes). */
  usage?: { cpu: ResourceUsage; memory: ResourceUsage };
  /** Requests above mean usage, summed over running pods (cores / bytes). */
  slack?: { cpu: number; memory: number };
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
