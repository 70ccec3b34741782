// What a replay returns: the pods and nodes at the end of the window (its own module so that the usage seam can
// read it without importing the simulator).
import type { WorkloadRef } from '../../trace/workload.js';
import type { Resources, SimPod } from './cluster.js';
import type { Labels, Taint } from './selection.js';

export interface SimNodeView {
  readonly name: string;
  readonly labels: Labels;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly allocatable: Resources;
  /** Sum of the effective requests of the non-terminal pods bound here (`pods` = their count). */
  readonly requested: Resources;
}

export interface SimResult {
  /** Every pod that exists at the end of the replay window, in creation order. */
  readonly pods: readonly SimPod[];
  readonly nodes: readonly SimNodeView[];
  readonly warnings: readonly string[];
  /** First event's ts and the end of the replay window (first + duration, or the last event's ts). */
  readonly startTs: number;
  readonly endTs: number;
  readonly eventsReplayed: number;
  /** Pods ever created, deleted ones included. */
  readonly podsCreated: number;
  readonly preemptions: number;
  /** Whether the workload was applied within the replay window. */
  applied(ref: WorkloadRef): boolean;
}
