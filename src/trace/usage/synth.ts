// Seeded usage for any trace: a level per resource shaped by patterns that multiply together.
//   constant  1
//   diurnal   1 + a·sin(2π t / period)                 (a default 0.5)
//   bursty    1 + a during bursts: each sample starts one with probability 5 %, lasting 1-4 samples (a default 1)
//   trend     1 + a·t / duration                        (a default 1: doubles over the series)
//   noise     max(0, 1 + a·z), z standard normal        (a default 0.1)
// The same options and seed always give the same file.
import { cpuMillis, quantityUnits } from '../quantity.js';
import type { WorkloadRef } from '../workload.js';
import {
  roundBytes,
  roundCores,
  UsageDataError,
  USAGE_FORMAT,
  USAGE_VERSION,
  type UsageFile,
  type UsageSeries,
} from './format.js';

export const PATTERNS = ['constant', 'diurnal', 'bursty', 'trend', 'noise'] as const;
export type Pattern = (typeof PATTERNS)[number];

const DEFAULT_AMPLITUDE: Record<Pattern, number> = { constant: 0, diurnal: 0.5, bursty: 1, trend: 1, noise: 0.1 };

export interface SynthWorkload {
  workload: WorkloadRef;
  container?: string;
  /** Pods the usage is measured over; per-pod CPU scales by replicas / running pods. Absent: per-pod CPU is fixed. */
  replicas?: number;
}

export interface SynthOptions {
  workloads: SynthWorkload[];
  patterns: Pattern[];
  /** Per-pod CPU level, a quantity ("300m"). */
  cpu: string;
  /** Per-pod memory working-set level, a quantity ("512Mi"). */
  memory: string;
  /** Seconds covered and between samples. */
  duration: number;
  interval: number;
  seed: number;
  /** Overrides every pattern's amplitude. */
  amplitude?: number;
  /** diurnal: seconds per cycle. */
  period: number;
}

export const DEFAULT_SYNTH = {
  patterns: ['constant'] as Pattern[],
  cpu: '250m',
  memory: '256Mi',
  duration: 7200,
  interval: 30,
  seed: 0,
  period: 3600,
};

export function parsePatterns(s: string): Pattern[] {
  const out = s.split('+').map((p) => p.trim().toLowerCase());
  for (const p of out)
    if (!(PATTERNS as readonly string[]).includes(p))
      throw new UsageDataError(
        'pattern',
        `unknown pattern "${p}"`,
        `use ${PATTERNS.join(', ')}, combined with + (e.g. diurnal+noise)`,
      );
  return out as Pattern[];
}

/** SplitMix32 over a counter: independent streams per (seed, series, resource). */
function stream(seed: number, a: number, b: number): () => number {
  let x =
    (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(a + 1, 0xc2b2ae35) ^ Math.imul(b + 7, 0x27d4eb2f)) >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function shape(o: SynthOptions, n: number, rng: () => number): number[] {
  const f = new Array<number>(n).fill(1);
  const amp = (p: Pattern) => o.amplitude ?? DEFAULT_AMPLITUDE[p];
  for (const p of o.patterns) {
    const a = amp(p);
    if (p === 'diurnal')
      for (let i = 0; i < n; i++) f[i]! *= 1 + a * Math.sin((2 * Math.PI * i * o.interval) / o.period);
    else if (p === 'trend') for (let i = 0; i < n; i++) f[i]! *= 1 + (a * i * o.interval) / o.duration;
    else if (p === 'noise') for (let i = 0; i < n; i++) f[i]! *= Math.max(0, 1 + a * gaussian(rng));
    else if (p === 'bursty') {
      let left = 0;
      for (let i = 0; i < n; i++) {
        if (left === 0 && rng() < 0.05) left = 1 + Math.floor(rng() * 4);
        if (left > 0) {
          f[i]! *= 1 + a;
          left--;
        }
      }
    }
  }
  return f.map((x) => Math.max(0, x));
}

export function synthesizeUsage(o: SynthOptions): UsageFile {
  if (!(o.interval > 0)) throw new UsageDataError('interval', `must be > 0 seconds, got ${o.interval}`);
  if (!(o.duration >= o.interval))
    throw new UsageDataError('duration', `must be at least one interval (${o.interval} s), got ${o.duration}`);
  if (!(o.period > 0)) throw new UsageDataError('period', `must be > 0 seconds, got ${o.period}`);
  if (o.amplitude !== undefined && !(o.amplitude >= 0))
    throw new UsageDataError('amplitude', `must be ≥ 0, got ${o.amplitude}`);
  const cores = Number(cpuMillis(o.cpu)) / 1000;
  const bytes = Number(quantityUnits(o.memory));
  const n = Math.floor(o.duration / o.interval);
  const series: UsageSeries[] = o.workloads.map((w, k) => {
    const cpuShape = shape(o, n, stream(o.seed, k, 0));
    const memShape = shape(o, n, stream(o.seed, k, 1));
    return {
      workload: w.workload,
      ...(w.container ? { container: w.container } : {}),
      ...(w.replicas !== undefined ? { replicas: w.replicas } : {}),
      cpu: cpuShape.map((x) => roundCores(cores * x)),
      memory: memShape.map((x) => roundBytes(bytes * x)),
    };
  });
  return {
    format: USAGE_FORMAT,
    version: USAGE_VERSION,
    interval: o.interval,
    start: 0,
    series,
    source: `synth ${o.patterns.join('+')} seed=${o.seed}`,
  };
}
