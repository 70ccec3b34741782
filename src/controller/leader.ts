import { CoordinationV1Api, type KubeConfig, type V1Lease, type V1MicroTime } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../util/log.js';
import { sleep } from './backoff.js';
import { apiErrorMessage, isConflict, isAlreadyExists, isNotFound } from '../kube/errors.js';
import { microTimeField } from '../kube/time.js';
import { leaderStatus } from './metrics.js';

export interface LeaderElectionOptions {
  /** Used to build a CoordinationV1Api unless `api` is given. */
  kc?: KubeConfig;
  api?: CoordinationV1Api;
  namespace: string;
  /** Lease name, e.g. "sim-arena-leader". */
  name: string;
  /** This replica's identity, usually the pod name. */
  identity: string;
  /** How long a lease stays valid without renewal. Default 15000. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long. Must be < leaseDurationMs. Default 10000. */
  renewDeadlineMs?: number;
  /** Pause between acquire/renew attempts. Must be < renewDeadlineMs. Default 2000. */
  retryPeriodMs?: number;
  onStartedLeading?: () => void | Promise<void>;
  onStoppedLeading?: () => void | Promise<void>;
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
}

/** Lease times read back from the server arrive as strings; keep them, but re-format any Date. */
function keepMicroTime(value: unknown): V1MicroTime | undefined {
  if (value instanceof Date) return microTimeField(value);
  return typeof value === 'string' ? (value as unknown as V1MicroTime) : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Lease-based leader election on coordination.k8s.io/v1, after client-go's algorithm: take the
 * Lease when it is free or has not changed for a whole lease duration (judged by the local clock,
 * so clock skew between replicas does not matter), renew it with resourceVersion-guarded updates
 * (a 409 means someone else won), and step down when renewals fail for renewDeadline.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;
  readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly opts: LeaderElectionOptions;
  private readonly log: Logger;

  private leading = false;
  private observedHolder: string | undefined;
  private observedKey = '';
  private observedAt = 0;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    if (!opts.api && !opts.kc) throw new Error('LeaderElector needs kc or api');
    this.api = opts.api ?? opts.kc!.makeApiClient(CoordinationV1Api);
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs');
    }
    if (this.leaseDurationMs < 1000)
      throw new Error('leaseDurationMs must be at least 1000 (the Lease counts whole seconds)');
    this.opts = opts;
    this.log = opts.logger ?? createLogger(`leader/${opts.name}`);
    leaderStatus.set({ name: this.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the Lease ('' when free), or undefined before the first read. */
  get leader(): string | undefined {
    return this.observedHolder;
  }

  /** Starts campaigning in the background; keeps campaigning after losing the lease, until stop(). */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal).catch((err: unknown) => {
      this.log.error('Leader election loop crashed', { error: apiErrorMessage(err) });
    });
  }

  /** Stops campaigning; a leader releases the Lease so another replica can take over at once. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    if (this.leading) {
      await this.release();
      this.setLeading(false);
    }
  }

  /** One attempt to acquire or renew; true when this replica holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn('Reading the Lease failed', { error: apiErrorMessage(err) });
        return false;
      }
      return this.create(now);
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    if (holder && holder !== this.identity && this.observedAt + durationMs > now.getTime()) return false;

    const renewing = holder === this.identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: renewing ? (keepMicroTime(spec.acquireTime) ?? microTimeField(now)) : microTimeField(now),
        renewTime: microTimeField(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      },
    };
    try {
      this.observe(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }));
      return true;
    } catch (err) {
      if (!isConflict(err)) this.log.warn('Updating the Lease failed', { error: apiErrorMessage(err) });
      return false;
    }
  }

  /** Gives the Lease up if this replica holds it (best effort). */
  async release(): Promise<void> {
    try {
      const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTimeField();
      const body: V1Lease = {
        ...lease,
        spec: {
          leaseDurationSeconds: 1,
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
          acquireTime: now,
          renewTime: now,
        },
      };
      this.observe(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }));
      this.log.info('Released the Lease');
    } catch (err) {
      this.log.warn('Releasing the Lease failed', { error: apiErrorMessage(err) });
    }
  }

  private async create(now: Date): Promise<boolean> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: microTimeField(now),
        renewTime: microTimeField(now),
        leaseTransitions: 0,
      },
    };
    try {
      this.observe(await this.api.createNamespacedLease({ namespace: this.namespace, body }));
      return true;
    } catch (err) {
      if (!isAlreadyExists(err) && !isConflict(err))
        this.log.warn('Creating the Lease failed', { error: apiErrorMessage(err) });
      return false;
    }
  }

  private observe(lease: V1Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const key = `${holder}|${String(lease.spec?.renewTime)}|${lease.metadata?.resourceVersion}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = Date.now();
    }
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder) {
        this.log.info('Observed a new leader', { leader: holder });
        try {
          this.opts.onNewLeader?.(holder);
        } catch (err) {
          this.log.error('onNewLeader threw', { error: apiErrorMessage(err) });
        }
      }
    }
  }

  private jittered(ms: number): number {
    return ms * (1 + 0.2 * Math.random());
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      while (!signal.aborted && !(await this.attempt(this.renewDeadlineMs))) {
        await sleep(this.jittered(this.retryPeriodMs), signal);
      }
      if (signal.aborted) return;
      this.setLeading(true);

      let lastRenew = Date.now();
      while (!signal.aborted) {
        await sleep(this.retryPeriodMs, signal);
        if (signal.aborted) return;
        const left = this.renewDeadlineMs - (Date.now() - lastRenew);
        if (left > 0 && (await this.attempt(left))) {
          lastRenew = Date.now();
          continue;
        }
        if (Date.now() - lastRenew >= this.renewDeadlineMs) break;
      }
      if (signal.aborted) return;
      this.log.warn('Lost the Lease: could not renew it in time', { renewDeadlineMs: this.renewDeadlineMs });
      this.setLeading(false);
    }
  }

  private async attempt(timeoutMs: number): Promise<boolean> {
    try {
      return await withTimeout(this.tryAcquireOrRenew(), timeoutMs);
    } catch (err) {
      this.log.warn('Lease attempt failed', { error: apiErrorMessage(err) });
      return false;
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    leaderStatus.set({ name: this.name }, leading ? 1 : 0);
    this.log.info(leading ? 'Started leading' : 'Stopped leading', { identity: this.identity });
    const cb = leading ? this.opts.onStartedLeading : this.opts.onStoppedLeading;
    if (!cb) return;
    void Promise.resolve()
      .then(cb)
      .catch((err: unknown) => this.log.error('Leader election callback threw', { error: apiErrorMessage(err) }));
  }
}
