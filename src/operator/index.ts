// Wiring: the ArenaEpisode informer, the work queue, the reconciler, leader election and health endpoints.
import { parseAllowlist } from './agent-allowlist.js';
import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { EpisodeSpec } from '../arena/episode.js';
import { createLogger } from '../util/log.js';
import { registerAgents } from '../agents/index.js';
import type { PhasedBackend } from '../arena/backend.js';
import { createPhasedBackend } from '../sim/index.js';
import { Controller } from '../controller/controller.js';
import { EventRecorder } from '../controller/events.js';
import { Informer, type InformerEventType } from '../controller/informer.js';
import { objectKey } from '../controller/keys.js';
import { withKeepAlive } from '../kube/config.js';
import { GROUP, PLURAL, REPORTING_CONTROLLER, VERSION } from '../api/names.js';
import { episodeHooks, type ArenaEpisode } from '../api/episode.js';
import { reportEpisodes } from './metrics.js';
import { DEFAULT_HOOK_NAMESPACE, type HookJobOptions } from '../sim/kwok/hooks.js';
import { EpisodeReconciler, type ReconcilerOptions } from './reconciler.js';

export interface OperatorOptions {
  kc: KubeConfig;
  /** Concurrent episodes. */
  workers?: number;
  /** Watch one namespace only (default: all). */
  namespace?: string;
  leaderElection?:
    | {
        namespace: string;
        name?: string;
        identity?: string;
        /** Lease timing (defaults 15000 / 10000 / 2000 ms, as client-go's). */
        leaseDurationMs?: number;
        renewDeadlineMs?: number;
        retryPeriodMs?: number;
      }
    | false;
  /** Share episodes between replicas by a stable hash (instead of one leader); Leases `<name>-shard-<i>`. */
  sharding?: { namespace: string; shards: number; name?: string; identity?: string; leaseDurationMs?: number };
  health?: { host?: string; port?: number } | false;
  /** Where trace ConfigMaps for SimKube and the trace-sync pods live (default: POD_NAMESPACE, else sim-arena). */
  operatorNamespace?: string;
  /** Run cluster checks when a kwok/simkube episode starts and report them as its Preflight condition. Default true. */
  preflight?: boolean;
  /** Override backend construction (tests); default builds embedded/kwok/simkube from the episode spec. */
  backendFor?: ReconcilerOptions['backendFor'] & { close?(): Promise<void> };
  beforeTransition?: ReconcilerOptions['beforeTransition'];
  /** Embedded steps run back to back for up to this long before one status write (0: a write per step). Default 100. */
  batchMs?: number;
  /** Agent URL prefixes the external policy may call; empty or unset: the external policy is disabled. */
  allowedAgentURLs?: string[];
  /** kwok episodes with spec.hooks: where and how their Jobs run (namespace default: operatorNamespace). */
  hookJobs?: HookJobOptions;
}

export type BackendResolver = ReconcilerOptions['backendFor'] & {
  /** Closes every backend made so far (their watches). */
  close(): Promise<void>;
};

/**
 * Backends are cached per configuration: simkube settings differ per episode, the rest are shared. The kwok backend
 * watches its runs' nodes and pods (one watch each for all episodes) rather than listing them on every poll.
 */
export function defaultBackends(
  kc: KubeConfig,
  operatorNamespace?: string,
  hookJobs: HookJobOptions = {},
): BackendResolver {
  const cache = new Map<string, PhasedBackend>();
  const resolve = (ep: ArenaEpisode, spec: EpisodeSpec) => {
    const name = ep.spec.backend ?? 'embedded';
    const hooks = name === 'embedded' ? undefined : episodeHooks(ep.spec);
    // kwok episodes share one backend (one watch) unless they have hooks: those differ per episode.
    const key =
      name === 'simkube'
        ? `simkube:${JSON.stringify({ ...ep.spec.simkube, hooks })}:${spec.durationSeconds}`
        : name === 'kwok' && hooks
          ? `kwok:${JSON.stringify(hooks)}`
          : name;
    let backend = cache.get(key);
    if (!backend) {
      backend = lazyPhased(name, async () => {
        if (name === 'kwok')
          return createPhasedBackend(name, {
            kc,
            watch: true,
            ...(hooks
              ? {
                  hooks,
                  hookJobs: {
                    namespace: operatorNamespace ?? process.env.POD_NAMESPACE ?? DEFAULT_HOOK_NAMESPACE,
                    ...hookJobs,
                  },
                }
              : {}),
          });
        if (name === 'simkube')
          return createPhasedBackend(name, {
            kc,
            ...ep.spec.simkube,
            ...(operatorNamespace ? { operatorNamespace } : {}),
            ...(spec.durationSeconds ? { stepSeconds: spec.durationSeconds } : {}),
            ...(hooks ? { hooks } : {}),
          });
        return createPhasedBackend(name);
      });
      cache.set(key, backend);
    }
    return backend;
  };
  return Object.assign(resolve, {
    close: () => Promise.all([...cache.values()].map((b) => b.close?.())).then(() => undefined),
  });
}

/**
 * Which watch events start a reconcile: everything except an update that changed neither the spec (generation) nor
 * deletion, finalizers or labels — in practice the operator's own status writes. Those would only run the episode
 * again at once (the reconcile that wrote them already requeued it as it needs, e.g. after a backend's poll interval),
 * doubling the API traffic per step. Periodic resyncs still enqueue everything.
 */
export function episodeEvents(): (obj: KubernetesObject, type: InformerEventType) => string | undefined {
  const seen = new Map<string, string>();
  return (obj, type) => {
    const key = objectKey(obj);
    if (type === 'delete') {
      seen.delete(key);
      return key;
    }
    const md = obj.metadata ?? {};
    const sig = JSON.stringify([
      md.uid,
      md.generation,
      md.deletionTimestamp ?? null,
      md.finalizers ?? [],
      md.labels ?? {},
    ]);
    const before = seen.get(key);
    seen.set(key, sig);
    return type === 'update' && before === sig ? undefined : key;
  };
}

/** A phased backend whose module loads on first use (cluster backends pull in more code). */
function lazyPhased(name: PhasedBackend['name'], load: () => Promise<PhasedBackend>): PhasedBackend {
  let p: Promise<PhasedBackend> | undefined;
  const get = () => (p ??= load());
  return {
    name,
    inProcess: name === 'embedded',
    start: async (run) => (await get()).start(run),
    poll: async (run) => (await get()).poll(run),
    cleanup: async (run) => (await get()).cleanup(run),
    onRunChange: (listener) => void get().then((b) => b.onRunChange?.(listener)),
    close: async () => {
      if (p) await (await p).close?.();
    },
  };
}

export function createOperator(options: OperatorOptions): Controller {
  registerAgents();
  // Every client of the operator (informer, reconciler, backends, events, Lease) reuses connections.
  const opts = { ...options, kc: withKeepAlive(options.kc) };
  const log = createLogger('operator');
  const path = opts.namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${opts.namespace}/${PLURAL}`
    : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  const informer = new Informer<ArenaEpisode>({ kc: opts.kc, path, logger: log });
  const backends = opts.backendFor ?? defaultBackends(opts.kc, opts.operatorNamespace, opts.hookJobs);
  const unreport = reportEpisodes(() => informer.list());
  // eslint-disable-next-line prefer-const -- assigned below, after the reconciler whose wake() refers to it
  let controller: Controller | undefined;
  const reconciler = new EpisodeReconciler({
    kc: opts.kc,
    cached: (namespace, name) => informer.get(name, namespace),
    backendFor: backends,
    wake: (key) => controller?.queue.add(key),
    ...(opts.preflight !== false
      ? {
          preflight: async (backend: string) => {
            const { runPreflight, preflightCondition } = await import('../sim/preflight.js');
            const checks = await runPreflight(
              opts.kc,
              backend as 'kwok' | 'simkube',
              opts.operatorNamespace ? { operatorNamespace: opts.operatorNamespace } : {},
            );
            const c = preflightCondition(checks);
            return { ...c, message: c.message || 'all checks passed' };
          },
        }
      : {}),
    events: new EventRecorder({ kc: opts.kc, reportingController: REPORTING_CONTROLLER }),
    logger: log,
    ...(opts.beforeTransition ? { beforeTransition: opts.beforeTransition } : {}),
    ...(opts.batchMs !== undefined ? { batchMs: opts.batchMs } : {}),
    agentAllowlist: parseAllowlist(opts.allowedAgentURLs ?? []),
  });
  controller = new Controller({
    name: 'arenaepisode',
    informers: [{ informer, keys: episodeEvents() }],
    reconcile: (key) => reconciler.reconcile(key),
    workers: opts.workers ?? 4,
    logger: log,
    onStop: async () => {
      unreport();
      await backends.close?.();
    },
    health: opts.health ?? {},
    ...(opts.leaderElection
      ? {
          leaderElection: {
            kc: opts.kc,
            namespace: opts.leaderElection.namespace,
            name: opts.leaderElection.name ?? 'sim-arena-operator',
            identity: opts.leaderElection.identity ?? `${hostname()}-${process.pid}`,
            ...leaseTiming(opts.leaderElection.leaseDurationMs),
            ...(opts.leaderElection.renewDeadlineMs ? { renewDeadlineMs: opts.leaderElection.renewDeadlineMs } : {}),
            ...(opts.leaderElection.retryPeriodMs ? { retryPeriodMs: opts.leaderElection.retryPeriodMs } : {}),
          },
        }
      : {}),
    ...(opts.sharding
      ? {
          sharding: {
            kc: opts.kc,
            namespace: opts.sharding.namespace,
            prefix: opts.sharding.name ?? 'sim-arena-operator',
            shards: opts.sharding.shards,
            identity: opts.sharding.identity ?? `${hostname()}-${process.pid}`,
            ...leaseTiming(opts.sharding.leaseDurationMs),
          },
        }
      : {}),
  });
  return controller;
}

/** Lease timings scaled from the lease duration, in the proportions of the leader election defaults (15 / 10 / 2 s). */
function leaseTiming(leaseDurationMs: number | undefined) {
  if (leaseDurationMs === undefined) return {};
  return {
    leaseDurationMs,
    renewDeadlineMs: Math.round((leaseDurationMs * 2) / 3),
    retryPeriodMs: Math.max(200, Math.round(leaseDurationMs / 7.5)),
  };
}
