// The simkube backend: hand each replay to a real SimKube (sk-ctrl + sk-driver) and observe the workload's pods in
// the virtual namespace it replays into.
//
// Phases of one StepRun (all idempotent; the operator calls poll repeatedly and never sleeps):
//   start   pre-start hooks (delete older Simulations of the episode, delete leftovers of a crashed run in the
//           virtual namespace), then write the trace into a content-addressed ConfigMap.
//   poll    until every trace-sync pod has copied the ConfigMap to its node: waiting TraceSyncing. Then create the
//           Simulation (file:// tracePath), follow its state, and observe the pods once they settle (or time is up).
//   cleanup delete the Simulation (Foreground; SimKube's garbage collection removes the virtual namespace).
import type { KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { Observation } from '../../arena/observation.js';
import { HOOK_STAGES, HookFailed, hasHooks, type EpisodeHooks } from '../../arena/hooks.js';
import { apiErrorMessage } from '../../kube/errors.js';
import { loadKubeConfig } from '../../kube/config.js';
import { getIn } from '../../trace/model.js';
import { encodeTrace, traceEvents, type Trace } from '../../trace/trace.js';
import { formatWorkload, type WorkloadRef } from '../../trace/workload.js';
import {
  runToCompletion,
  type Backend,
  type PhasedBackend,
  type PollResult,
  type RunOptions,
  type StepRun,
} from '../../arena/backend.js';
import type { BackendOptions } from '../options.js';
import { expectedPods, runName, selectorFor } from '../kwok/index.js';
import { isSettled, observePods } from '../pods.js';
import { simkubeTrapChecks, type Check } from '../preflight.js';
import {
  DEFAULT_TRACE_DIR,
  DEFAULT_TRACE_SYNC_SELECTOR,
  INVALID_TRACE_PREFIX,
  MAX_CONFIGMAP_BYTES,
  sha256Hex,
  syncedAnnotation,
  syncErrorAnnotation,
  traceConfigMap,
  traceConfigMapName,
  traceFileName,
} from './contract.js';
import { MANAGED_BY_SELECTOR, TRACE_LABEL } from '../../api/names.js';
import { Kube, objectPath, type Obj } from '../../kube/client.js';
import { simulationPath, SIMULATIONS_PATH } from './simulation.js';
import { timeMs } from '../../kube/time.js';
import { driverError, hookFailures, lockHolder, replayStartedMs, simulationEvents } from './diagnose.js';
import { replayableBySimkube } from './replayable.js';
import {
  buildSimulation,
  DEFAULT_DRIVER_IMAGE,
  DEFAULT_DRIVER_NAMESPACE,
  DEFAULT_VIRTUAL_NS_PREFIX,
  fileTracePath,
  labelValue,
  SIMKUBE_SIM_LABEL,
  simulationName,
  TERMINAL_STATES,
  virtualNamespace,
  type Simulation,
} from './simulation.js';
import { EPISODE_LABEL, TRACE_CONFIGMAP_ANNOTATION } from '../../api/names.js';
import { applyUsageToSimkubePods, storedUsageFields } from './usage.js';

/** Where a taken observation waits on its Simulation until SimKube finishes it (JSON). */
export const OBSERVATION_ANNOTATION = 'simarena.io/observation';
/** The driver's failure, seen while its pod still existed (sk-ctrl's cleanup has the pod garbage-collected). */
export const DRIVER_ERROR_ANNOTATION = 'simarena.io/driver-error';

function storedObservation(sim: Simulation): Observation | undefined {
  const raw = sim.metadata?.annotations?.[OBSERVATION_ANNOTATION];
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as Observation;
    if (![o.ready, o.pending, o.total].every((n) => Number.isInteger(n) && n >= 0)) return undefined;
    return { ready: o.ready, pending: o.pending, total: o.total, ...storedUsageFields(o) };
  } catch {
    return undefined;
  }
}

export class SimkubeError extends Error {
  override name = 'SimkubeError';
}

export interface SimkubeOptions {
  /** Where trace ConfigMaps and the trace-sync pods live. Default: env POD_NAMESPACE, else sim-arena. */
  operatorNamespace?: string;
  /** The trace-sync DaemonSet's --dir on every node (the driver's hostPath). Default /var/lib/sim-arena/traces. */
  traceDir?: string;
  driverImage?: string;
  /** Must be the namespace sk-ctrl runs in. Default simkube. */
  driverNamespace?: string;
  virtualNsPrefix?: string;
  /** SimKube's speed factor (divides the gaps between events). Default 1. */
  speed?: number;
  traceSyncSelector?: string;
  /** Observe at the latest this fraction of duration/speed after the driver applied the trace's first objects. Default 0.8. */
  observeFraction?: number;
  /** A Running Simulation whose driver has not begun replaying this long after it started is an error. Default 180000. */
  driverStartTimeoutMs?: number;
  /**
   * Once observed, let SimKube finish the Simulation (driver cleanup, PostRun/PostStop hooks, state Finished) before
   * the step completes; the observation waits on the Simulation meanwhile. false: complete the step at once and
   * delete the Simulation mid-replay. Default true.
   */
  awaitFinish?: boolean;
  /** A Retrying Simulation older than this is an error (Retrying can be a passing API error). Default 60000. */
  retryGraceMs?: number;
  /** A Simulation with no state, or still Initializing, this long after creation is an error. Default 300000. */
  setupTimeoutMs?: number;
  /** Trace ConfigMaps no Simulation refers to are deleted once older than this (ms). Default 120000. */
  traceGraceMs?: number;
  /** Poll intervals suggested to the caller (ms). */
  pollMs?: { sync?: number; blocked?: number; starting?: number; settling?: number };
  /**
   * The episode a run belongs to (for the `simarena.io/episode` label and the "older Simulation of this episode"
   * hook). Default: `run.episode` when the caller sets one, else the run name without a trailing `-s<step>`.
   */
  episodeOf?: (run: StepRun) => string | undefined;
  /** Commands SimKube runs around each replay (ArenaEpisode spec.hooks, src/arena/hooks.ts). */
  hooks?: EpisodeHooks;
  /** Injected REST client (tests). */
  kube?: Kube;
}

type Resolved = Required<Omit<SimkubeOptions, 'kube' | 'episodeOf' | 'pollMs' | 'hooks'>> & {
  hooks: EpisodeHooks;
  pollMs: Required<NonNullable<SimkubeOptions['pollMs']>>;
};

interface ConfigMap extends Obj {
  binaryData?: Record<string, string>;
  data?: Record<string, string>;
}

interface PodObj extends Obj {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** Sync progress of one trace ConfigMap across the trace-sync pods' nodes. */
export interface SyncState {
  nodes: string[];
  synced: string[];
  pending: string[];
  errors: Array<{ node: string; error: string }>;
}

/**
 * The episode of a run: `run.episode` if the caller set one, else the operator's run name `<episode>-s<step>` minus
 * the step. Anything else (e.g. the CLI's `sa-run-<hash>`) has no episode, so no other Simulation is ever deleted.
 */
export function defaultEpisodeOf(run: StepRun): string | undefined {
  const explicit = (run as StepRun & { episode?: unknown }).episode;
  if (typeof explicit === 'string' && explicit) return explicit;
  return /^(.+)-s\d+$/.exec(run.name)?.[1];
}

export class SimkubeBackend implements Backend, PhasedBackend {
  readonly name = 'simkube' as const;
  readonly kube: Kube;
  readonly opts: Resolved;
  private readonly stepSeconds: number | undefined;
  private readonly episodeOf: (run: StepRun) => string | undefined;
  private readonly driverFailures = new Map<string, string>();

  constructor(kc: KubeConfig | undefined, opts: SimkubeOptions & BackendOptions = {}) {
    if (!opts.kube && !kc) throw new SimkubeError('simkube backend needs a kubeconfig');
    this.kube = opts.kube ?? Kube.of(kc!);
    this.stepSeconds = opts.stepSeconds;
    this.episodeOf = opts.episodeOf ?? defaultEpisodeOf;
    this.opts = {
      operatorNamespace: opts.operatorNamespace ?? process.env.POD_NAMESPACE ?? 'sim-arena',
      traceDir: opts.traceDir ?? DEFAULT_TRACE_DIR,
      driverImage: opts.driverImage ?? DEFAULT_DRIVER_IMAGE,
      driverNamespace: opts.driverNamespace ?? DEFAULT_DRIVER_NAMESPACE,
      virtualNsPrefix: opts.virtualNsPrefix ?? DEFAULT_VIRTUAL_NS_PREFIX,
      speed: opts.speed ?? 1,
      traceSyncSelector: opts.traceSyncSelector ?? DEFAULT_TRACE_SYNC_SELECTOR,
      observeFraction: opts.observeFraction ?? 0.8,
      retryGraceMs: opts.retryGraceMs ?? 60_000,
      traceGraceMs: opts.traceGraceMs ?? 120_000,
      setupTimeoutMs: opts.setupTimeoutMs ?? 300_000,
      driverStartTimeoutMs: opts.driverStartTimeoutMs ?? 180_000,
      awaitFinish: opts.awaitFinish ?? true,
      hooks: opts.hooks ?? {},
      pollMs: { sync: 1000, blocked: 5000, starting: 2000, settling: 1000, ...opts.pollMs },
    };
    if (!(this.opts.speed > 0) || !Number.isFinite(this.opts.speed))
      throw new RangeError(`simkube speed must be a positive number, got ${this.opts.speed}`);
    if (!this.opts.traceDir.startsWith('/'))
      throw new RangeError(`simkube traceDir must be an absolute path, got "${this.opts.traceDir}"`);
  }

  async run(trace: Trace, workload: WorkloadRef, opts: RunOptions): Promise<Observation> {
    const run: StepRun = { name: runName(trace, opts), trace, workload, opts, startedAt: Date.now() };
    try {
      return await runToCompletion(this, run);
    } catch (e) {
      if (e instanceof SimkubeError || e instanceof HookFailed || (e as Error).name === 'AbortError') throw e;
      throw new SimkubeError(`simkube backend, run ${run.name}: ${apiErrorMessage(e)}`);
    }
  }

  // ------------------------------------------------------------------------------------------- naming

  simulationName(run: StepRun): string {
    return simulationName(run.name);
  }

  virtualNamespace(run: StepRun): string {
    return virtualNamespace(this.opts.virtualNsPrefix, run.workload.namespace);
  }

  /** Seconds the replay runs (SimKube `duration`): the run's durationSeconds, else stepSeconds, else 30. */
  durationSeconds(run: StepRun): number {
    return run.opts.durationSeconds ?? this.stepSeconds ?? 30;
  }

  /** The bytes SimKube's driver replays: the run's trace, minus what that driver cannot replay (replayable.ts). */
  traceBytes(run: StepRun): Uint8Array {
    return encodeTrace(replayableBySimkube(run.trace).trace);
  }

  /** What traceBytes changed in the run's trace to make it replayable by SimKube, one sentence each. */
  traceNotes(run: StepRun): string[] {
    return replayableBySimkube(run.trace).notes;
  }

  // ------------------------------------------------------------------------------------------- start

  /** Pre-start hooks, then the trace ConfigMap. Safe to call again at any time. */
  async start(run: StepRun): Promise<void> {
    const sim = await this.kube.get<Simulation>(simulationPath(this.simulationName(run)));
    if (!sim) {
      // Only before our Simulation exists: afterwards the virtual namespace holds this run's own objects.
      await this.deleteOlderSimulations(run);
      await this.deleteLeftovers(run);
    }
    await this.ensureConfigMap(run);
  }

  /** Older Simulations sim-arena made for the same episode (other runs); returns those still present. */
  async olderSimulations(run: StepRun): Promise<Simulation[]> {
    const episode = this.episodeOf(run);
    if (!episode) return [];
    const sims = await this.kube.list<Simulation>(SIMULATIONS_PATH, {
      labelSelector: `${MANAGED_BY_SELECTOR},${EPISODE_LABEL}=${labelValue(episode)}`,
    });
    const mine = this.simulationName(run);
    return sims.filter((s) => s.metadata?.name && s.metadata.name !== mine);
  }

  private async deleteOlderSimulations(run: StepRun): Promise<void> {
    for (const s of await this.olderSimulations(run)) {
      if (!s.metadata?.deletionTimestamp)
        await this.kube.delete(simulationPath(s.metadata!.name!), { propagationPolicy: 'Foreground' });
    }
  }

  /**
   * Deletes the workload (and its pods) in the virtual namespace when they belong to no live Simulation: a crashed
   * earlier run left them there, and they would hold capacity on the shared KWOK nodes.
   */
  async deleteLeftovers(run: StepRun): Promise<number> {
    const vns = this.virtualNamespace(run);
    const ns = await this.kube.get(`/api/v1/namespaces/${vns}`);
    if (!ns || ns.metadata?.deletionTimestamp) return 0;
    const live = new Set(
      (await this.kube.list<Simulation>(SIMULATIONS_PATH))
        .filter((s) => !s.metadata?.deletionTimestamp && !TERMINAL_STATES.has(String(s.status?.state ?? '')))
        .map((s) => s.metadata?.name),
    );
    const leftover = (o: Obj | undefined): boolean => {
      if (!o || o.metadata?.deletionTimestamp) return false;
      const owner = o.metadata?.labels?.[SIMKUBE_SIM_LABEL];
      return !owner || !live.has(owner);
    };
    let deleted = 0;
    const { kind, name } = run.workload;
    const apiVersion = this.workloadApiVersion(run);
    const path = objectPath(apiVersion, kind, vns, name);
    if (leftover(await this.kube.get(path)) && (await this.kube.delete(path, { propagationPolicy: 'Background' })))
      deleted++;
    if (kind !== 'Pod') {
      const selector = selectorFor(run.trace, run.workload);
      if (selector) {
        for (const p of await this.kube.list<PodObj>(`/api/v1/namespaces/${vns}/pods`, { labelSelector: selector })) {
          if (
            leftover(p) &&
            (await this.kube.delete(`/api/v1/namespaces/${vns}/pods/${p.metadata!.name!}`, { gracePeriodSeconds: 0 }))
          )
            deleted++;
        }
      }
    }
    return deleted;
  }

  private workloadApiVersion(run: StepRun): string {
    for (const ev of traceEvents(run.trace)) {
      for (const o of ev.applied) {
        if (o.get('kind') === run.workload.kind && getIn(o, ['metadata', 'name']) === run.workload.name)
          return String(o.get('apiVersion'));
      }
    }
    return run.workload.kind === 'Pod'
      ? 'v1'
      : run.workload.kind === 'Job' || run.workload.kind === 'CronJob'
        ? 'batch/v1'
        : 'apps/v1';
  }

  /** The content-addressed trace ConfigMap (created once; its content never changes). Returns its name. */
  async ensureConfigMap(run: StepRun): Promise<{ name: string; sha: string }> {
    const bytes = this.traceBytes(run);
    if (bytes.length > MAX_CONFIGMAP_BYTES) {
      throw new SimkubeError(
        `the trace is ${bytes.length} bytes; a ConfigMap holds at most ${MAX_CONFIGMAP_BYTES} (1 MiB), so the simkube backend cannot deliver it. Trim the trace (fewer events/objects) or use the kwok backend`,
      );
    }
    const name = traceConfigMapName(bytes);
    const path = `/api/v1/namespaces/${encodeURIComponent(this.opts.operatorNamespace)}/configmaps`;
    if (!(await this.kube.get(`${path}/${name}`)))
      await this.kube.create(path, traceConfigMap(name, this.opts.operatorNamespace, bytes));
    return { name, sha: sha256Hex(bytes) };
  }

  // ------------------------------------------------------------------------------------------- trace sync

  /** Which trace-sync nodes have written the ConfigMap's bytes. Throws when no ConfigMap exists. */
  async syncState(configMap: string, sha: string): Promise<SyncState> {
    const ns = encodeURIComponent(this.opts.operatorNamespace);
    const cm = await this.kube.get<ConfigMap>(`/api/v1/namespaces/${ns}/configmaps/${configMap}`);
    if (!cm) throw new SimkubeError(`trace ConfigMap ${this.opts.operatorNamespace}/${configMap} vanished`);
    const pods = await this.kube.list<PodObj>(`/api/v1/namespaces/${ns}/pods`, {
      labelSelector: this.opts.traceSyncSelector,
    });
    const nodes = [
      ...new Set(
        pods
          .filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName && !p.metadata?.deletionTimestamp)
          .map((p) => p.spec!.nodeName!),
      ),
    ].sort();
    const ann = cm.metadata?.annotations ?? {};
    const synced = nodes.filter((n) => ann[syncedAnnotation(n)] === sha);
    const pending = nodes.filter((n) => ann[syncedAnnotation(n)] !== sha);
    const errors = pending.flatMap((n) => {
      const error = ann[syncErrorAnnotation(n)];
      return error ? [{ node: n, error }] : [];
    });
    return { nodes, synced, pending, errors };
  }

  private syncWaiting(cm: string, st: SyncState): PollResult {
    const ns = this.opts.operatorNamespace;
    if (st.nodes.length === 0) {
      return {
        waitMs: this.opts.pollMs.blocked,
        waiting: {
          reason: 'TraceSyncUnavailable',
          message: `no Running trace-sync pod (${this.opts.traceSyncSelector}) in namespace ${ns}: SimKube's driver reads the trace from the node's disk, so sim-arena's trace-sync DaemonSet must copy ConfigMap ${cm} to ${this.opts.traceDir} on every node. Deploy it (sim-arena trace-sync --dir ${this.opts.traceDir}, NODE_NAME from spec.nodeName, hostPath ${this.opts.traceDir}) or check it with \`sim-arena preflight --backend simkube\``,
        },
      };
    }
    const errs = st.errors.map((e) => `${e.node}: ${e.error}`).join('; ');
    if (st.errors.length) {
      return {
        waitMs: this.opts.pollMs.sync,
        waiting: {
          reason: 'TraceSyncFailed',
          message: `trace-sync could not write ${cm} on ${st.errors.length} node(s): ${errs}`,
        },
      };
    }
    return {
      waitMs: this.opts.pollMs.sync,
      waiting: {
        reason: 'TraceSyncing',
        message: `waiting for trace-sync to copy ${cm} to ${st.pending.length} of ${st.nodes.length} node(s): ${st.pending.slice(0, 5).join(', ')}${st.pending.length > 5 ? ', …' : ''}`,
      },
    };
  }

  // ------------------------------------------------------------------------------------------- poll

  async poll(run: StepRun): Promise<PollResult> {
    const name = this.simulationName(run);
    const sim = await this.kube.get<Simulation>(simulationPath(name));
    if (!sim) return this.createWhenReady(run, name);
    if (sim.metadata?.deletionTimestamp) {
      return {
        waitMs: this.opts.pollMs.starting,
        waiting: {
          reason: 'SimulationDeleting',
          message: `Simulation ${name} is being deleted; it will be created again once it is gone`,
        },
      };
    }
    const state = sim.status?.state ?? undefined;
    const age = Date.now() - (timeMs(sim.metadata?.creationTimestamp) ?? Date.now());
    if (state === 'Running') await this.noteDriverFailure(sim);
    // sk-ctrl retries a failed preStart hook on every reconcile without marking the Simulation Failed: the hook's
    // event is the only sign, so a hook that failed (ignoreFailure: false) ends the run at once, in SimKube's words.
    if (
      (state === 'Initializing' || state === 'Retrying' || state === 'Running') &&
      hasHooks(this.opts.hooks) &&
      hookFailures(await simulationEvents(this.kube, name)).length > 0
    )
      throw new HookFailed(await this.failAndRelease(sim, 'stopped by a failed hook'));
    switch (state) {
      case 'Blocked':
        return {
          waitMs: this.opts.pollMs.blocked,
          waiting: { reason: 'SimulationBlocked', message: await this.blockedMessage(name) },
        };
      case 'Paused':
        return {
          waitMs: this.opts.pollMs.blocked,
          waiting: {
            reason: 'SimulationPaused',
            message: `Simulation ${name} is paused (spec.pausedTime is set); resume it with a merge patch setting spec.pausedTime to null`,
          },
        };
      case 'Failed': {
        // A failed preRun/postRun hook makes the driver exit, so SimKube marks the Simulation Failed.
        const hookFailed =
          hasHooks(this.opts.hooks) && hookFailures(await simulationEvents(this.kube, name)).length > 0;
        const why = await this.failAndRelease(sim, 'Failed');
        throw hookFailed ? new HookFailed(why) : new SimkubeError(why);
      }
      case 'Retrying': {
        if (age > this.opts.retryGraceMs) throw new SimkubeError(await this.failAndRelease(sim, 'Retrying'));
        return {
          waitMs: this.opts.pollMs.starting,
          waiting: {
            reason: 'SimulationRetrying',
            message: `sk-ctrl is retrying setup of Simulation ${name} (an error in its reconcile); giving it ${Math.round(this.opts.retryGraceMs / 1000)}s`,
          },
        };
      }
      case 'Finished': {
        const kept = storedObservation(sim);
        if (kept) return { observation: kept, ...(await this.hookRuns(sim)) };
        throw new SimkubeError(
          `Simulation ${name} finished before sim-arena could observe ${formatWorkload(run.workload)}; raise stepDuration (now ${this.durationSeconds(run)}s at speed ${this.opts.speed}) so the replay outlives the observation`,
        );
      }
      case 'Initializing':
        if (age > this.opts.setupTimeoutMs)
          throw new SimkubeError(await this.failAndRelease(sim, `still Initializing after ${Math.round(age / 1000)}s`));
        return this.observe(run, sim);
      case 'Running':
        if (storedObservation(sim)) return this.awaitingFinish(run, sim);
        return this.observe(run, sim);
      default:
        if (age > this.opts.setupTimeoutMs) {
          throw new SimkubeError(
            `Simulation ${name} got no status from sk-ctrl in ${Math.round(age / 1000)}s: sk-ctrl is not running or not watching Simulations. Check kubectl -n ${this.opts.driverNamespace} get pods, and run sim-arena preflight --backend simkube`,
          );
        }
        return {
          waitMs: this.opts.pollMs.starting,
          waiting: {
            reason: 'SimulationPending',
            message: `Simulation ${name} has no state yet: is sk-ctrl running in ${this.opts.driverNamespace}? (sim-arena preflight --backend simkube)`,
          },
        };
    }
  }

  private async createWhenReady(run: StepRun, name: string): Promise<PollResult> {
    const older = await this.olderSimulations(run);
    if (older.length) {
      await this.deleteOlderSimulations(run);
      return {
        waitMs: this.opts.pollMs.starting,
        waiting: {
          reason: 'PreviousSimulation',
          message: `waiting for the episode's earlier Simulation(s) ${older.map((s) => s.metadata?.name).join(', ')} to be deleted`,
        },
      };
    }
    const vns = await this.kube.get(`/api/v1/namespaces/${this.virtualNamespace(run)}`);
    if (vns?.metadata?.deletionTimestamp) {
      return {
        waitMs: this.opts.pollMs.starting,
        waiting: {
          reason: 'VirtualNamespaceTerminating',
          message: `namespace ${this.virtualNamespace(run)} (from an earlier simulation) is still being deleted`,
        },
      };
    }
    const cm = await this.ensureConfigMap(run);
    const st = await this.syncState(cm.name, cm.sha);
    const invalid = st.errors.find((e) => e.error.startsWith(INVALID_TRACE_PREFIX));
    if (invalid)
      throw new SimkubeError(`trace-sync rejected trace ConfigMap ${cm.name} on ${invalid.node}: ${invalid.error}`);
    if (st.nodes.length === 0 || st.pending.length > 0) return this.syncWaiting(cm.name, st);
    const episode = this.episodeOf(run);
    const body = buildSimulation({
      name,
      runName: run.name,
      episode,
      configMap: cm.name,
      workload: formatWorkload(run.workload),
      driverImage: this.opts.driverImage,
      driverNamespace: this.opts.driverNamespace,
      tracePath: fileTracePath(this.opts.traceDir, traceFileName(cm.name)),
      virtualNsPrefix: this.opts.virtualNsPrefix,
      durationSeconds: this.durationSeconds(run),
      speed: this.opts.speed,
      hooks: this.opts.hooks,
    });
    await this.kube.create(SIMULATIONS_PATH, body);
    const notes = this.traceNotes(run);
    return {
      waitMs: this.opts.pollMs.starting,
      waiting: {
        reason: 'SimulationCreated',
        message: `created Simulation ${name} (trace ${cm.name} on ${st.nodes.length} node(s))${notes.length ? `; for SimKube's driver: ${notes.join('; ')}` : ''}`,
      },
    };
  }

  private async runningSimulations(): Promise<string[]> {
    const sims = await this.kube.list<Simulation>(SIMULATIONS_PATH);
    return sims
      .filter(
        (s) => s.status?.state === 'Running' || s.status?.state === 'Initializing' || s.status?.state === 'Paused',
      )
      .map((s) => s.metadata?.name ?? '?');
  }

  /**
   * Who holds SimKube's lock (the Lease names it; Failed Simulations included: one that failed during setup keeps
   * it until deleted). A Failed holder sim-arena made is deleted here, so it cannot block every later run.
   */
  async blockedMessage(name: string): Promise<string> {
    const head = `SimKube runs one simulation at a time (Lease sk-lease in ${this.opts.driverNamespace}); Simulation ${name}`;
    const holder = await lockHolder(this.kube, this.opts.driverNamespace).catch(() => undefined);
    if (holder && holder.name !== name) {
      if (holder.state === 'Failed' && holder.managedBySimArena) {
        if (!holder.deleting) await this.kube.delete(simulationPath(holder.name), { propagationPolicy: 'Background' });
        return `${head} waits for ${holder.name} to finish: it is Failed and still held the lock, so sim-arena deleted it`;
      }
      if (holder.state === 'Failed' || holder.state === 'Finished') {
        return `${head} waits for ${holder.name} to finish: it is ${holder.state} but still holds the lock; delete it (kubectl delete simulation ${holder.name})`;
      }
      return `${head} waits for ${holder.name} to finish (${holder.state ?? 'deleted; the lease expires'})`;
    }
    const others = (await this.runningSimulations()).filter((n) => n !== name);
    return `${head} waits for ${others.join(', ') || 'another simulation'} to finish`;
  }

  /**
   * The explanation of a Failed (or stuck) Simulation of this run, after deleting it: a failed Simulation keeps
   * SimKube's lock (and its metaroot) until it is deleted, which would block every later Simulation.
   */
  async failAndRelease(sim: Simulation, state: string): Promise<string> {
    const why = await this.explainFailure(sim, state);
    const name = sim.metadata?.name ?? '?';
    const deleted = await this.kube
      .delete(simulationPath(name), { propagationPolicy: 'Background' })
      .catch(() => false);
    return `${why} ${deleted ? `sim-arena deleted Simulation ${name} so it does not hold SimKube's lock.` : ''}`.trim();
  }

  /** The workload's pods that this Simulation made (SimKube labels every simulated pod with the sim's name). */
  async podsOf(run: StepRun, sim: string): Promise<V1Pod[]> {
    const vns = this.virtualNamespace(run);
    const simSel = `${SIMKUBE_SIM_LABEL}=${sim}`;
    const { workload } = run;
    if (workload.kind === 'Pod') {
      return this.kube.list<V1Pod>(`/api/v1/namespaces/${vns}/pods`, {
        labelSelector: simSel,
        fieldSelector: `metadata.name=${workload.name}`,
      });
    }
    const selector = selectorFor(run.trace, workload);
    return this.kube.list<V1Pod>(`/api/v1/namespaces/${vns}/pods`, {
      labelSelector: selector ? `${selector},${simSel}` : simSel,
    });
  }

  private async observe(run: StepRun, sim: Simulation): Promise<PollResult> {
    const name = sim.metadata!.name!;
    const pods = (await this.podsOf(run, name)).filter((p) => !p.metadata?.deletionTimestamp);
    const expected = expectedPods(run.trace, run.workload);
    const settled =
      (expected === undefined || pods.length === expected) &&
      pods.every(isSettled) &&
      (pods.length > 0 || expected === 0);
    if (settled && sim.status?.state === 'Running') return this.observed(run, sim, await this.observePods(run, pods));
    const state = sim.status?.state;
    // The window opens when the driver applied the first objects (its root appears right before), not at Running:
    // the driver pod starts, waits 5 s and runs its pre-run hooks first.
    const replayed = state === 'Running' ? await replayStartedMs(this.kube, sim) : undefined;
    if (state === 'Running' && replayed === undefined) {
      const runningSince =
        timeMs(sim.status?.startTime ?? undefined) ?? timeMs(sim.metadata?.creationTimestamp) ?? run.startedAt;
      if (Date.now() - runningSince > this.opts.driverStartTimeoutMs) {
        throw new SimkubeError(
          await this.failAndRelease(
            sim,
            `Running for ${Math.round((Date.now() - runningSince) / 1000)}s without its driver replaying anything`,
          ),
        );
      }
      return {
        waitMs: this.opts.pollMs.settling,
        waiting: {
          reason: 'DriverStarting',
          message: `SimKube's driver for Simulation ${name} is starting (it replays the trace once its pod runs)`,
        },
      };
    }
    const began = replayed ?? run.startedAt;
    const windowMs = (this.opts.observeFraction * this.durationSeconds(run) * 1000) / this.opts.speed;
    if (state === 'Running' && Date.now() - began >= windowMs) {
      if (pods.length === 0 && (expected ?? 1) > 0) {
        throw new SimkubeError(
          `no pod of ${formatWorkload(run.workload)} appeared in ${this.virtualNamespace(run)} within ${Math.round(windowMs / 1000)}s of Simulation ${name} starting. ` +
            `Check the driver: kubectl -n ${this.opts.driverNamespace} get pods -l job-name=sk-${name}-driver (a pod stuck in ContainerCreating means the trace file is missing on its node; ` +
            `its logs show replay errors); or raise stepDuration`,
        );
      }
      return this.observed(run, sim, await this.observePods(run, pods));
    }
    return {
      waitMs: this.opts.pollMs.settling,
      waiting: {
        reason: state === 'Initializing' ? 'SimulationInitializing' : 'PodsSettling',
        message:
          state === 'Initializing'
            ? `sk-ctrl is setting up Simulation ${name}`
            : `${pods.filter(isSettled).length}/${expected ?? pods.length} pods of ${formatWorkload(run.workload)} settled in ${this.virtualNamespace(run)}`,
      },
    };
  }

  /** Count the pods; with usage, the usage model's verdict is first written into their status (usage.ts). */
  private async observePods(run: StepRun, pods: V1Pod[]): Promise<Observation> {
    if (!run.opts.usage) return observePods(pods);
    return applyUsageToSimkubePods(this.kube, run.trace, run.workload, run.opts.usage, pods);
  }

  /** The observation is taken: return it, or keep it on the Simulation until SimKube finishes it (awaitFinish). */
  private async observed(run: StepRun, sim: Simulation, observation: Observation): Promise<PollResult> {
    if (!this.opts.awaitFinish) return { observation };
    await this.kube.mergePatch(simulationPath(sim.metadata!.name!), {
      metadata: { annotations: { [OBSERVATION_ANNOTATION]: JSON.stringify(observation) } },
    });
    return this.awaitingFinish(run, sim);
  }

  private async awaitingFinish(run: StepRun, sim: Simulation): Promise<PollResult> {
    const name = sim.metadata!.name!;
    const runningSince =
      timeMs(sim.status?.startTime ?? undefined) ?? timeMs(sim.metadata?.creationTimestamp) ?? run.startedAt;
    // The replay itself, then the driver's cleanup (it gives up deleting its root after 300 s), with room to spare.
    const limitMs = (this.durationSeconds(run) * 1000) / this.opts.speed + 360_000;
    if (Date.now() - runningSince > limitMs) {
      throw new SimkubeError(
        await this.failAndRelease(
          sim,
          `still Running ${Math.round((Date.now() - runningSince) / 1000)}s after it started, long after its replay should have ended`,
        ),
      );
    }
    return {
      waitMs: this.opts.pollMs.settling,
      waiting: {
        reason: 'SimulationFinishing',
        message: `observed ${formatWorkload(run.workload)}; waiting for SimKube to finish Simulation ${name} (driver cleanup and hooks)`,
      },
    };
  }

  /**
   * Keep the driver's own account of a failure while its pod exists: once the Job fails, sk-ctrl marks the
   * Simulation Failed and deletes its metaroot, and the pod with its terminated status goes with it. Kept on the
   * Simulation (survives an operator restart) and in memory (survives a failed patch).
   */
  private async noteDriverFailure(sim: Simulation): Promise<void> {
    const name = sim.metadata!.name!;
    if (this.driverFailures.has(name) || sim.metadata?.annotations?.[DRIVER_ERROR_ANNOTATION]) return;
    const why = await driverError(this.kube, this.opts.driverNamespace, name).catch(() => undefined);
    if (!why || !/ exited \d+| Failed/.test(why)) return;
    this.driverFailures.set(name, why);
    await this.kube
      .mergePatch(simulationPath(name), {
        metadata: { annotations: { [DRIVER_ERROR_ANNOTATION]: why.slice(0, 8000) } },
      })
      .catch(() => undefined);
  }

  /** How the stages went, from SimKube's `<Stage>HooksSucceeded` / `<Stage>HookFailed` events (episodes with hooks). */
  private async hookRuns(sim: Simulation): Promise<Pick<PollResult, 'hooks'>> {
    if (!hasHooks(this.opts.hooks)) return {};
    const events = await simulationEvents(this.kube, sim.metadata?.name ?? '').catch(() => []);
    const runs: NonNullable<PollResult['hooks']> = [];
    for (const stage of HOOK_STAGES) {
      const prefix = stage.charAt(0).toUpperCase() + stage.slice(1);
      const failed = events.find((e) => e.reason === `${prefix}HookFailed`);
      const ok = events.find((e) => e.reason === `${prefix}HooksSucceeded`);
      if (failed) runs.push({ stage, outcome: 'Failed', message: failed.message ?? `${prefix}HookFailed` });
      else if (ok) runs.push({ stage, outcome: 'Succeeded', message: ok.message ?? `${prefix}HooksSucceeded` });
    }
    return runs.length ? { hooks: runs } : {};
  }

  /** A how-to-fix message for a Failed (or stuck Retrying) Simulation: its events, then the usual traps. */
  async explainFailure(sim: Simulation, state: string): Promise<string> {
    const name = sim.metadata?.name ?? '?';
    const parts = [`Simulation ${name} is ${state}.`];
    // One read of the Simulation's events serves the hook failures and, without the driver's words, the recent ones.
    const events = await simulationEvents(this.kube, name).catch(() => undefined);
    const hooks = hookFailures(events ?? []);
    if (hooks.length) {
      // A failed hook is the cause: said once, without the recent events (which repeat it) or the set-up traps.
      parts.push(`SimKube: ${hooks.join(' | ')} (spec.hooks).`);
      parts.push(
        `Details: kubectl describe simulation ${name}; a hook's output is in sk-ctrl's log (preStart, postStop) or the driver's (kubectl -n ${this.opts.driverNamespace} logs job/sk-${name}-driver; preRun, postRun).`,
      );
      return parts.join(' ');
    }
    const live = await driverError(this.kube, this.opts.driverNamespace, name).catch(() => undefined);
    const kept = this.driverFailures.get(name) ?? sim.metadata?.annotations?.[DRIVER_ERROR_ANNOTATION];
    // The pod may be gone by now (only the Job's events are left): the account kept while it ran comes first.
    const driver = kept && !/ exited \d+/.test(live ?? '') ? [kept, live].filter(Boolean).join('; ') : (live ?? kept);
    if (driver) {
      // The driver ran and said why it failed: that is the cause, not the setup traps below.
      parts.push(`SimKube's driver: ${driver}.`);
      parts.push(`Details: kubectl -n ${this.opts.driverNamespace} logs job/sk-${name}-driver.`);
      return parts.join(' ');
    }
    // Events are a nicety: none when they could not be read.
    const recent = (events ?? [])
      .filter((e) => e.type === 'Warning' || /fail|error/i.test(`${e.reason ?? ''}`))
      .slice(-3)
      .map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`.trim());
    if (recent.length) parts.push(`Events: ${recent.join(' | ')}.`);
    let problems: Check[] = [];
    try {
      problems = (await simkubeTrapChecks(this.kube, { driverNamespace: this.opts.driverNamespace })).filter(
        (c) => c.status !== 'ok',
      );
    } catch {
      // fall through to the generic list
    }
    if (problems.length) {
      parts.push(`Found: ${problems.map((c) => `${c.title}: ${c.message} — fix: ${c.fix ?? ''}`).join('; ')}.`);
    } else {
      parts.push(
        `Usual causes: the driver namespace (${this.opts.driverNamespace}) must be where sk-ctrl runs and hold the ServiceAccount sk-ctrl-sa; ` +
          'the namespace `monitoring` must exist (kubectl create namespace monitoring); cert-manager must be installed with a ClusterIssuer `selfsigned`.',
      );
    }
    parts.push(
      `Details: kubectl describe simulation ${name}; kubectl -n ${this.opts.driverNamespace} logs job/sk-${name}-driver; sk-ctrl's logs.`,
    );
    return parts.join(' ');
  }

  // ------------------------------------------------------------------------------------------- cleanup

  /** Deletes the Simulation (its GC cascade removes the driver, root and virtual namespace). Keeps the ConfigMap. */
  async cleanup(run: StepRun): Promise<void> {
    this.driverFailures.delete(this.simulationName(run));
    await this.kube.delete(simulationPath(this.simulationName(run)), { propagationPolicy: 'Foreground' });
    await this.collectTraceConfigMaps();
  }

  /**
   * Deletes the trace ConfigMaps (and so, through trace-sync, the node files) that no Simulation refers to, once they
   * are older than traceGraceMs: several runs share one when their traces are byte-identical, and a run that has just
   * made or found one has no Simulation yet while it waits for the sync (should it lose the ConfigMap anyway, its
   * next poll makes it again). A run's own ConfigMap goes at a later cleanup, after its Simulation is gone.
   * Returns the names deleted.
   */
  async collectTraceConfigMaps(): Promise<string[]> {
    const path = `/api/v1/namespaces/${encodeURIComponent(this.opts.operatorNamespace)}/configmaps`;
    const [cms, sims] = await Promise.all([
      this.kube.list<ConfigMap>(path, { labelSelector: `${TRACE_LABEL}=true,${MANAGED_BY_SELECTOR}` }),
      this.kube.list<Simulation>(SIMULATIONS_PATH),
    ]);
    const used = new Set(sims.map((s) => s.metadata?.annotations?.[TRACE_CONFIGMAP_ANNOTATION]));
    const cutoff = Date.now() - this.opts.traceGraceMs;
    const deleted: string[] = [];
    for (const cm of cms) {
      const name = cm.metadata?.name;
      if (
        !name ||
        used.has(name) ||
        cm.metadata?.deletionTimestamp ||
        (timeMs(cm.metadata?.creationTimestamp) ?? Date.now()) > cutoff
      )
        continue;
      if (await this.kube.delete(`${path}/${name}`)) deleted.push(name);
    }
    return deleted;
  }
}

export function createSimkubeBackend(opts: BackendOptions & SimkubeOptions = {}): SimkubeBackend {
  return new SimkubeBackend(opts.kube ? undefined : (opts.kc ?? loadKubeConfig(opts.kubeconfig)), opts);
}
