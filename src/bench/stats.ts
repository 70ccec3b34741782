// Uncertainty of a policy's mean return. The unit of the interval is the scenario: each scenario's return is
// averaged over every episode it had (seeds × episodes), and the 95% interval is Student's t over those
// per-scenario means (n = number of scenarios, n - 1 degrees of freedom). It answers "how far may this mean move
// on another draw of scenarios from the same split", which is what a shifted test set asks. Seed-to-seed spread is
// reported next to it (seedSd), not folded in.

/** Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (a Cornish–Fisher term above 30, within 0.003). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be at least 1, got ${df}`);
  const d = Math.floor(df);
  if (d <= 30) return T975[d - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * d);
}

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Sample standard deviation (n - 1); 0 for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Half-width of the 95% t interval of the mean of `xs`; null for fewer than two values. */
export function ci95HalfWidth(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  return (tQuantile975(xs.length - 1) * sampleSd(xs)) / Math.sqrt(xs.length);
}

/** Group values by key and average each group (insertion order of first appearance). */
export function groupMeans<T>(items: readonly T[], key: (x: T) => string, value: (x: T) => number): number[] {
  const groups = new Map<string, number[]>();
  for (const it of items) {
    const k = key(it);
    const g = groups.get(k);
    if (g) g.push(value(it));
    else groups.set(k, [value(it)]);
  }
  return [...groups.values()].map(mean);
}
