export interface BackoffOptions {
  /** Delay after the first failure. Default 1000 ms. */
  baseMs?: number;
  /** Growth per further failure. Default 2. */
  factor?: number;
  /** Upper bound for any delay, jitter included. Default 300000 ms. */
  maxMs?: number;
  /** Fraction of the delay added at random: delay * (1 + jitter * random()). Default 0.2. */
  jitter?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export function resolveBackoff(opts: BackoffOptions = {}): ResolvedBackoff {
  return {
    baseMs: opts.baseMs ?? 1000,
    factor: opts.factor ?? 2,
    maxMs: opts.maxMs ?? 300_000,
    jitter: opts.jitter ?? 0.2,
  };
}

/** Delay before retry number `failures + 1` (failures = how many attempts already failed). */
export function backoffDelay(failures: number, opts: ResolvedBackoff, random: () => number): number {
  const raw = Math.min(opts.maxMs, opts.baseMs * Math.pow(opts.factor, Math.max(0, failures)));
  return Math.round(Math.min(opts.maxMs, raw * (1 + opts.jitter * random())));
}

/** Deterministic PRNG in [0, 1), so jitter can be reproduced from a seed (the arena's mulberry32). */
export { mulberry32 as seededRandom } from '../util/rng.js';

/** Timer functions, injectable so tests can drive time by hand. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts; callers stop loops by aborting. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
