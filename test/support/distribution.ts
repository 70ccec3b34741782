// Comparing racy replays by their distributions: when several workloads compete for too few nodes, which pods win
// depends on the order the controllers create them, so single outcomes of a real scheduler differ run to run. Two
// backends agree on such a trace when the distributions of their outcomes (e.g. the workload's ready count over
// seeds or repeats) are close: total variation distance at most a tolerance, and equal supports' bounds within one.

/** Outcome → how many runs gave it. */
export type Counts = Map<number, number>;

export function countsOf(values: readonly number[]): Counts {
  const c: Counts = new Map();
  for (const v of values) c.set(v, (c.get(v) ?? 0) + 1);
  return c;
}

/** Total variation distance between the empirical distributions of two samples (0 = same, 1 = disjoint). */
export function totalVariation(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) throw new Error('totalVariation: both samples need at least one value');
  const ca = countsOf(a);
  const cb = countsOf(b);
  let sum = 0;
  for (const k of new Set([...ca.keys(), ...cb.keys()])) {
    sum += Math.abs((ca.get(k) ?? 0) / a.length - (cb.get(k) ?? 0) / b.length);
  }
  return sum / 2;
}

export interface DistributionVerdict {
  tv: number;
  /** Largest gap between the two samples' minima or maxima. */
  rangeGap: number;
  agree: boolean;
}

/**
 * Two samples agree when their total variation is at most `tolerance` and their ranges differ by at most
 * `rangeSlack` at either end (a deterministic backend's single outcome must lie inside what the racy one shows).
 */
export function compareDistributions(
  a: readonly number[],
  b: readonly number[],
  tolerance: number,
  rangeSlack = 1,
): DistributionVerdict {
  const tv = totalVariation(a, b);
  const rangeGap = Math.max(Math.abs(Math.min(...a) - Math.min(...b)), Math.abs(Math.max(...a) - Math.max(...b)));
  return { tv, rangeGap, agree: tv <= tolerance && rangeGap <= rangeSlack };
}

export function formatCounts(values: readonly number[]): string {
  return [...countsOf(values).entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');
}
