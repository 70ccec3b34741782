// The interfaces every backend (embedded, kwok, simkube) implements.
import type { Observation } from './observation.js';
import type { UsageRun } from './usage/run.js';
import type { Trace } from '../trace/trace.js';
import type { WorkloadRef } from '../trace/workload.js';

export type BackendName = 'embedded' | 'kwok' | 'simkube';
export const BACKEND_NAMES: readonly BackendName[] = ['embedded', 'kwok', 'simkube'];

// The one node-pool type lives with the trace, which it describes.
export { DEFAULT_NODE_POOL, type NodePool } from '../trace/nodepool.js';
import type { NodePool } from '../trace/nodepool.js';

export interface RunOptions {
  /** Seed for every random choice the backend makes (scheduler tie-breaks). */
  seed: number;
  /** The nodes to replay on (a trace not yet converted uses its own Node objects instead). */
  nodePool?: NodePool;
  /** How long the replay runs, counted from the first event, in seconds (SimKube's `duration`). Default: to the last event. */
  durationSeconds?: number;
  /** A name for this run (simulation names, namespaces), unique per episode step; derived when absent. */
  runName?: string;
  signal?: AbortSignal;
  /** Usage to apply to this replay's pods (OOM kills, throttling, readiness); absent: pods are Ready once Running. */
  usage?: UsageRun;
}

export interface Backend {
  readonly name: BackendName;
  /** Replay the trace and observe the workload's pods. */
  run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation>;
  close?(): Promise<void>;
}

/** One replay, identified by a deterministic name so every phase can be repeated after a restart. */
export interface StepRun {
  name: string;
  /** The episode this run belongs to (operator runs), so backends can find its older runs. */
  episode?: string;
  trace: Trace;
  workload: WorkloadRef;
  opts: RunOptions;
  /** When start() first ran (ms since epoch), kept by the caller across restarts. */
  startedAt: number;
}

export interface PollResult {
  observation?: Observation;
  /** Not ready yet: poll again after this long. */
  waitMs?: number;
  /** Why we are waiting, for a condition on the episode (e.g. SimKube's one-simulation lock). */
  waiting?: { reason: string; message: string };
  /** With an observation: how the run's hook stages went (spec.hooks), for the episode's Hooks condition. */
  hooks?: { stage: string; outcome: 'Succeeded' | 'Failed'; message: string }[];
}

/**
 * The shape the operator drives: it never sleeps in a reconcile, it calls start once, poll until an observation
 * arrives (requeueing in between), then cleanup. Every method must be idempotent.
 */
export interface PhasedBackend {
  readonly name: BackendName;
  /**
   * Replays inside this process and leaves nothing behind: a run need not be recorded before it starts, so the
   * operator may decide, replay and record a step with one status write.
   */
  readonly inProcess?: boolean;
  start(run: StepRun): Promise<void>;
  poll(run: StepRun): Promise<PollResult>;
  cleanup(run: StepRun): Promise<void>;
  /** Backends that watch their runs call `listener` with a run's name when it changed: poll it again now. */
  onRunChange?(listener: (run: string) => void): void;
  close?(): Promise<void>;
}

/** Drive a phased backend to completion in one call (what the CLI does). */
export async function runToCompletion(backend: PhasedBackend, run: StepRun): Promise<Observation> {
  try {
    await backend.start(run);
    for (;;) {
      run.opts.signal?.throwIfAborted();
      const r = await backend.poll(run);
      if (r.observation) return r.observation;
      await new Promise((res) => setTimeout(res, r.waitMs ?? 250));
    }
  } finally {
    await backend.cleanup(run);
  }
}

/** A backend that answers at once (embedded) also serves as a phased one. */
export function phasedFromBackend(backend: Backend): PhasedBackend {
  return {
    name: backend.name,
    inProcess: true,
    start: async () => undefined,
    poll: async (run) => ({
      observation: await backend.run(run.trace, run.workload, { ...run.opts, runName: run.name }),
    }),
    cleanup: async () => undefined,
  };
}
