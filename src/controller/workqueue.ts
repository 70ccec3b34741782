import { createLogger, type Logger } from '../util/log.js';
import { secondsSince } from '../util/metrics.js';
import * as m from './metrics.js';
import {
  backoffDelay,
  realTimers,
  resolveBackoff,
  seededRandom,
  type BackoffOptions,
  type ResolvedBackoff,
  type Timers,
} from './backoff.js';

/** What a reconcile returns. Throwing instead means "retry with backoff" (or never, for TerminalError). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | void>;

/** Thrown by a reconcile for failures that a retry cannot fix: logged, not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export interface WorkQueueOptions {
  name?: string;
  /** How many keys may be processed at once. Default 1. */
  workers?: number;
  backoff?: BackoffOptions;
  /** Source of jitter in [0, 1). Wins over `seed`. */
  random?: () => number;
  /** Seed for a deterministic jitter source. */
  seed?: number;
  timers?: Timers;
  logger?: Logger;
}

interface Delayed {
  readyAt: number;
  handle: unknown;
}

/**
 * A de-duplicating per-key work queue (the client-go workqueue model):
 * a key waits at most once; a key is never handled by two workers at once; a key added while it is
 * being handled is handled once more afterwards.
 */
export class WorkQueue {
  readonly name: string;
  private readonly workers: number;
  private readonly backoff: ResolvedBackoff;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly log: Logger;

  private readonly pending = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failureCounts = new Map<string, number>();
  /** When each pending key was queued (for workqueue_queue_duration_seconds). */
  private readonly queuedAt = new Map<string, bigint>();
  private idleWaiters: Array<() => void> = [];
  private handler: ReconcileFn | undefined;
  private running = false;
  private shutDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'queue';
    this.workers = Math.max(1, opts.workers ?? 1);
    this.backoff = resolveBackoff(opts.backoff);
    this.random = opts.random ?? (opts.seed !== undefined ? seededRandom(opts.seed) : Math.random);
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger ?? createLogger(`workqueue/${this.name}`);
    m.maxConcurrentReconciles.set({ controller: this.name }, this.workers);
  }

  /** Keys waiting to be handled (not counting delayed or in-flight ones). */
  get length(): number {
    return this.pending.size;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  get isShutDown(): boolean {
    return this.shutDown;
  }

  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.shutDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.enqueue(key);
    this.pump();
  }

  /** Adds `key` after `ms`. If the key is already waiting for a sooner time, that one is kept. */
  addAfter(key: string, ms: number): void {
    if (this.shutDown) return;
    if (ms <= 0) return this.add(key);
    const readyAt = this.timers.now() + ms;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.timers.clearTimeout(existing.handle);
    }
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { readyAt, handle });
  }

  /** Schedules a retry after the key's next backoff delay and returns that delay. */
  addRateLimited(key: string): number {
    const failures = this.failures(key);
    const delay = backoffDelay(failures, this.backoff, this.random);
    this.failureCounts.set(key, failures + 1);
    m.queueRetries.inc({ name: this.name });
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff. */
  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  /** Begins (or resumes) handing keys to `handler`, at most `workers` at a time. */
  start(handler: ReconcileFn): void {
    if (this.shutDown) throw new Error(`workqueue ${this.name} is shut down`);
    this.handler = handler;
    this.running = true;
    this.pump();
  }

  /** Stops taking new keys (they keep waiting) and resolves once in-flight work has finished. */
  async pause(): Promise<void> {
    this.running = false;
    await this.waitFor(() => this.processing.size === 0);
  }

  /** Resolves when nothing is pending or in flight (delayed keys are not waited for). */
  whenIdle(): Promise<void> {
    return this.waitFor(() => this.processing.size === 0 && (this.pending.size === 0 || !this.running));
  }

  /** Drops waiting and delayed keys, refuses new ones, and resolves once in-flight work has finished. */
  async shutdown(): Promise<void> {
    this.shutDown = true;
    this.running = false;
    for (const d of this.delayed.values()) this.timers.clearTimeout(d.handle);
    this.delayed.clear();
    this.pending.clear();
    this.queuedAt.clear();
    this.dirty.clear();
    m.queueDepth.set({ name: this.name }, 0);
    await this.waitFor(() => this.processing.size === 0);
  }

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve();
        else this.idleWaiters.push(check);
      };
      this.idleWaiters.push(check);
    });
  }

  private notifyWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (this.running && this.handler && this.processing.size < this.workers && this.pending.size > 0) {
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      const queued = this.queuedAt.get(key);
      this.queuedAt.delete(key);
      if (queued !== undefined) m.queueLatency.observe({ name: this.name }, secondsSince(queued));
      m.queueDepth.set({ name: this.name }, this.pending.size);
      this.processing.add(key);
      m.activeWorkers.set({ controller: this.name }, this.processing.size);
      void this.process(key, this.handler);
    }
  }

  /** Puts a key in the pending set, counting it as an add when it was not already waiting. */
  private enqueue(key: string): void {
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.queuedAt.set(key, process.hrtime.bigint());
    m.queueAdds.inc({ name: this.name });
    m.queueDepth.set({ name: this.name }, this.pending.size);
  }

  private async process(key: string, handler: ReconcileFn): Promise<void> {
    const started = process.hrtime.bigint();
    const controller = { controller: this.name };
    try {
      await Promise.resolve(); // never run the handler inside the caller of add()
      const result = await handler(key);
      this.forget(key);
      const after = result?.requeueAfterMs;
      m.reconcileTotal.inc({
        ...controller,
        result: after === undefined || after < 0 ? 'success' : after === 0 ? 'requeue' : 'requeue_after',
      });
      if (after !== undefined && after >= 0) this.addAfter(key, after);
    } catch (err) {
      m.reconcileTotal.inc({ ...controller, result: 'error' });
      m.reconcileErrors.inc(controller);
      if (err instanceof TerminalError) {
        m.terminalReconcileErrors.inc(controller);
        this.forget(key);
        this.log.error('Reconcile failed permanently; not retrying', { key, error: err.message });
      } else if (!this.shutDown) {
        const delay = this.addRateLimited(key);
        this.log.warn('Reconcile failed; retrying with backoff', {
          key,
          failures: this.failures(key),
          retryInMs: delay,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    } finally {
      const seconds = secondsSince(started);
      m.reconcileTime.observe(controller, seconds);
      m.workDuration.observe({ name: this.name }, seconds);
      this.processing.delete(key);
      m.activeWorkers.set(controller, this.processing.size);
      if (this.dirty.delete(key) && !this.shutDown) this.enqueue(key);
      this.pump();
      this.notifyWaiters();
    }
  }
}
