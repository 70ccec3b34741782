// The server's envs: random unguessable ids, optional owner tokens (an env bound to a client token is invisible to
// every other client), a cap on how many exist, idle expiry, and one operation at a time per env.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ArenaEnv } from './env.js';
import { HttpError, notFound } from './errors.js';

export interface RegistryOptions {
  /** At most this many envs at once; creating one more is a 429. */
  maxEnvs: number;
  /** Envs untouched for this long are deleted (ms); 0 keeps them until deleted. */
  idleTimeoutMs: number;
  /** At most this many envs per client token (x-client-token; clients without one share one quota). Default: maxEnvs. */
  maxEnvsPerClient?: number;
  /** Uploaded trace bytes all envs may hold together; a create beyond it is a 503. Default: unlimited. */
  traceBudgetBytes?: number;
  now?: () => number;
  /** Told the ids of envs that idle expiry deleted. */
  onExpire?: (ids: string[]) => void;
}

/** Room taken before a create's body is decoded; `add` turns it into the env's, `release` gives it back. */
export interface Slot {
  client: string;
  traceBytes: number;
  released: boolean;
}

export interface Entry {
  id: string;
  env: ArenaEnv;
  /** sha256 of the client token that created it, or undefined (reachable by anyone who knows the id). */
  owner: Buffer | undefined;
  lastUsed: number;
  /** The tail of this env's operation queue. */
  tail: Promise<unknown>;
  busy: number;
  /** Quota key: the client token, or "" for clients without one. */
  client: string;
  /** Bytes of the uploaded trace this env holds (0 for built-in scenarios). */
  traceBytes: number;
}

const hashToken = (t: string) => createHash('sha256').update(t).digest();

// The refusals, shared with the multi-worker router (workers.ts), which enforces the same limits across workers.
export const tooManyEnvs = (maxEnvs: number, idleTimeoutMs: number) =>
  new HttpError(
    429,
    `too many envs: this server holds at most ${maxEnvs}; DELETE envs you no longer use (idle envs expire after ${Math.round(idleTimeoutMs / 1000)}s)`,
    { 'Retry-After': '5' },
    'quota',
  );
export const tooManyForClient = (quota: number) =>
  new HttpError(
    429,
    `too many envs for this client: at most ${quota} per client token (sim-arena serve --max-envs-per-client); DELETE envs you no longer use`,
    { 'Retry-After': '5' },
    'quota',
  );
export const traceBudgetUsedUp = (need: number, free: number, budget: number) =>
  new HttpError(
    503,
    `the server's trace memory budget is used up: this trace needs ${need} bytes, ${Math.max(0, free)} of ${budget} are free (sim-arena serve --trace-budget); retry later or DELETE envs`,
    { 'Retry-After': '5' },
    'budget',
  );
export const unknownEnv = (id: string) =>
  notFound(`no env with id "${id}" (it may have been deleted or expired; create one with POST /v1/envs)`);

export function newEnvId(): string {
  // 128 random bits; the prefix makes ids recognisable in logs.
  return `env-${randomBytes(16).toString('hex')}`;
}

export class EnvRegistry {
  private readonly envs = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly slots = new Set<Slot>();

  constructor(private readonly opts: RegistryOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.envs.size;
  }

  /** Throws 429 when full (after dropping expired envs). */
  reserve(): void {
    this.expire();
    if (this.envs.size >= this.opts.maxEnvs) throw this.full();
  }

  /** Envs held (and being created) by this client. */
  clientCount(clientToken: string | undefined): number {
    const key = clientToken ?? '';
    let n = 0;
    for (const e of this.envs.values()) if (e.client === key) n++;
    for (const s of this.slots) if (s.client === key) n++;
    return n;
  }

  /** Uploaded trace bytes held by all envs and by creates in flight. */
  get heldTraceBytes(): number {
    let n = 0;
    for (const e of this.envs.values()) n += e.traceBytes;
    for (const s of this.slots) n += s.traceBytes;
    return n;
  }

  /**
   * Check that one more env fits (the env cap, this client's quota and, with `traceBytes`, the trace budget) and
   * hold its room until `add` or `release`. Called before a create's body is decoded, so a refusal costs nothing.
   */
  reserveSlot(clientToken: string | undefined, traceBytes = 0): Slot {
    this.expire();
    if (this.envs.size + this.slots.size >= this.opts.maxEnvs) throw this.full();
    const quota = this.opts.maxEnvsPerClient ?? this.opts.maxEnvs;
    if (this.clientCount(clientToken) >= quota) {
      throw tooManyForClient(quota);
    }
    const budget = this.opts.traceBudgetBytes;
    if (budget !== undefined && traceBytes > 0 && this.heldTraceBytes + traceBytes > budget) {
      throw traceBudgetUsedUp(traceBytes, budget - this.heldTraceBytes, budget);
    }
    const slot: Slot = { client: clientToken ?? '', traceBytes, released: false };
    this.slots.add(slot);
    return slot;
  }

  release(slot: Slot): void {
    slot.released = true;
    this.slots.delete(slot);
  }

  private full(): HttpError {
    return tooManyEnvs(this.opts.maxEnvs, this.opts.idleTimeoutMs);
  }

  add(env: ArenaEnv, clientToken: string | undefined, id = newEnvId(), slot?: Slot): string {
    if (slot && !slot.released) this.release(slot);
    else this.reserve();
    this.envs.set(id, {
      id,
      env,
      owner: clientToken ? hashToken(clientToken) : undefined,
      lastUsed: this.now(),
      tail: Promise.resolve(),
      busy: 0,
      client: clientToken ?? '',
      traceBytes: slot?.traceBytes ?? 0,
    });
    return id;
  }

  /** The env for this id and client, or a 404 that says the same whether the id is unknown or someone else's. */
  get(id: string, clientToken: string | undefined): Entry {
    const e = this.envs.get(id);
    if (!e || !ownerMatches(e.owner, clientToken)) throw unknownEnv(id);
    e.lastUsed = this.now();
    return e;
  }

  delete(id: string, clientToken: string | undefined): ArenaEnv {
    const e = this.get(id, clientToken);
    this.envs.delete(id);
    return e.env;
  }

  /** Run `fn` when every earlier operation on this env has finished (requests to one env never interleave). */
  run<T>(entry: Entry, fn: (env: ArenaEnv) => Promise<T>): Promise<T> {
    entry.busy++;
    const result = entry.tail.then(() => fn(entry.env));
    entry.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      entry.busy--;
      entry.lastUsed = this.now();
    });
  }

  /** Drop envs idle for longer than the timeout (never one with an operation in flight). Returns how many. */
  expire(): number {
    if (this.opts.idleTimeoutMs <= 0) return 0;
    const cutoff = this.now() - this.opts.idleTimeoutMs;
    const gone: string[] = [];
    for (const [id, e] of this.envs) {
      if (e.busy === 0 && e.lastUsed < cutoff) {
        this.envs.delete(id);
        gone.push(id);
      }
    }
    if (gone.length) this.opts.onExpire?.(gone);
    return gone.length;
  }

  clear(): void {
    this.envs.clear();
    this.slots.clear();
  }
}

function ownerMatches(owner: Buffer | undefined, token: string | undefined): boolean {
  if (owner === undefined) return true;
  if (token === undefined) return false;
  return timingSafeEqual(owner, hashToken(token));
}
