// Reconciling one ArenaEpisode: fetch → gone? done → finalizer → the idempotent transitions of the step state machine
// up to the next observation or a wait, each persisted in status (with conditions and observedGeneration) before the
// next → requeue. All progress lives in status, so an operator killed anywhere resumes without losing or repeating an
// action:
//   Observing(step 0) → Cleanup(0) → Observing(1) → Cleanup(1) → … → Done
// (step-machine.ts decides which transition a status calls for, and what each asks for next: continue, wait, done.)
// Cleanup(k) removes the replay's objects, then decides step k+1 (act) and persists the decided action, its trace
// (a content-addressed ConfigMap, trace-store.ts) and the run to replay in one status write before any replay starts;
// a crash before that write repeats Cleanup(k), which is idempotent. Observing drives the backend (start/poll, waiting
// while it replays) and records the observation.
// An in-process backend (embedded) with a policy that decides locally is the exception: its replay touches nothing
// outside this process and the same status decides the same action again, so nothing of a step needs to be written
// before the next one: a reconcile runs steps back to back for up to `batchMs` and writes them in one status write
// (and only the trace ConfigMap that status names). A crash loses only unwritten steps, which are then taken again
// the same way.
// Every status write names the resourceVersion it was computed from, so a write based on a stale copy fails with a
// Conflict instead of repeating a transition; that lets a reconcile start from its own last write or the informer's
// cache rather than a fresh read.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { ExternalPolicyError } from '../agents/external.js';
import { AgentURLError, checkAgentURL, type AllowEntry } from './agent-allowlist.js';
import { decideAndApply, runOptions, scoreStep, stopsAtGoal, type EpisodeSpec } from '../arena/episode.js';
import { atTarget } from '../arena/observation.js';
import { UsageDataError } from '../trace/usage/format.js';
import { loadUsage } from '../trace/usage/load.js';
import { episodeUsage, usageRun, type EpisodeUsage } from '../arena/usage/run.js';
import { formatObservation, type Observation } from '../arena/observation.js';
import { getPolicy, type Policy } from '../arena/policies.js';
import { clusterCapacity } from '../arena/capacity.js';
import { readResources } from '../arena/actions.js';
import { decodeTrace, TraceError, type Trace } from '../trace/trace.js';
import { convertNodeObjects, DEFAULT_NODE_POOL, type Conversion } from '../trace/nodepool.js';
import { QuantityError } from '../trace/quantity.js';
import { formatWorkload } from '../trace/workload.js';
import type { PhasedBackend, StepRun } from '../arena/backend.js';
import { createLogger, type Logger } from '../util/log.js';
import type { Condition, ConditionUpdate } from '../controller/conditions.js';
import { hookFailedCondition, hooksCondition, isHookFailed } from './hooks-status.js';
import type { EventRecorder } from '../controller/events.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../controller/finalizers.js';
import { apiErrorMessage, isConflict, isNotFound } from '../kube/errors.js';
import { customObjectAccessor, type ObjectAccessor } from '../kube/custom-objects.js';
import type { ReconcileResult } from '../controller/workqueue.js';
import { splitKey } from '../controller/keys.js';
import { FINALIZER, GROUP, PLURAL, VERSION } from '../api/names.js';
import { BoundedMap, BoundedSet } from '../util/bounded-map.js';
import {
  CONTINUE,
  DONE,
  endOfStep,
  isFinished,
  runsNextTransition,
  toReconcileResult,
  transitionFor,
  wait,
  type Next,
} from './step-machine.js';
import { StatusWriter } from './status-writer.js';
import { TraceStore } from './trace-store.js';
import * as metrics from './metrics.js';
import {
  InvalidEpisode,
  toEpisodeSpec,
  usageSettingsOf,
  USAGE_KEY,
  type ArenaEpisode,
  type HistoryEntry,
  type RunRecord,
} from '../api/episode.js';

export const HISTORY_LIMIT = 100;
/** A waiting episode's message is rewritten for the same reason at most this often. */
const WAITING_UPDATE_MS = 10_000;
/** A replay shows as Waiting only once it has taken this long (most settle sooner; each write costs the API server). */
const WAITING_AFTER_MS = 2_000;
/** Trace ConfigMaps replaced by later steps are deleted once this many were written (one request for all of them). */
const COLLECT_TRACES_EVERY = 8;
/** How long a reconcile runs in-process steps before writing them (see the header). */
const DEFAULT_BATCH_MS = 100;

export interface ReconcilerOptions {
  kc: KubeConfig;
  backendFor: (episode: ArenaEpisode, spec: EpisodeSpec) => PhasedBackend;
  events?: EventRecorder;
  logger?: Logger;
  /** Cluster checks for the episode's backend, reported as its Preflight condition when it starts. */
  preflight?: (backend: string) => Promise<Omit<Condition, 'lastTransitionTime'>>;
  /** The informer's copy of an episode (never modified here), used when it is exactly our last write. */
  cached?: (namespace: string, name: string) => ArenaEpisode | undefined;
  /** In-process steps run back to back for up to this long before one status write (0: write every step). Default 100. */
  batchMs?: number;
  /** Reconcile this episode (`namespace/name`) soon: a backend says its run changed. */
  wake?: (key: string) => void;
  /** Agent URLs the external policy may call (operator --allow-agent-url); empty or unset: the external policy is off. */
  agentAllowlist?: AllowEntry[];
  /**
   * Test hook: called (and awaited) before each transition runs; throwing simulates the operator dying there, waiting
   * holds the transition while a test injects a fault.
   */
  beforeTransition?: (episode: ArenaEpisode, transition: string) => void | Promise<void>;
  now?: () => Date;
}

/**
 * Whether the episode names its own node pool: nodes, or a uniform pool other than the default (the API server
 * fills spec.nodePool with the default pool when it is left out, so the default cannot be told from no pool).
 */
function namesNodePool(ep: ArenaEpisode): boolean {
  const np = ep.spec.nodePool;
  if (!np) return false;
  const D = DEFAULT_NODE_POOL;
  return (
    (Array.isArray(np.nodes) && np.nodes.length > 0) ||
    (np.count ?? D.count) !== D.count ||
    String(np.cpu ?? D.cpu) !== D.cpu ||
    String(np.memory ?? D.memory) !== D.memory ||
    (np.pods ?? D.pods) !== D.pods
  );
}

export class EpisodeReconciler {
  private readonly core: CoreV1Api;
  /** Each episode's usage, read once from its ConfigMap (`usage:<uid>`). */
  private readonly usageCache = new BoundedMap<string, EpisodeUsage>({ maxEntries: 1000 });
  /** Each episode's starting trace's Node objects converted into a pool (null: it has none), by episode uid. */
  private readonly startConversions = new BoundedMap<string, Conversion | null>({ maxEntries: 100_000 });
  private readonly custom: CustomObjectsApi;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** When each episode's waiting message was last written. */
  private readonly waitingWritten = new BoundedMap<string, number>({ maxEntries: 100_000 });
  /** Runs being polled → their episode's key, so a backend's change notice wakes the right episode. */
  private readonly polling = new BoundedMap<string, string>({ maxEntries: 100_000 });
  /** Backends whose change notices we listen to. */
  private readonly listening = new WeakSet<PhasedBackend>();
  /** When the current reconcile of an episode recorded its first observation (performance.now()): the batch budget. */
  private readonly batchStart = new WeakMap<ArenaEpisode, number>();
  /** Runs whose backend start() succeeded in this process (`<episode uid>/<run name>`). */
  private readonly started = new BoundedSet<string>(10_000);
  private readonly traces: TraceStore;
  private readonly status: StatusWriter;

  constructor(private readonly opts: ReconcilerOptions) {
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.custom = opts.kc.makeApiClient(CustomObjectsApi);
    this.traces = new TraceStore(this.core);
    this.log = opts.logger ?? createLogger('reconciler');
    this.now = opts.now ?? (() => new Date());
    this.status = new StatusWriter({
      custom: this.custom,
      traces: this.traces,
      now: this.now,
      ...(opts.events ? { events: opts.events } : {}),
      ...(opts.cached ? { cached: opts.cached } : {}),
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    if (!namespace) return;
    const ep = await this.status.load(key, namespace, name);
    if (!ep) return;
    try {
      return await this.reconcileEpisode(key, ep);
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Someone else changed the episode since the copy we started from: start again from a fresh read.
      this.status.conflicted(key);
      return toReconcileResult(CONTINUE);
    }
  }

  private async reconcileEpisode(key: string, ep: ArenaEpisode): Promise<ReconcileResult | void> {
    if (ep.metadata?.deletionTimestamp) return this.finalize(ep);
    if (!hasFinalizer(ep, FINALIZER)) {
      const updated = (await addFinalizer(startingFrom(this.accessor(ep), ep), FINALIZER)) as ArenaEpisode;
      ep.metadata = updated.metadata;
      ep.spec = updated.spec;
      ep.status = updated.status;
      this.status.remember(key, ep, true);
      if (ep.metadata?.deletionTimestamp) return this.finalize(ep);
    }
    const status = ep.status ?? {};
    if (isFinished(status)) {
      if (status.observedGeneration !== ep.metadata?.generation) await this.status.write(ep, {});
      return;
    }

    let spec: EpisodeSpec;
    try {
      spec = toEpisodeSpec(ep.spec);
      if (ep.spec.usage) spec = { ...spec, usage: await this.usageOf(ep) };
    } catch (e) {
      if (e instanceof InvalidEpisode) return this.fail(ep, 'InvalidSpec', e.message);
      throw e;
    }
    try {
      // A starting trace that still holds Node objects (an older trace) is replayed without them, on the pool they
      // describe, unless spec.nodePool names one (as the CLI does on load).
      const conversion = await this.startingConversion(ep);
      if (conversion && !namesNodePool(ep)) spec = { ...spec, nodePool: conversion.nodePool };
      // Run transitions back to back up to the next observation: each persists its status before the next runs
      // (or defers it to the next write, see the header), and the API server's answer to that write is what the next
      // one sees (a fresh read would return the same), so this is the same sequence a reconcile per transition would
      // run, minus a read and a trip through the queue each. The episode then goes to the back of the queue, so
      // episodes take turns per step.
      for (let transitions = 1; ; transitions++) {
        const before = ep.status?.stepPhase;
        const next = await this.transition(ep, spec);
        // An observation ends the reconcile once it is written (an in-process one within the budget is not yet).
        const observationWritten =
          before === 'Observing' && ep.status?.stepPhase === 'Cleanup' && !this.status.hasUnsent(ep);
        if (
          !runsNextTransition(next, { observationWritten, deleting: !!ep.metadata?.deletionTimestamp, transitions })
        ) {
          if (this.status.hasUnsent(ep)) await this.status.write(ep, {});
          return toReconcileResult(next);
        }
      }
    } catch (e) {
      this.status.discardUnsent(ep);
      if (isConflict(e)) throw e;
      if (e instanceof InvalidEpisode) return this.fail(ep, 'InvalidEpisode', e.message);
      if (isHookFailed(e)) return this.fail(ep, 'HookFailed', e.message, [hookFailedCondition(e)]);
      if (e instanceof TraceError || e instanceof QuantityError)
        return this.fail(ep, 'InvalidTrace', `the trace is invalid: ${e.message}`);
      // Anything else (API errors, backend hiccups) is retried with backoff; say so on the resource. An external
      // agent's failure is shown without anything the agent answered (whoever reads episodes must not read that).
      const shown = e instanceof ExternalPolicyError ? e.sanitized : apiErrorMessage(e);
      await this.status
        .write(ep, { message: `retrying: ${shown}` }, [
          { type: 'Progressing', status: 'True', reason: 'Retrying', message: shown.slice(0, 1000) },
        ])
        .catch(() => undefined);
      throw e;
    }
  }

  private async transition(ep: ArenaEpisode, spec: EpisodeSpec): Promise<Next> {
    switch (transitionFor(ep.status)) {
      case 'begin':
        return this.begin(ep, spec);
      case 'observe':
        return this.observe(ep, spec, this.opts.backendFor(ep, spec));
      case 'cleanup':
        return this.cleanup(ep, spec, this.opts.backendFor(ep, spec));
      case 'done':
        return DONE;
    }
  }

  /** The starting trace's Node objects as a node pool (read and decoded once per episode), or undefined. */
  private async startingConversion(ep: ArenaEpisode): Promise<Conversion | undefined> {
    const uid = ep.metadata!.uid!;
    let c = this.startConversions.get(uid);
    if (c === undefined) {
      c = convertNodeObjects(await this.traces.read(ep, ep.spec.trace.configMapRef.name)) ?? null;
      this.startConversions.set(uid, c);
    }
    return c ?? undefined;
  }

  /** Validate the starting trace and the workload in it, then observe step 0. */
  private async begin(ep: ArenaEpisode, spec: EpisodeSpec): Promise<Next> {
    await this.opts.beforeTransition?.(ep, 'begin');
    const ref = ep.spec.trace.configMapRef;
    const trace = await this.traces.read(ep, ref.name);
    readResources(trace, spec.workload, spec.actions.container); // throws TraceError naming what is missing
    // Node objects leave the trace (SimKube cannot replay cluster-scoped objects): step 0 replays a converted copy.
    const conversion = convertNodeObjects(trace);
    const converted = conversion
      ? `${conversion.note}${namesNodePool(ep) ? '; spec.nodePool is used instead of that pool' : ''}`
      : undefined;
    const startConfigMap = conversion
      ? await this.traces.store(ep, trace, 0, this.opts.backendFor(ep, spec).inProcess === true)
      : ref.name;
    const backendName = ep.spec.backend ?? 'embedded';
    const preflight = this.opts.preflight && backendName !== 'embedded' ? [await this.opts.preflight(backendName)] : [];
    // The run is recorded before it starts, so a crash in start() is followed by the same run.
    await this.opts.beforeTransition?.(ep, 'start-run');
    await this.status.write(
      ep,
      {
        phase: 'Running',
        step: 0,
        stepPhase: 'Observing',
        traceConfigMap: startConfigMap,
        totalReward: 0,
        solved: false,
        history: [],
        run: this.newRun(ep, 0),
        message: `observing the starting trace of ${formatWorkload(spec.workload)}`,
      },
      [
        { type: 'Ready', status: 'False', reason: 'Running', message: 'the episode is running' },
        {
          type: 'Progressing',
          status: 'True',
          reason: converted ? 'StartedConverted' : 'Started',
          message: converted ? `observing the starting trace: ${converted}` : 'observing the starting trace',
        },
        ...preflight,
      ],
      { defer: this.opts.backendFor(ep, spec).inProcess === true },
    );
    if (preflight[0]?.status === 'False')
      this.status.event(
        ep,
        'Warning',
        'PreflightFailed',
        'Preflight',
        preflight[0].message ?? 'preflight checks failed',
      );
    if (converted) this.status.event(ep, 'Normal', 'NodeObjectsConverted', 'Start', converted);
    this.status.event(
      ep,
      'Normal',
      'Started',
      'Start',
      `episode started: ${formatWorkload(spec.workload)}, target ${spec.target}, policy ${ep.spec.policy?.name ?? 'heuristic'}, backend ${ep.spec.backend ?? 'embedded'}`,
    );
    return CONTINUE;
  }

  /** Decide on the last observation, apply to the current trace, store the result and the run; nothing is replayed yet. */
  private async act(ep: ArenaEpisode, spec: EpisodeSpec): Promise<Next> {
    await this.opts.beforeTransition?.(ep, 'act');
    const status = ep.status!;
    const step = (status.step ?? 0) + 1;
    const obs = status.lastObservation ?? status.initialObservation!;
    const trace = await this.traces.current(ep);
    const policy = await this.policyFor(ep);
    const history = status.history ?? [];
    const past = history.map((h, i) => ({
      action: h.action,
      blocked: h.blocked,
      changed: !h.blocked && h.action !== 'noop',
      observationBefore: i > 0 ? history[i - 1]!.observation : status.initialObservation!,
    }));
    const outcome = await decideAndApply(spec, trace, obs, step, policy, clusterCapacity(trace, spec.nodePool), past);
    // Replaying in this process leaves nothing to find after a crash, and deciding again gives the same action
    // unless the policy asks someone else: then the decision is written before the replay.
    const defer = this.opts.backendFor(ep, spec).inProcess === true && !policy.remote;
    const cm = outcome.changed ? await this.traces.store(ep, trace, step, defer) : status.traceConfigMap!;
    const pending = {
      step,
      action: outcome.action,
      changed: outcome.changed,
      blocked: outcome.blocked,
      ...(outcome.reason ? { blockedReason: outcome.reason } : {}),
      ...(outcome.note ? { note: outcome.note } : {}),
      requests: outcome.after,
      traceConfigMap: cm,
      startTime: this.now().toISOString(),
    };
    await this.opts.beforeTransition?.(ep, 'start-run');
    await this.status.write(
      ep,
      {
        stepPhase: 'Observing',
        pending,
        run: this.newRun(ep, step),
        message: `step ${step}: ${outcome.action}${outcome.blocked ? ` (blocked: ${outcome.reason})` : ''}; replaying`,
      },
      [],
      { defer },
    );
    return CONTINUE;
  }

  /** Drive the replay of the current (or pending) trace until the backend observes. */
  private async observe(ep: ArenaEpisode, spec: EpisodeSpec, backend: PhasedBackend): Promise<Next> {
    const status = ep.status!;
    const cmName = status.pending?.traceConfigMap ?? status.traceConfigMap!;
    // begin and act write the run together with the step it replays.
    if (!status.run)
      throw new InvalidEpisode(
        `status.stepPhase is Observing but status.run is missing (a status this operator did not write); delete and recreate the episode`,
      );
    const runName = status.run.name;
    const trace = decodeTrace(await this.traces.runBytes(ep, runName, cmName)).trace;
    const run = stepRun(ep, spec, status.run, trace);
    await this.opts.beforeTransition?.(ep, 'poll');
    // start() is idempotent; once it has succeeded in this process it need not run before every poll (after a
    // restart the new process runs it again).
    const startedKey = `${ep.metadata!.uid}/${runName}`;
    if (!this.started.has(startedKey)) {
      await backend.start(run);
      this.started.add(startedKey);
    }
    this.listen(backend);
    const key = `${ep.metadata!.namespace}/${ep.metadata!.name}`;
    this.polling.set(runName, key);
    const polled = await backend.poll(run);
    if (polled.observation) this.polling.delete(runName);
    if (!polled.observation) {
      const waiting = polled.waiting;
      // Say why it waits when the reason changes; progress within the same reason (pod counts, …) at most every
      // 10 s, since a status write per poll would cost more than the poll itself; and only once the replay has taken
      // a while.
      const reasonChanged =
        status.phase !== 'Waiting' ||
        status.conditions?.find((c) => c.type === 'Progressing')?.reason !== waiting?.reason;
      if (
        waiting &&
        Date.now() - run.startedAt >= WAITING_AFTER_MS &&
        (reasonChanged ||
          (status.message !== waiting.message && Date.now() - (this.waitingWritten.get(key) ?? 0) >= WAITING_UPDATE_MS))
      ) {
        this.waitingWritten.set(key, Date.now());
        await this.status.write(ep, { phase: 'Waiting', message: waiting.message }, [
          { type: 'Progressing', status: 'True', reason: waiting.reason, message: waiting.message },
          ...(waiting.reason === 'SimulationBlocked'
            ? [{ type: 'Blocked', status: 'True' as const, reason: waiting.reason, message: waiting.message }]
            : []),
        ]);
      }
      return wait(polled.waitMs ?? 1000);
    }
    await this.opts.beforeTransition?.(ep, 'record');
    return this.record(ep, spec, polled.observation, runName, hooksCondition(ep, status.run.step, polled.hooks));
  }

  private listen(backend: PhasedBackend): void {
    const wake = this.opts.wake;
    if (!wake || !backend.onRunChange || this.listening.has(backend)) return;
    this.listening.add(backend);
    backend.onRunChange((run) => {
      const key = this.polling.get(run);
      if (key) wake(key);
    });
  }

  /** Score the step (or store the initial observation) and hand over to Cleanup. */
  private async record(
    ep: ArenaEpisode,
    spec: EpisodeSpec,
    obs: Observation,
    runName: string,
    hooks: ConditionUpdate[] = [],
  ): Promise<Next> {
    const status = ep.status!;
    const pending = status.pending;
    const unblocked: ConditionUpdate[] = [
      { type: 'Blocked', status: 'False' as const, reason: 'NotBlocked', message: 'not waiting on SimKube' },
      ...hooks,
    ];
    // The budget counts from this reconcile's first observation: waiting on the API server before it hogs nothing.
    let first = this.batchStart.get(ep);
    if (first === undefined) this.batchStart.set(ep, (first = performance.now()));
    const defer =
      this.opts.backendFor(ep, spec).inProcess === true &&
      performance.now() - first < (this.opts.batchMs ?? DEFAULT_BATCH_MS);
    if (!pending) {
      await this.status.write(
        ep,
        {
          phase: 'Running',
          stepPhase: 'Cleanup',
          initialObservation: obs,
          lastObservation: obs,
          run: { ...status.run!, observed: obs },
          ...(atTarget(obs, spec.target) ? { stepsToSolve: 0 } : {}),
          message: `start: ${formatObservation(obs)}`,
        },
        unblocked,
        { defer },
      );
      return CONTINUE;
    }
    const trace = await this.traces.read(ep, pending.traceConfigMap);
    const before = status.lastObservation ?? status.initialObservation!;
    const rec = scoreStep(
      spec,
      pending.step,
      before,
      {
        action: pending.action,
        changed: pending.changed,
        blocked: pending.blocked,
        ...(pending.blockedReason ? { reason: pending.blockedReason } : {}),
        ...(pending.note ? { note: pending.note } : {}),
        before: pending.requests,
        after: readResources(trace, spec.workload, spec.actions.container),
      },
      obs,
    );
    const entry: HistoryEntry = {
      step: rec.step,
      observation: obs,
      requests: rec.resources,
      action: rec.action,
      blocked: rec.blocked,
      ...(rec.blockedReason ? { blockedReason: rec.blockedReason } : {}),
      ...(rec.note ? { note: rec.note } : {}),
      reward: rec.reward,
      simulation: runName,
      startTime: pending.startTime,
      endTime: this.now().toISOString(),
    };
    const history = [...(status.history ?? []), entry].slice(-HISTORY_LIMIT);
    await this.status.write(
      ep,
      {
        phase: 'Running',
        stepPhase: 'Cleanup',
        step: pending.step,
        traceConfigMap: pending.traceConfigMap,
        lastObservation: obs,
        totalReward: roundReward((status.totalReward ?? 0) + rec.reward),
        history,
        pending: null as never,
        run: { ...status.run!, observed: obs },
        ...(rec.solved && status.stepsToSolve === undefined ? { stepsToSolve: pending.step } : {}),
        message: `step ${pending.step}: ${rec.action}${rec.blocked ? ' (blocked)' : ''} → ${formatObservation(obs)}, reward ${rec.reward.toFixed(3)}`,
      },
      unblocked,
      { defer },
    );
    const now = this.now();
    this.status.afterWrite(ep, () => {
      const backend = metrics.backendOf(ep);
      metrics.stepsTotal.inc({ backend, action: rec.action });
      if (rec.blocked) metrics.blockedActions.inc({ backend, action: rec.action });
      metrics.stepReward.observe({ backend, mode: spec.reward.mode }, rec.reward);
      const stepSeconds = metrics.secondsFrom(pending.startTime, now);
      if (stepSeconds !== undefined) metrics.stepDuration.observe({ backend }, stepSeconds);
      const replaySeconds = metrics.secondsFrom(status.run?.startTime, now);
      if (replaySeconds !== undefined) metrics.replayDuration.observe({ backend }, replaySeconds);
    });
    this.status.event(
      ep,
      rec.blocked ? 'Warning' : 'Normal',
      'StepCompleted',
      'Step',
      `step ${rec.step}: ${rec.action}${rec.blocked ? ` blocked (${rec.blockedReason})` : ''} → ${formatObservation(obs)}, reward ${rec.reward.toFixed(3)}`,
    );
    return CONTINUE;
  }

  /** The episode's usage, read once per episode from its ConfigMap (a Prometheus export is read against the starting trace). */
  private async usageOf(ep: ArenaEpisode): Promise<EpisodeUsage> {
    const key = `usage:${ep.metadata!.uid}`;
    const hit = this.usageCache.get(key);
    if (hit) return hit;
    const ref = ep.spec.usage!.configMapRef;
    const namespace = ep.metadata!.namespace!;
    const dataKey = ref.key ?? USAGE_KEY;
    let cm: V1ConfigMap;
    try {
      cm = await this.core.readNamespacedConfigMap({ name: ref.name, namespace });
    } catch (e) {
      if (isNotFound(e))
        throw new InvalidEpisode(
          `ConfigMap ${namespace}/${ref.name} does not exist; create it with: kubectl create configmap ${ref.name} -n ${namespace} --from-file=${dataKey}=USAGE.json`,
        );
      throw e;
    }
    const text =
      cm.data?.[dataKey] ??
      (cm.binaryData?.[dataKey] !== undefined
        ? Buffer.from(cm.binaryData[dataKey]!, 'base64').toString('utf8')
        : undefined);
    if (text === undefined)
      throw new InvalidEpisode(
        `ConfigMap ${namespace}/${ref.name} has no key "${dataKey}"; set spec.usage.configMapRef.key`,
      );
    const trace = await this.traces.read(ep, ep.spec.trace.configMapRef.name);
    let usage: EpisodeUsage;
    try {
      usage = episodeUsage(loadUsage(text, trace).usage, usageSettingsOf(ep.spec));
      usageRun(usage, toEpisodeSpec(ep.spec).workload, ep.spec.workload.container, 0, 0);
    } catch (e) {
      if (e instanceof UsageDataError)
        throw new InvalidEpisode(`spec.usage: ConfigMap ${namespace}/${ref.name}: ${e.message}`);
      throw e;
    }
    this.usageCache.set(key, usage);
    return usage;
  }

  /** Remove the replay's objects and the trace ConfigMap it replaced, then act again (one status write) or finish. */
  private async cleanup(ep: ArenaEpisode, spec: EpisodeSpec, backend: PhasedBackend): Promise<Next> {
    await this.opts.beforeTransition?.(ep, 'cleanup');
    const status = ep.status!;
    if (status.run) {
      await backend.cleanup(stepRun(ep, spec, status.run, await this.traces.current(ep)));
      this.forgetRun(ep, status.run.name);
    }
    const obs = status.lastObservation!;
    const step = status.step ?? 0;
    const { solved, finished } = endOfStep(obs, step, spec, status.stepsToSolve);
    if (finished) {
      this.traces.forgetStart(ep);
      this.usageCache.delete(`usage:${ep.metadata!.uid}`);
      const how = !stopsAtGoal(spec)
        ? `ran ${step} step(s)${solved ? `, first at the goal at step ${status.stepsToSolve ?? step}` : ', never at the goal'}`
        : solved
          ? step === 0
            ? 'the workload was already at its target'
            : `solved in ${step} step(s)`
          : `not solved within ${spec.maxSteps} step(s)`;
      await this.status.write(
        ep,
        {
          phase: 'Succeeded',
          stepPhase: 'Done',
          solved,
          run: null as never,
          ...(solved && status.stepsToSolve === undefined ? { stepsToSolve: step } : {}),
          message: `${how}; total reward ${(status.totalReward ?? 0).toFixed(3)}`,
        },
        [
          { type: 'Ready', status: 'True', reason: solved ? 'Solved' : 'MaxStepsReached', message: how },
          { type: 'Progressing', status: 'False', reason: 'Completed', message: how },
        ],
      );
      this.status.event(ep, 'Normal', solved ? 'Solved' : 'MaxStepsReached', 'Finish', how);
      this.status.afterWrite(ep, () => {
        const backend = metrics.backendOf(ep);
        metrics.episodesFinished.inc({ backend, result: solved ? 'solved' : 'unsolved' });
        if (solved) metrics.stepsToSolve.observe({ backend }, ep.status?.stepsToSolve ?? step);
      });
      // After the write, so no written status ever names a deleted trace; what a failure here leaves goes with the
      // episode (owner references).
      await this.traces.collect(ep, ep.status?.traceConfigMap).catch((e: unknown) =>
        this.log.warn('Could not delete replaced trace ConfigMaps', {
          episode: `${ep.metadata!.namespace}/${ep.metadata!.name}`,
          error: apiErrorMessage(e),
        }),
      );
      return DONE;
    }
    // Only what the written status no longer names, so not while steps are unwritten.
    if (!this.status.hasUnsent(ep) && this.traces.writtenSinceCollection(ep) >= COLLECT_TRACES_EVERY)
      await this.traces.collect(ep, status.traceConfigMap);
    return this.act(ep, spec);
  }

  private async finalize(ep: ArenaEpisode): Promise<void> {
    const status = ep.status ?? {};
    if (status.run && hasFinalizer(ep, FINALIZER)) {
      try {
        const spec = toEpisodeSpec(ep.spec);
        const trace = await this.traces.current(ep).catch(() => undefined);
        if (trace) await this.opts.backendFor(ep, spec).cleanup(stepRun(ep, spec, status.run, trace));
        this.forgetRun(ep, status.run.name);
      } catch (e) {
        if (!(e instanceof InvalidEpisode)) throw e;
      }
    }
    await this.traces.collect(ep, undefined);
    this.traces.forgetStart(ep);
    if (hasFinalizer(ep, FINALIZER)) await removeFinalizer(this.accessor(ep), FINALIZER);
  }

  private async fail(ep: ArenaEpisode, reason: string, message: string, extra: ConditionUpdate[] = []): Promise<void> {
    this.log.warn('Episode failed', { episode: `${ep.metadata?.namespace}/${ep.metadata?.name}`, reason, message });
    await this.status.write(ep, { phase: 'Failed', stepPhase: 'Done', message }, [
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message },
      ...extra,
    ]);
    this.status.event(ep, 'Warning', reason, 'Validate', message);
    metrics.episodesFinished.inc({ backend: metrics.backendOf(ep), result: 'failed' });
  }

  /** The episode's policy; a learned table may come from a ConfigMap (parameters.modelConfigMap[, modelKey]). */
  private async policyFor(ep: ArenaEpisode): Promise<Policy> {
    const all: Record<string, string> = {
      ...ep.spec.policy?.parameters,
      ...(ep.spec.policy?.agentURL ? { url: ep.spec.policy.agentURL } : {}),
    };
    const { modelConfigMap, modelKey, ...params } = all;
    if ((ep.spec.policy?.name ?? 'heuristic') === 'external') await this.externalAgent(ep, params);
    if (modelConfigMap) {
      const namespace = ep.metadata!.namespace!;
      const key = modelKey ?? 'q-table.json';
      let cm: V1ConfigMap;
      try {
        cm = await this.core.readNamespacedConfigMap({ name: modelConfigMap, namespace });
      } catch (e) {
        if (isNotFound(e))
          throw new InvalidEpisode(
            `spec.policy.parameters.modelConfigMap: ConfigMap ${namespace}/${modelConfigMap} does not exist; create it from a trained model with: kubectl create configmap ${modelConfigMap} -n ${namespace} --from-file=${key}=model.json`,
          );
        throw e;
      }
      const table = cm.data?.[key];
      if (table === undefined)
        throw new InvalidEpisode(
          `ConfigMap ${namespace}/${modelConfigMap} has no key "${key}" (set spec.policy.parameters.modelKey)`,
        );
      params.table = table;
    }
    try {
      return getPolicy(ep.spec.policy?.name ?? 'heuristic', params);
    } catch (e) {
      if (e instanceof RangeError) throw new InvalidEpisode(`spec.policy: ${e.message}`);
      throw e;
    }
  }

  /** Forget what this process kept about a run whose objects are gone. */
  private forgetRun(ep: ArenaEpisode, runName: string): void {
    this.started.delete(`${ep.metadata!.uid}/${runName}`);
    this.polling.delete(runName);
    this.traces.forgetRun(ep, runName);
  }

  /** The external policy's checks: an allowed URL, and its token only from a Secret (the spec is readable by many). */
  private async externalAgent(ep: ArenaEpisode, params: Record<string, string>): Promise<void> {
    if (params.token !== undefined)
      throw new InvalidEpisode(
        'spec.policy.parameters.token would be readable by everyone who can read this episode; put the token in a Secret and set spec.policy.agentTokenSecretRef: {name, key}',
      );
    if (params.agentURL !== undefined)
      throw new InvalidEpisode('give the agent URL as spec.policy.agentURL, not as a parameter');
    try {
      checkAgentURL(params.url ?? '', this.opts.agentAllowlist ?? []);
    } catch (e) {
      if (e instanceof AgentURLError) throw new InvalidEpisode(e.message);
      throw e;
    }
    const ref = ep.spec.policy?.agentTokenSecretRef;
    if (!ref) return;
    const namespace = ep.metadata!.namespace!;
    const key = ref.key ?? 'token';
    let secret: V1Secret;
    try {
      secret = await this.core.readNamespacedSecret({ name: ref.name, namespace });
    } catch (e) {
      if (isNotFound(e))
        throw new InvalidEpisode(
          `spec.policy.agentTokenSecretRef: Secret ${namespace}/${ref.name} does not exist; create it with: kubectl create secret generic ${ref.name} -n ${namespace} --from-literal=${key}=TOKEN`,
        );
      throw e;
    }
    const b64 = secret.data?.[key];
    const token =
      b64 !== undefined ? Buffer.from(b64, 'base64').toString('utf8').trim() : secret.stringData?.[key]?.trim();
    if (!token)
      throw new InvalidEpisode(
        `spec.policy.agentTokenSecretRef: Secret ${namespace}/${ref.name} has no non-empty key "${key}" (set agentTokenSecretRef.key)`,
      );
    params.token = token;
  }

  // ---- status, events -------------------------------------------------------------------------------------

  private accessor(ep: ArenaEpisode) {
    return customObjectAccessor(this.custom, {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: ep.metadata!.namespace!,
      name: ep.metadata!.name!,
    });
  }

  private newRun(ep: ArenaEpisode, step: number): RunRecord {
    return { name: this.runName(ep, step), step, startTime: this.now().toISOString(), observed: null };
  }

  /** Deterministic per episode and step; ≤ 40 characters so backends can derive DNS names from it. */
  private runName(ep: ArenaEpisode, step: number): string {
    const uid = (ep.metadata?.uid ?? '').replace(/-/g, '').slice(0, 8);
    const base = ep
      .metadata!.name!.toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 24)
      .replace(/-+$/, '');
    return `${base}-${uid}-s${step}`;
  }
}

/** Rewards add up in floating point; keep the printed total short (−2.15, not −2.1500000000000004). */
function roundReward(x: number): number {
  return Math.round(x * 1e12) / 1e12;
}

/** An accessor whose first read is `obj` (a copy we trust to be recent); a guarded patch that fails reads again. */
function startingFrom(accessor: ObjectAccessor, obj: ArenaEpisode): ObjectAccessor {
  let first: ArenaEpisode | undefined = obj;
  return {
    get: async () => {
      const o = first;
      first = undefined;
      return o ?? accessor.get();
    },
    jsonPatch: (ops) => accessor.jsonPatch(ops),
  };
}

/** The replay of one step, as every backend call (start, poll, cleanup) gets it. */
function stepRun(ep: ArenaEpisode, spec: EpisodeSpec, run: RunRecord, trace: Trace): StepRun {
  // The run's step fixes the usage window it observes (with usage).
  const opts = runOptions(spec, run.name, run.step);
  return {
    name: run.name,
    episode: ep.metadata!.name!,
    trace,
    workload: spec.workload,
    opts,
    startedAt: Date.parse(run.startTime),
  };
}
