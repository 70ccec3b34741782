// The VPA recommender's estimation, as field-anchors §2.1 describes it (kubernetes/autoscaler
// pkg/recommender/logic and util/histogram): exponential-bucket decaying histograms, the upper edge of the
// percentile's bucket, a 15% margin, confidence-scaled bounds and the 25m / 250Mi per-pod floor.

export interface HistogramOptions {
  /** size of the first bucket */
  first: number;
  /** largest value the histogram holds */
  max: number;
  /** each bucket is this much wider than the previous one */
  ratio: number;
}

/** CPU in cores: first bucket 0.01 cores, up to 1000 cores, 5% growth. */
export const CPU_HISTOGRAM: HistogramOptions = { first: 0.01, max: 1000, ratio: 1.05 };
/** Memory in bytes: first bucket 1e7 bytes, up to 1e12, 5% growth. */
export const MEMORY_HISTOGRAM: HistogramOptions = { first: 1e7, max: 1e12, ratio: 1.05 };

export const DAY_SECONDS = 86_400;

export class DecayingHistogram {
  readonly weights: number[];
  total = 0;

  constructor(
    readonly opts: HistogramOptions,
    /** seconds for a sample's weight to halve, relative to newer ones */
    readonly halfLifeSeconds: number,
    readonly referenceTime = 0,
  ) {
    const n = Math.ceil(Math.log((opts.max * (opts.ratio - 1)) / opts.first + 1) / Math.log(opts.ratio)) + 1;
    this.weights = new Array<number>(n).fill(0);
  }

  get buckets(): number {
    return this.weights.length;
  }

  /** Bucket i covers [start(i), start(i+1)), start(i) = first·(ratio^i − 1)/(ratio − 1). */
  bucketStart(i: number): number {
    const { first, ratio } = this.opts;
    return (first * (ratio ** i - 1)) / (ratio - 1);
  }

  findBucket(value: number): number {
    const { first, ratio } = this.opts;
    if (!(value > 0)) return 0;
    const i = Math.floor(Math.log((value * (ratio - 1)) / first + 1) / Math.log(ratio));
    // Guard against floating-point edges: the bucket must satisfy start(i) <= value < start(i+1).
    let b = Math.min(Math.max(i, 0), this.buckets - 1);
    while (b > 0 && this.bucketStart(b) > value) b--;
    while (b < this.buckets - 1 && this.bucketStart(b + 1) <= value) b++;
    return b;
  }

  /** Add a sample taken at `time` (seconds): its weight grows by 2^((time − ref)/halfLife), so newer counts more. */
  add(value: number, weight: number, time: number): void {
    const w = weight * 2 ** ((time - this.referenceTime) / this.halfLifeSeconds);
    this.weights[this.findBucket(value)]! += w;
    this.total += w;
  }

  /** Walk buckets until the cumulative weight reaches p·total; return that bucket's upper edge. 0 when empty. */
  percentile(p: number): number {
    if (this.total <= 0) return 0;
    const threshold = p * this.total;
    let sum = 0;
    for (let i = 0; i < this.buckets; i++) {
      sum += this.weights[i]!;
      if (sum >= threshold - 1e-12 * this.total)
        return i + 1 < this.buckets ? this.bucketStart(i + 1) : this.bucketStart(i);
    }
    return this.bucketStart(this.buckets - 1);
  }
}

export interface Estimate {
  /** millicores, rounded up to 1m */
  cpuMillis: bigint;
  /** bytes, rounded up to 1 byte */
  memoryBytes: bigint;
}

export interface Recommendation {
  target: Estimate;
  lower: Estimate;
  upper: Estimate;
  /** days of history the bounds were scaled by */
  confidence: number;
}

export interface RecommenderSettings {
  /** 0.15 */
  marginFraction: number;
  /** per-pod floor, split across containers: 25m */
  podMinCpuCores: number;
  /** per-pod floor: 250 MiB */
  podMinMemoryBytes: number;
  targetPercentile: number;
  lowerPercentile: number;
  upperPercentile: number;
}

export const VPA_DEFAULTS: RecommenderSettings = {
  marginFraction: 0.15,
  podMinCpuCores: 0.025,
  podMinMemoryBytes: 250 * 1024 * 1024,
  targetPercentile: 0.9,
  lowerPercentile: 0.5,
  upperPercentile: 0.95,
};

/**
 * The recommender's estimation pipeline for one container:
 * x = percentile × (1 + margin); upper ×= (1 + 1/conf); lower ×= (1 + 0.001/conf)^−2; x = max(x, podMin / containers).
 */
export function recommend(
  cpu: DecayingHistogram,
  memoryPeaks: DecayingHistogram,
  confidenceDays: number,
  containers = 1,
  s: RecommenderSettings = VPA_DEFAULTS,
): Recommendation {
  const margin = 1 + s.marginFraction;
  const upperMul = confidenceDays > 0 ? 1 + 1 / confidenceDays : Infinity;
  const lowerMul = confidenceDays > 0 ? (1 + 0.001 / confidenceDays) ** -2 : 0;
  const cpuFloor = s.podMinCpuCores / containers;
  const memFloor = s.podMinMemoryBytes / containers;
  const est = (cpuCores: number, memBytes: number): Estimate => ({
    cpuMillis: toBig(Math.ceil(Math.max(cpuCores, cpuFloor) * 1000 - 1e-9)),
    memoryBytes: toBig(Math.ceil(Math.max(memBytes, memFloor) - 1e-6)),
  });
  return {
    target: est(cpu.percentile(s.targetPercentile) * margin, memoryPeaks.percentile(s.targetPercentile) * margin),
    lower: est(
      cpu.percentile(s.lowerPercentile) * margin * lowerMul,
      memoryPeaks.percentile(s.lowerPercentile) * margin * lowerMul,
    ),
    upper: est(
      cpu.percentile(s.upperPercentile) * margin * upperMul,
      memoryPeaks.percentile(s.upperPercentile) * margin * upperMul,
    ),
    confidence: confidenceDays,
  };
}

/** Finite numbers to bigint; an unbounded upper bound (no history) becomes a very large value. */
function toBig(x: number): bigint {
  return Number.isFinite(x) ? BigInt(Math.max(0, x)) : 2n ** 62n;
}
