import type { Timers } from '../../../src/controller/backoff.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Hand-driven timers for the work queue: `advance(ms)` fires due callbacks in time order. */
export class FakeTimers implements Timers {
  private clock = 0;
  private nextId = 1;
  private pending: Pending[] = [];
  /** Every delay ever scheduled, in order. */
  readonly scheduled: number[] = [];

  now(): number {
    return this.clock;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ id, at: this.clock + ms, fn });
    this.scheduled.push(ms);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  get size(): number {
    return this.pending.length;
  }

  advance(ms: number): void {
    const until = this.clock + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > until) break;
      this.pending.shift();
      this.clock = next.at;
      next.fn();
    }
    this.clock = until;
  }
}

/** Lets queued promise callbacks run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A promise plus its resolve/reject, for holding a reconcile open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
