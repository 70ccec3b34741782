// A tiny seeded PRNG (SplitMix32) for the scheduler's tie-breaks: the same seed gives the same placements.

export class Rng {
  private state: number;

  constructor(seed: number) {
    // Fold a seed of any size (and sign) into 32 bits, keeping the high part for seeds above 2^32.
    const s = Number.isFinite(seed) ? Math.trunc(seed) : 0;
    const hi = Math.floor(s / 4294967296) | 0;
    this.state = (s | 0) ^ Math.imul(hi, 0x27d4eb2f);
  }

  /** A copy that continues the same sequence. */
  fork(): Rng {
    const c = new Rng(0);
    c.state = this.state;
    return c;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform integer in [0, n) for n >= 1 (multiply-shift; the bias is below n / 2^32). */
  intn(n: number): number {
    return Math.floor((this.nextU32() * n) / 4294967296);
  }
}
