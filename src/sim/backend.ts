// The one interface every backend (embedded, kwok, simkube) implements.
import type { Observation } from '../arena/observation.js';
import type { Trace } from '../trace/trace.js';
import type { WorkloadRef } from '../trace/workload.js';

export type BackendName = 'embedded' | 'kwok' | 'simkube';

export interface NodePool {
  count: number;
  cpu: string;
  memory: string;
  pods: number;
}

export const DEFAULT_NODE_POOL: NodePool = { count: 3, cpu: '16', memory: '32Gi', pods: 110 };

export interface RunOptions {
  /** Seed for every random choice the backend makes (scheduler tie-breaks). */
  seed: number;
  /** Nodes to use when the trace has no Node objects. */
  nodePool?: NodePool;
  /** How long the replay runs, counted from the first event, in seconds (SimKube's `duration`). Default: to the last event. */
  durationSeconds?: number;
  /** A name for this run (simulation names, namespaces), unique per episode step. */
  runName?: string;
  signal?: AbortSignal;
}

export interface Backend {
  readonly name: BackendName;
  /** Replay the trace and observe the workload's pods. */
  run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation>;
  close?(): Promise<void>;
}
