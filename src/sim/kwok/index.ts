// The kwok backend: replay the trace's workloads into a per-run namespace on per-run KWOK nodes of a real
// cluster, let the real kube-scheduler decide, observe, clean up. No SimKube needed.
import { createHash } from 'node:crypto';
import {
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Observation } from '../../arena/observation.js';
import { effectivePool, poolNodes as readPool } from '../../trace/nodepool.js';
import { getIn, getMap, toPlain } from '../../trace/model.js';
import type { MsgMap } from '../../trace/msgpack.js';
import { isNodeObject, traceEvents, type Trace } from '../../trace/trace.js';
import { formatWorkload, type WorkloadRef } from '../../trace/workload.js';
import { encodeTrace } from '../../trace/trace.js';
import { apiErrorCode, apiErrorMessage, isNotFound } from '../../kube/errors.js';
import { loadKubeConfig } from '../../kube/config.js';
import { mergePatchOptions } from '../../kube/custom-objects.js';
import {
  DEFAULT_NODE_POOL,
  runToCompletion,
  type Backend,
  type PhasedBackend,
  type PollResult,
  type RunOptions,
  type StepRun,
} from '../../arena/backend.js';
import type { BackendOptions } from '../options.js';
import { isSettled, labelSelector, observePods } from '../pods.js';
import { applyUsageToKwokPods } from './usage.js';
import { kwokNode, poolNodes, projectObject } from './project.js';
import { APPLIED_ANNOTATION, MANAGED_BY, POOL_LABEL, RUN_LABEL } from '../../api/names.js';
import { KwokCache } from './cache.js';
import { BoundedMap } from '../../util/bounded-map.js';
import { HookFailed, hasHooks, type EpisodeHooks } from '../../arena/hooks.js';
import { HookJobs, type HookJobOptions } from './hooks.js';

export class BackendError extends Error {
  override name = 'BackendError';
}

export interface KwokOptions {
  /** Give up waiting for pods to settle after this long (ms). */
  settleTimeoutMs?: number;
  /** How long a poll asks to wait before the next one (default 150–200 ms; 1 s when watching). */
  pollMs?: number;
  /**
   * Watch the runs' nodes and pods instead of listing them on every poll, and tell onRunChange listeners when they
   * change (the operator, which drives many runs at once and polls again when told).
   */
  watch?: boolean;
  /** Commands run as Jobs around each replay (ArenaEpisode spec.hooks; hooks.ts). */
  hooks?: EpisodeHooks;
  /** Where and how the hook Jobs run. */
  hookJobs?: HookJobOptions;
}

const FIELD_MANAGER = 'sim-arena';
/** Namespace annotation: the run's events have been applied (so a repeated poll never re-applies them). */

export class KwokBackend implements Backend, PhasedBackend {
  readonly name = 'kwok' as const;
  private readonly core: CoreV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly cache?: KwokCache;
  private readonly hookJobs?: HookJobs;
  /**
   * Whether each run's events are applied, once known: read from the namespace's annotation the first time this
   * process polls the run, then kept here (only this process applies them while it drives the run).
   */
  private readonly applied = new BoundedMap<string, boolean>({ maxEntries: 100_000 });

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: KwokOptions = {},
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    if (opts.watch) this.cache = new KwokCache(kc);
    if (hasHooks(opts.hooks)) this.hookJobs = new HookJobs(kc, opts.hooks!, opts.hookJobs);
  }

  /** With `watch`: calls `listener` with a run's name whenever its nodes or pods change. */
  onRunChange(listener: (run: string) => void): void {
    this.cache?.onChange(listener);
  }

  async close(): Promise<void> {
    await this.cache?.stop();
  }

  async run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation> {
    const run: StepRun = { name: runName(trace, opts), trace, workload, opts, startedAt: Date.now() };
    try {
      return await runToCompletion(this, run);
    } catch (e) {
      if (e instanceof BackendError || e instanceof HookFailed || (e as Error).name === 'AbortError') throw e;
      throw new BackendError(`kwok backend, run ${run.name}: ${apiErrorMessage(e)}`);
    }
  }

  /**
   * Namespace and the run's nodes. Idempotent and cheap: the operator may call it on every poll. With hooks, only the
   * run's hooks record: the set-up waits for the preStart hooks (poll).
   */
  async start(run: StepRun): Promise<void> {
    if (this.hookJobs) return this.hookJobs.ensureRecord(run);
    await this.setup(run);
  }

  private async setup(run: StepRun): Promise<void> {
    await ignoreExists(
      this.core.createNamespace({
        body: { metadata: { name: run.name, labels: { ...MANAGED_BY, [RUN_LABEL]: run.name } } },
      }),
    );
    const shapes = poolNodes(readPool(effectivePool(run.trace, run.opts.nodePool ?? DEFAULT_NODE_POOL)), run.name);
    await Promise.all(shapes.map((n) => ignoreExists(this.core.createNode({ body: kwokNode(n, run.name) }))));
  }

  /**
   * Waits for the run's nodes to be Ready without the not-ready taint (a pod tried earlier would be marked
   * Unschedulable and look settled), then replays the events once, then observes when the pods have settled.
   */
  async poll(run: StepRun): Promise<PollResult> {
    return this.hookJobs ? this.pollWithHooks(run, this.hookJobs) : this.pollReplay(run, run.startedAt);
  }

  /**
   * SimKube's stage points around the replay: preStart, set-up, preRun, replay and observe, postRun, clean-up,
   * postStop; the observation is returned once postStop is done. Each step is recorded on the run's hooks ConfigMap.
   */
  private async pollWithHooks(run: StepRun, hooks: HookJobs): Promise<PollResult> {
    const rec = await hooks.read(run);
    let observation = hooks.observation(rec) as Observation | undefined;
    // A failed preRun or postRun hook still gets clean-up and the postStop hooks, as sk-ctrl runs them for a Failed
    // Simulation; the run then fails with the first failure. A failed preStart does not: SimKube's Simulation never
    // leaves Initializing, so nothing was set up and no postStop runs.
    let failed = hooks.failedBeforeStop(rec);
    if (!hooks.cleaned(rec)) {
      if (!failed)
        try {
          if (!observation) {
            const pre = await hooks.stage(run, rec, 'preStart');
            if (pre) return pre;
            let setupAt = hooks.setupAt(rec);
            if (setupAt === undefined) {
              await this.setup(run);
              await hooks.markSetup(run, rec);
              setupAt = hooks.setupAt(rec)!;
            }
            const r = await this.pollReplay(run, setupAt, () => hooks.stage(run, rec, 'preRun'));
            if (!r.observation) return r;
            observation = r.observation;
            await hooks.keepObservation(run, rec, observation);
          }
          const post = await hooks.stage(run, rec, 'postRun');
          if (post) return post;
        } catch (e) {
          if (!(e instanceof HookFailed) || hooks.setupAt(rec) === undefined) throw e;
          failed = e;
        }
      await this.teardown(run);
      await hooks.markCleaned(run, rec);
    }
    const stop = await hooks.stage(run, rec, 'postStop').catch((e: unknown) => {
      if (!(e instanceof HookFailed) || !failed) throw e;
      failed = new HookFailed(`${failed.message}; the postStop hooks that ran after it failed too: ${e.message}`);
    });
    if (stop) return stop;
    if (failed) throw failed;
    return { observation: observation!, hooks: hooks.runs(rec) };
  }

  private async pollReplay(
    run: StepRun,
    startedAt: number,
    beforeReplay?: () => Promise<PollResult | undefined>,
  ): Promise<PollResult> {
    const timeoutMs = this.opts.settleTimeoutMs ?? (run.opts.durationSeconds ?? 60) * 1000;
    const late = Date.now() - startedAt > timeoutMs;
    const cache = this.cache;
    if (cache) await cache.ready();
    const waitMs = this.opts.pollMs ?? (cache ? 1000 : 150);
    if (!this.applied.has(run.name)) {
      const ns = await this.core.readNamespace({ name: run.name });
      this.remember(run.name, ns.metadata?.annotations?.[APPLIED_ANNOTATION] === 'true');
    }
    if (!this.applied.get(run.name)) {
      const nodes = cache
        ? cache.poolNodes(run.name)
        : (await this.core.listNode({ labelSelector: `${POOL_LABEL}=${run.name}` })).items;
      const ready = nodes.filter(
        (n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'),
      );
      const expected = poolNodes(
        readPool(effectivePool(run.trace, run.opts.nodePool ?? DEFAULT_NODE_POOL)),
        run.name,
      ).length;
      if (ready.length < expected) {
        if (late)
          throw new BackendError(
            `only ${ready.length} of ${expected} KWOK nodes became Ready in ${Math.round(timeoutMs / 1000)}s; is the kwok controller running?`,
          );
        return {
          waitMs: this.opts.pollMs ?? (cache ? 1000 : 200),
          waiting: { reason: 'NodesStarting', message: `${ready.length}/${expected} KWOK nodes ready` },
        };
      }
      const before = await beforeReplay?.();
      if (before) return before;
      await this.replay(run);
      await this.core.patchNamespace(
        { name: run.name, body: { metadata: { annotations: { [APPLIED_ANNOTATION]: 'true' } } } },
        mergePatchOptions(),
      );
      this.remember(run.name, true);
      return { waitMs, waiting: { reason: 'PodsSettling', message: 'workloads applied' } };
    }
    const pods = (cache ? this.cachedPodsOf(cache, run) : await this.podsOf(run)).filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
    const expected = expectedPods(run.trace, run.workload);
    const settled = (expected === undefined || pods.length === expected) && pods.every(isSettled);
    if (settled) return { observation: run.opts.usage ? await this.observeUsage(run, pods) : observePods(pods) };
    if (late) {
      if (expected !== undefined && pods.length < expected) {
        throw new BackendError(
          `${formatWorkload(run.workload)}: only ${pods.length} of ${expected} pods exist after ${Math.round(timeoutMs / 1000)}s; is kube-controller-manager running?`,
        );
      }
      return { observation: observePods(pods) };
    }
    return {
      waitMs,
      waiting: {
        reason: 'PodsSettling',
        message: `${pods.filter(isSettled).length}/${expected ?? pods.length} pods settled`,
      },
    };
  }

  /** With usage: the usage model on the real placements, its verdict written into the pods' status (usage.ts). */
  private async observeUsage(run: StepRun, pods: V1Pod[]): Promise<Observation> {
    const nodes = this.cache
      ? this.cache.poolNodes(run.name)
      : (await this.core.listNode({ labelSelector: `${POOL_LABEL}=${run.name}` })).items;
    const all = (await this.core.listNamespacedPod({ namespace: run.name })).items;
    return applyUsageToKwokPods(this.core, run.name, run.trace, run.workload, run.opts.usage!, pods, all, nodes);
  }

  private remember(run: string, applied: boolean): void {
    this.applied.set(run, applied);
  }

  /** Every event in order: server-side apply, deletions delete. Idempotent. */
  private async replay(run: StepRun): Promise<void> {
    for (const ev of traceEvents(run.trace)) {
      for (const obj of ev.applied) {
        if (isNodeObject(obj)) continue;
        await this.objects.patch(
          projectObject(obj, { namespace: run.name, run: run.name, pool: run.name }),
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
      }
      for (const obj of ev.deleted) {
        if (isNodeObject(obj)) continue;
        const target = {
          apiVersion: obj.get('apiVersion'),
          kind: obj.get('kind'),
          metadata: { name: getIn(obj, ['metadata', 'name']), namespace: run.name },
        } as KubernetesObject;
        try {
          await this.objects.delete(target, undefined, undefined, 0, undefined, 'Background');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }

  async cleanup(run: StepRun): Promise<void> {
    await this.teardown(run);
    await this.hookJobs?.remove(run);
  }

  /** The run's namespace and nodes go. */
  private async teardown(run: StepRun): Promise<void> {
    this.applied.delete(run.name);
    await this.core.deleteNamespace({ name: run.name, propagationPolicy: 'Background' }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    await this.core.deleteCollectionNode({ labelSelector: `${POOL_LABEL}=${run.name}` });
  }

  private async podsOf(run: StepRun): Promise<V1Pod[]> {
    const { workload, trace } = run;
    if (workload.kind === 'Pod')
      return (
        await this.core.listNamespacedPod({ namespace: run.name, fieldSelector: `metadata.name=${workload.name}` })
      ).items;
    const selector = selectorFor(trace, workload);
    return (
      await this.core.listNamespacedPod({ namespace: run.name, ...(selector ? { labelSelector: selector } : {}) })
    ).items;
  }

  /** The same pods as podsOf, from the watch. */
  private cachedPodsOf(cache: KwokCache, run: StepRun): V1Pod[] {
    const { workload, trace } = run;
    const pods = cache.runPods(run.name);
    if (workload.kind === 'Pod') return pods.filter((p) => p.metadata?.name === workload.name);
    const labels = Object.entries(selectorLabels(trace, workload) ?? {});
    return pods.filter((p) => labels.every(([k, v]) => p.metadata?.labels?.[k] === v));
  }
}

async function ignoreExists<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (apiErrorCode(e) === 409) return undefined;
    throw e;
  }
}

function matches(o: MsgMap, w: WorkloadRef): boolean {
  return (
    o.get('kind') === w.kind &&
    getIn(o, ['metadata', 'name']) === w.name &&
    getIn(o, ['metadata', 'namespace']) === w.namespace
  );
}

function lastApplied(trace: Trace, w: WorkloadRef): MsgMap | undefined {
  let last: MsgMap | undefined;
  let deleted = false;
  for (const ev of traceEvents(trace)) {
    for (const o of ev.applied) if (matches(o, w)) ((last = o), (deleted = false));
    for (const o of ev.deleted) if (matches(o, w)) deleted = true;
  }
  return deleted ? undefined : last;
}

/** Pods the workload should have at the end of the replay, when that is knowable from its spec. */
export function expectedPods(trace: Trace, w: WorkloadRef): number | undefined {
  const obj = lastApplied(trace, w);
  if (!obj) return 0;
  if (w.kind === 'Pod') return 1;
  if (w.kind === 'Deployment' || w.kind === 'ReplicaSet' || w.kind === 'StatefulSet') {
    const r = getIn(obj, ['spec', 'replicas']);
    return typeof r === 'number' ? r : 1;
  }
  return undefined;
}

/** The workload's pod selector (matchLabels), or its pod template labels. */
export function selectorLabels(trace: Trace, w: WorkloadRef): Record<string, string> | undefined {
  const obj = lastApplied(trace, w);
  if (!obj) return undefined;
  if (w.kind === 'Pod') return undefined;
  const ml =
    getMap(obj, ['spec', 'selector', 'matchLabels']) ?? getMap(obj, ['spec', 'template', 'metadata', 'labels']);
  return ml ? (toPlain(ml) as Record<string, string>) : undefined;
}

export function selectorFor(trace: Trace, w: WorkloadRef): string | undefined {
  const labels = selectorLabels(trace, w);
  return labels ? labelSelector(labels) : undefined;
}

/** Namespaces and node names derive from the run name: a short content hash unless the caller names the run. */
export function runName(trace: Trace, opts: RunOptions): string {
  if (opts.runName) return opts.runName;
  const h = createHash('sha256')
    .update(encodeTrace(trace))
    .update(String(opts.seed))
    .update(String(process.hrtime.bigint()))
    .digest('hex');
  return `sa-run-${h.slice(0, 10)}`;
}

export function createKwokBackend(opts: BackendOptions & KwokOptions = {}): KwokBackend {
  const kc = opts.kc ?? loadKubeConfig(opts.kubeconfig);
  return new KwokBackend(kc, opts);
}
