// The embedded backend: an in-process replay of a SimKube trace with a faithful-enough kube-scheduler,
// for the thousands of arena steps per second a real cluster cannot give.
//
// Observation semantics (same as the predecessor's pod listing): for the workload's pods that exist when the replay
// window ends (deleted pods are gone; Succeeded pods still exist until their Job or owner is deleted),
//   total   = every existing pod, Succeeded included (Job/CronJob pods that finished count until history cleanup);
//   pending = pods not bound to a node (phase Pending);
//   ready   = pods bound and Running (KWOK makes bound pods Running/Ready at once with zero lifecycle delays).
import type { Observation } from '../../arena/observation.js';
import { TraceError, type Trace } from '../../trace/trace.js';
import { formatWorkload, type WorkloadRef } from '../../trace/workload.js';
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';
import type { Backend, RunOptions } from '../../arena/backend.js';
import { workloadKey, type SimState, type SimulateOptions } from './replay.js';
import { simulateIncremental } from './incremental.js';
import { observeWithUsage } from './usage.js';
import type { SimNodeView, SimResult } from './result.js';
import type { SimPod } from './cluster.js';

export type { SimulateOptions } from './replay.js';
export type { SimPod, PodPhase, Resources } from './cluster.js';
export type { Taint, Labels } from './selection.js';
export { UnsupportedFeatureError } from './errors.js';
export { Rng } from './rng.js';
export type { SimNodeView, SimResult } from './result.js';

class Result implements SimResult {
  readonly pods: readonly SimPod[];
  readonly nodes: readonly SimNodeView[];
  readonly warnings: readonly string[];
  readonly startTs: number;
  readonly endTs: number;
  readonly eventsReplayed: number;
  readonly podsCreated: number;
  readonly preemptions: number;
  private readonly seen: SimState['applied'];

  constructor(st: SimState) {
    this.pods = st.pods;
    this.nodes = st.nodes;
    this.warnings = st.warnings;
    this.startTs = st.startTs;
    this.endTs = st.endTs;
    this.eventsReplayed = st.eventsReplayed;
    this.podsCreated = st.podsCreated;
    this.preemptions = st.preemptions;
    this.seen = st.applied;
  }

  applied(ref: WorkloadRef): boolean {
    return this.seen.has(workloadKey(ref.kind, ref.namespace, ref.name));
  }
}

/**
 * Replay `trace` in-process and return every pod and node at the end of the window. A trace edited by actions is
 * replayed incrementally (only from its first edited object; a state seen before is remembered): see incremental.ts.
 */
export function simulate(trace: Trace, opts: SimulateOptions = {}): SimResult {
  return new Result(simulateIncremental(trace, opts));
}

/** True when any event of the trace applies the workload (inside the window or not). */
function inTrace(trace: Trace, ref: WorkloadRef): boolean {
  const events = trace.get('events');
  if (!Array.isArray(events)) return false;
  for (const ev of events) {
    const objs = (ev as MsgMap).get('applied_objs');
    if (!Array.isArray(objs)) continue;
    for (const o of objs as MsgValue[]) {
      const m = o as MsgMap;
      const md = m.get('metadata');
      if (
        m.get('kind') === ref.kind &&
        md instanceof Map &&
        md.get('name') === ref.name &&
        md.get('namespace') === ref.namespace
      )
        return true;
    }
  }
  return false;
}

/** Count the workload's pods. Throws TraceError when the workload was never applied in the window (0/0/0 would lie). */
export function observe(result: SimResult, ref: WorkloadRef, trace?: Trace): Observation {
  let ready = 0;
  let pending = 0;
  let total = 0;
  const pods = result.pods;
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i]!;
    const o = p.owner;
    if (o.name !== ref.name || o.namespace !== ref.namespace || o.kind !== ref.kind) continue;
    total++;
    if (p.phase === 'Pending') pending++;
    else if (p.phase === 'Running') ready++;
  }
  if (total === 0 && !result.applied(ref)) {
    if (trace !== undefined && inTrace(trace, ref)) {
      throw new TraceError(
        'workload',
        `${formatWorkload(ref)} is applied only after the replay window ends`,
        `the window is ${result.endTs - result.startTs} s from the first event; raise durationSeconds`,
      );
    }
    throw new TraceError(
      'workload',
      `${formatWorkload(ref)} is not applied in the trace`,
      'check the workload kind, namespace and name',
    );
  }
  return { ready, pending, total };
}

/** simulate + observe in one synchronous call (the arena's hot path). */
export function runEmbedded(trace: Trace, workload: WorkloadRef, opts: RunOptions | SimulateOptions = {}): Observation {
  const { seed, nodePool, durationSeconds } = opts;
  const result = simulate(trace, { seed, nodePool, durationSeconds });
  const obs = observe(result, workload, trace);
  const usage = (opts as RunOptions).usage;
  return usage ? observeWithUsage(result, trace, workload, obs, usage) : obs;
}

export class EmbeddedBackend implements Backend {
  readonly name = 'embedded' as const;

  async run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation> {
    opts.signal?.throwIfAborted();
    return runEmbedded(trace, workload, opts);
  }

  /** The same as run(), without the promise. */
  runSync(trace: Trace, workload: WorkloadRef, opts: RunOptions): Observation {
    return runEmbedded(trace, workload, opts);
  }
}
