import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../util/log.js';
import { startHealthServer, type HealthServer, type Readiness } from './health.js';
import type { InformerEventType } from './informer.js';
import { objectKey } from './keys.js';
import { LeaderElector, type LeaderElectionOptions } from './leader.js';
import { ShardManager, shardOf, type ShardOptions } from './shards.js';
import { WorkQueue, type ReconcileFn, type WorkQueueOptions } from './workqueue.js';

/** What the controller uses of an informer, whatever its object type (method syntax keeps it assignable). */
export interface WatchedInformer {
  on(handler: (obj: KubernetesObject, type: InformerEventType) => void): () => void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): Promise<void>;
  /** The cached objects (to enqueue the keys of a shard this replica has just taken over). */
  list(): KubernetesObject[];
}

/** An informer plus how its objects map to work-queue keys (default: the object's own key). */
export interface InformerBinding {
  informer: WatchedInformer;
  /** Keys to enqueue for an event on `obj`; return [] for cache-only informers (or to ignore this event). */
  keys?: (obj: KubernetesObject, type: InformerEventType) => string | string[] | undefined;
}

export interface ControllerOptions {
  name: string;
  informers: Array<WatchedInformer | InformerBinding>;
  reconcile: ReconcileFn;
  /** Concurrent reconciles (different keys only). Default 1. */
  workers?: number;
  queue?: Omit<WorkQueueOptions, 'name' | 'workers'>;
  /** When set, reconciles run only while this replica holds the Lease. */
  leaderElection?: Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  /** When set (instead of leaderElection), replicas share the keys: this one reconciles only the shards it holds. */
  sharding?: Omit<ShardOptions, 'onAcquired' | 'onLost'>;
  /** Health endpoint address; false disables it. Default 0.0.0.0:8081. */
  health?: { host?: string; port?: number } | false;
  logger?: Logger;
  /** Runs once the queue has drained on stop (e.g. to close what the reconciler opened). */
  onStop?: () => Promise<void>;
}

/** The work-queue keys of an informer event (the object's own key unless the binding maps it). */
function keysOf(b: InformerBinding, obj: KubernetesObject, type: InformerEventType): string[] {
  const keys = b.keys ? b.keys(obj, type) : objectKey(obj);
  return Array.isArray(keys) ? keys : keys ? [keys] : [];
}

function isBinding(x: WatchedInformer | InformerBinding): x is InformerBinding {
  return 'informer' in x;
}

/**
 * Wires informers to a work queue and a reconcile function, with optional leader election and
 * /healthz + /readyz. Informer events only enqueue keys; the reconcile reads the caches.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly bindings: InformerBinding[];
  private readonly onStop: (() => Promise<void>) | undefined;
  private readonly reconcile: ReconcileFn;
  private readonly elector: LeaderElector | undefined;
  readonly shards: ShardManager | undefined;
  private readonly healthOpts: { host?: string; port?: number } | false;
  private readonly log: Logger;
  private health: HealthServer | undefined;
  private unsubscribe: Array<() => void> = [];
  private synced = false;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.log = opts.logger ?? createLogger(`controller/${opts.name}`);
    this.queue = new WorkQueue({ logger: this.log, ...opts.queue, name: opts.name, workers: opts.workers ?? 1 });
    this.bindings = opts.informers.map((i) => (isBinding(i) ? i : { informer: i }));
    if (opts.leaderElection && opts.sharding)
      throw new Error('a controller takes leaderElection or sharding, not both');
    this.shards = opts.sharding
      ? new ShardManager({ ...opts.sharding, logger: this.log, onAcquired: (i) => this.enqueueShard(i) })
      : undefined;
    const reconcile = opts.reconcile;
    // A key of a shard held elsewhere is dropped: its owner's informer queues it too.
    this.reconcile = this.shards ? async (key) => (this.shards!.owns(key) ? reconcile(key) : undefined) : reconcile;
    this.onStop = opts.onStop;
    this.healthOpts = opts.health ?? {};
    this.elector = opts.leaderElection
      ? new LeaderElector({
          logger: this.log,
          ...opts.leaderElection,
          onStartedLeading: () => {
            if (!this.queue.isShutDown) this.queue.start(this.reconcile);
          },
          onStoppedLeading: () => this.queue.pause(),
        })
      : undefined;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  private enqueueShard(shard: number): void {
    for (const b of this.bindings)
      for (const obj of b.informer.list())
        for (const k of keysOf(b, obj, 'resync')) if (shardOf(k, this.shards!.shards) === shard) this.queue.add(k);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  readiness(): Readiness {
    if (this.state !== 'running') return { ready: false, reason: `controller ${this.state}` };
    if (!this.synced) return { ready: false, reason: 'informers not synced' };
    // A standby replica is ready too: otherwise a rolling update of a leader-elected Deployment never completes.
    return { ready: true };
  }

  /** The bound health address, once started (useful with port 0). */
  get healthAddress(): { host: string; port: number } | undefined {
    return this.health ? { host: this.health.host, port: this.health.port } : undefined;
  }

  /** Starts health endpoints and informers, waits for the caches, then reconciles (once leading). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`controller ${this.name} cannot start twice`);
    this.state = 'running';
    if (this.healthOpts !== false) {
      this.health = await startHealthServer({ ...this.healthOpts, readiness: () => this.readiness() });
      this.log.info('Health endpoints listening', { host: this.health.host, port: this.health.port });
    }
    for (const b of this.bindings) {
      this.unsubscribe.push(
        b.informer.on((obj, type) => {
          for (const k of keysOf(b, obj, type)) this.queue.add(k);
        }),
      );
      b.informer.start();
    }
    try {
      await Promise.all(this.bindings.map((b) => b.informer.hasSynced()));
    } catch (err) {
      if (this.state !== 'running') return; // stopped while waiting
      throw err;
    }
    if (this.state !== 'running') return;
    this.synced = true;
    this.log.info('Caches synced');
    if (this.elector) this.elector.start();
    else this.queue.start(this.reconcile);
    this.shards?.start();
  }

  /** Finishes in-flight reconciles, releases the Lease, stops informers and health endpoints. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await this.queue.shutdown();
    await this.onStop?.();
    await this.elector?.stop();
    await this.shards?.stop();
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    await Promise.all(this.bindings.map((b) => b.informer.stop()));
    await this.health?.close();
    this.log.info('Controller stopped');
  }
}

/**
 * Runs `fn` once on the first SIGTERM or SIGINT, then exits (0, or 1 if `fn` threw);
 * a second signal exits at once. Returns a function that removes the handlers.
 */
export function onShutdownSignals(
  fn: () => Promise<void> | void,
  opts: { exit?: boolean; logger?: Logger } = {},
): () => void {
  const log = opts.logger ?? createLogger('shutdown');
  let called = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (called) {
      log.warn('Second signal; exiting now', { signal });
      process.exit(1);
    }
    called = true;
    log.info('Shutting down', { signal });
    void Promise.resolve()
      .then(fn)
      .then(
        () => opts.exit !== false && process.exit(0),
        (err: unknown) => {
          log.error('Shutdown failed', { error: err instanceof Error ? err.message : String(err) });
          if (opts.exit !== false) process.exit(1);
        },
      );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
