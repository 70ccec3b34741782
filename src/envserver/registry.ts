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
  now?: () => number;
}

interface Entry {
  id: string;
  env: ArenaEnv;
  /** sha256 of the client token that created it, or undefined (reachable by anyone who knows the id). */
  owner: Buffer | undefined;
  lastUsed: number;
  /** The tail of this env's operation queue. */
  tail: Promise<unknown>;
  busy: number;
}

const hashToken = (t: string) => createHash('sha256').update(t).digest();

export function newEnvId(): string {
  // 128 random bits; the prefix makes ids recognisable in logs.
  return `env-${randomBytes(16).toString('hex')}`;
}

export class EnvRegistry {
  private readonly envs = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: RegistryOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.envs.size;
  }

  /** Throws 429 when full (after dropping expired envs). */
  reserve(): void {
    this.expire();
    if (this.envs.size >= this.opts.maxEnvs) {
      throw new HttpError(429, `too many envs: this server holds at most ${this.opts.maxEnvs}; DELETE envs you no longer use (idle envs expire after ${Math.round(this.opts.idleTimeoutMs / 1000)}s)`, { 'Retry-After': '5' });
    }
  }

  add(env: ArenaEnv, clientToken: string | undefined, id = newEnvId()): string {
    this.reserve();
    this.envs.set(id, { id, env, owner: clientToken ? hashToken(clientToken) : undefined, lastUsed: this.now(), tail: Promise.resolve(), busy: 0 });
    return id;
  }

  /** The env for this id and client, or a 404 that says the same whether the id is unknown or someone else's. */
  get(id: string, clientToken: string | undefined): Entry {
    const e = this.envs.get(id);
    if (!e || !ownerMatches(e.owner, clientToken)) throw notFound(`no env with id "${id}" (it may have been deleted or expired; create one with POST /v1/envs)`);
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
    let n = 0;
    for (const [id, e] of this.envs) {
      if (e.busy === 0 && e.lastUsed < cutoff) {
        this.envs.delete(id);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.envs.clear();
  }
}

function ownerMatches(owner: Buffer | undefined, token: string | undefined): boolean {
  if (owner === undefined) return true;
  if (token === undefined) return false;
  return timingSafeEqual(owner, hashToken(token));
}
