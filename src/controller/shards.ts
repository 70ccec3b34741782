// Sharding: several replicas share the work by a stable hash of each key. Shard i is owned by whoever holds the
// Lease `<prefix>-shard-<i>` (the same Lease algorithm as leader election), and each replica keeps a member Lease
// `<prefix>-member-<identity>` so the others know how many replicas are alive. A replica campaigns for shards while it
// holds fewer than its fair share, ceil(shards / live members), and releases what it holds beyond that share, so a
// replica that joins takes shards over and the shards of a replica that dies are taken over once its Leases expire.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage } from '../kube/errors.js';
import { timeMs } from '../kube/time.js';
import { createLogger, type Logger } from '../util/log.js';
import { sleep } from './backoff.js';
import { LeaderElector } from './leader.js';

export interface ShardOptions {
  kc: KubeConfig;
  namespace: string;
  /** Lease name prefix, e.g. "sim-arena-operator". */
  prefix: string;
  /** How many shards the keys are spread over; the same on every replica. */
  shards: number;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onAcquired?: (shard: number) => void;
  onLost?: (shard: number) => void;
  logger?: Logger;
}

/** The shard of a key: FNV-1a over its UTF-8 bytes, so every replica (and every run) agrees. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export class ShardManager {
  readonly shards: number;
  private readonly opts: ShardOptions;
  private readonly api: CoordinationV1Api;
  private readonly log: Logger;
  private readonly member: LeaderElector;
  private readonly electors: LeaderElector[];
  private readonly campaigning = new Set<number>();
  private readonly held = new Set<number>();
  private liveMembers = 1;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(opts: ShardOptions) {
    if (!Number.isInteger(opts.shards) || opts.shards < 1 || opts.shards > 1024)
      throw new RangeError(`shards must be an integer from 1 to 1024, got ${opts.shards}`);
    this.shards = opts.shards;
    this.opts = opts;
    this.api = opts.kc.makeApiClient(CoordinationV1Api);
    this.log = opts.logger ?? createLogger(`shards/${opts.prefix}`);
    const timing = {
      kc: opts.kc,
      namespace: opts.namespace,
      identity: opts.identity,
      logger: this.log,
      ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
      ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
      ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
    };
    this.member = new LeaderElector({ ...timing, name: this.memberLease(opts.identity) });
    this.electors = Array.from(
      { length: this.shards },
      (_, i) =>
        new LeaderElector({
          ...timing,
          name: `${opts.prefix}-shard-${i}`,
          onStartedLeading: () => this.changed(i, true),
          onStoppedLeading: () => this.changed(i, false),
        }),
    );
  }

  /** Whether this replica owns the shard of `key` now. */
  owns(key: string): boolean {
    return this.held.has(shardOf(key, this.shards));
  }

  /** The shards this replica holds, ascending. */
  get heldShards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  get members(): number {
    return this.liveMembers;
  }

  start(): void {
    if (this.loop) return;
    this.member.start();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        await this.rebalance().catch((err: unknown) =>
          this.log.warn('Rebalancing shards failed', { error: apiErrorMessage(err) }),
        );
        await sleep(this.opts.retryPeriodMs ?? 2000, signal);
      }
    })();
  }

  /** Stops campaigning and releases every Lease this replica holds, so the others take its shards over at once. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    await Promise.all([...this.campaigning].map((i) => this.electors[i]!.stop()));
    this.campaigning.clear();
    await this.member.stop();
    try {
      await this.api.deleteNamespacedLease({
        name: this.memberLease(this.opts.identity),
        namespace: this.opts.namespace,
      });
    } catch {
      // already gone, or expires on its own
    }
  }

  /** One round: count live members, release shards beyond the fair share, campaign for more below it. */
  async rebalance(): Promise<void> {
    this.liveMembers = await this.countLiveMembers();
    const fair = Math.ceil(this.shards / this.liveMembers);
    const held = this.heldShards;
    if (held.length > fair) {
      for (const i of held.slice(fair)) {
        this.log.info('Releasing a shard beyond the fair share', { shard: i, fair, members: this.liveMembers });
        this.campaigning.delete(i);
        this.changed(i, false); // stop owning its keys before the Lease is given up
        await this.electors[i]!.stop();
      }
      return;
    }
    if (held.length === fair) {
      for (const i of [...this.campaigning]) {
        if (this.held.has(i)) continue;
        this.campaigning.delete(i);
        await this.electors[i]!.stop();
      }
      return;
    }
    // Below the fair share: campaign for every shard not held yet, starting at a point that differs per replica so
    // that replicas starting together do not all race for shard 0 first.
    const start = shardOf(this.opts.identity, this.shards);
    for (let k = 0; k < this.shards; k++) {
      const i = (start + k) % this.shards;
      if (this.campaigning.has(i)) continue;
      this.campaigning.add(i);
      this.electors[i]!.start();
    }
  }

  private memberLease(identity: string): string {
    const safe =
      identity
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'replica';
    return `${this.opts.prefix}-member-${safe}`.slice(0, 253);
  }

  /** Member Leases renewed within their duration (judged on the renew time written by the holder). */
  private async countLiveMembers(): Promise<number> {
    const leases = await this.api.listNamespacedLease({ namespace: this.opts.namespace });
    const prefix = `${this.opts.prefix}-member-`;
    const now = Date.now();
    let live = 0;
    for (const l of leases.items) {
      if (!l.metadata?.name?.startsWith(prefix) || !l.spec?.holderIdentity) continue;
      const renewed = timeMs(l.spec.renewTime as unknown as string | Date | undefined);
      const durationMs = (l.spec.leaseDurationSeconds ?? 15) * 1000;
      if (renewed !== undefined && renewed + durationMs > now) live++;
    }
    // This replica counts even before its own member Lease is written.
    const ownName = this.memberLease(this.opts.identity);
    const ownListed = leases.items.some((l) => l.metadata?.name === ownName && l.spec?.holderIdentity);
    return Math.max(1, live + (ownListed ? 0 : 1));
  }

  private changed(shard: number, leading: boolean): void {
    if (leading === this.held.has(shard)) return;
    if (leading) {
      this.held.add(shard);
      this.log.info('Acquired a shard', { shard, held: this.heldShards });
      this.opts.onAcquired?.(shard);
    } else {
      this.held.delete(shard);
      this.log.info('Lost a shard', { shard, held: this.heldShards });
      this.opts.onLost?.(shard);
    }
  }
}
