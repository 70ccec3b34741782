// The "vpa-like" baseline: what the Vertical Pod Autoscaler's recommender would ask for, reached one action at a
// time, with replicas walked to the target.
//
// THE USAGE ASSUMPTION. VPA sizes requests from observed usage, and traces carry none (pods in a replay run no
// code). This policy therefore invents a usage history, and says so:
//   - mean CPU usage per pod = cpuUtilization (default 0.5) × the CPU request the episode started with, and mean
//     memory working set = memoryUtilization (default 0.5) × the starting memory request; or, when given,
//     the absolute `cpuUsage` / `memoryUsage` parameters (a "hidden per-scenario usage"). Half the request is a round
//     figure near what Google's Autopilot paper reports for hand-set limits (46% slack); it is an assumption, and
//     which scenarios vpa-like solves depends on it;
//   - per-sample noise is log-normal with the mean kept (σ 0.25 for CPU, which is bursty; 0.05 for memory, which
//     is smooth), drawn from the episode's seeded rng, so an episode replays identically;
//   - `samples` (default 480) CPU samples; memory peaks are the maxima of 8 equal intervals.
// The usage is anchored to the *starting* request because anchoring to the current one would shrink forever.
// A policy instance that first sees an episode after step 1 (a restarted operator) anchors to the requests it
// sees then.
//
// Two time scales (field-anchors §2.1 "with short episodes"):
//   - time-scaled (default): the history counts as 8 days (half-life 1 day, memory interval 1 day, confidence 8),
//     so the bounds are tight and VPA acts;
//   - defaults: one sample per minute, half-life and memory interval 24h, confidence = samples/1440 days, as a fresh
//     VPA would see an hour-scale history: wide bounds, and it rarely acts.
// Replicas are walked to the target first. Then, like VPA's updater, a request that lies outside
// [lowerBound, upperBound] is updated to the target estimate: here one step per action, continuing until another
// step would not land closer to the target. VPA never looks at node allocatable, so a
// recommendation larger than every node leaves pods Pending; that is VPA's real blind spot and this baseline keeps it.
// Not modelled: LimitRanges, min/maxAllowed.
//
// WITH USAGE (an episode given --usage / spec.usage) nothing is invented: every step feeds the window's per-pod
// usage into the histograms (CPU samples at the usage clock's times; one memory peak per step window — the
// aggregation interval shrunk to a step, as time-scaled mode shrinks it), an OOM kill adds VPA's OOM sample
// (max(1.2 × the memory request, request + 100Mi)) and, time-scaled, every 60 samples count as a day of confidence.
// The episode continues at the goal, so requests keep following the recommendation.
import { proportionalDelta, type ActionType } from '../arena/actions.js';
import { atTarget } from '../arena/observation.js';
import type { Policy, PolicyContext } from '../arena/policies.js';
import { mulberry32 } from '../util/rng.js';
import { checkCpu, checkMemory, resolveLimits } from '../arena/safeguards.js';
import { cpuFromMillis, cpuMillis, memoryFromBytes, quantityUnits } from '../trace/quantity.js';
import { ParamReader, type Params } from './params.js';
import {
  CPU_HISTOGRAM,
  DAY_SECONDS,
  DecayingHistogram,
  MEMORY_HISTOGRAM,
  recommend,
  type Recommendation,
} from './vpa.js';

export type VpaMode = 'time-scaled' | 'defaults';

export interface VpaLikeOptions {
  mode: VpaMode;
  cpuUtilization: number;
  memoryUtilization: number;
  /** absolute mean usage per pod (millicores / bytes); overrides the utilization model */
  cpuUsageMillis?: number;
  memoryUsageBytes?: number;
  samples: number;
  cpuNoise: number;
  memoryNoise: number;
}

export const VPA_LIKE_DEFAULTS: VpaLikeOptions = {
  mode: 'time-scaled',
  cpuUtilization: 0.5,
  memoryUtilization: 0.5,
  samples: 480,
  cpuNoise: 0.25,
  memoryNoise: 0.05,
};

const MEMORY_INTERVALS = 8;

export interface UsageHistory {
  cpu: DecayingHistogram;
  memoryPeaks: DecayingHistogram;
  confidenceDays: number;
  /** the means the samples were drawn around */
  meanCpuMillis: number;
  meanMemoryBytes: number;
}

/** Standard normal draws from a uniform rng (Box–Muller). */
function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A synthetic usage history around the given means, fed into VPA's histograms. */
export function usageHistory(
  meanCpuMillis: number,
  meanMemoryBytes: number,
  seed: number,
  o: VpaLikeOptions,
): UsageHistory {
  const rng = mulberry32(seed);
  const scaled = o.mode === 'time-scaled';
  const span = scaled ? 8 * DAY_SECONDS : o.samples * 60;
  const dt = span / o.samples;
  const halfLife = scaled ? span / 8 : DAY_SECONDS;
  const cpu = new DecayingHistogram(CPU_HISTOGRAM, halfLife, 0);
  const memoryPeaks = new DecayingHistogram(MEMORY_HISTOGRAM, halfLife, 0);
  // VPA's memory aggregation interval: 1 day (time-scaled: 1/8 of the history), 24h in defaults mode.
  const interval = scaled ? span / MEMORY_INTERVALS : DAY_SECONDS;
  let peak = 0;
  let peakInterval = 0;
  for (let k = 0; k < o.samples; k++) {
    const t = k * dt;
    const cores = (meanCpuMillis / 1000) * Math.exp(o.cpuNoise * normal(rng) - (o.cpuNoise * o.cpuNoise) / 2);
    const mem = meanMemoryBytes * Math.exp(o.memoryNoise * normal(rng) - (o.memoryNoise * o.memoryNoise) / 2);
    cpu.add(cores, 0.1, t); // minSampleWeight
    const iv = Math.floor(t / interval);
    if (iv !== peakInterval) {
      memoryPeaks.add(peak, 1, peakInterval * interval);
      peak = 0;
      peakInterval = iv;
    }
    peak = Math.max(peak, mem);
  }
  memoryPeaks.add(peak, 1, peakInterval * interval);
  // VPA's confidence: min(lifespan in days, samples / 1440); both equal the span here (one sample per minute when
  // not time-scaled; time-scaled, the span is 8 days by construction).
  return { cpu, memoryPeaks, confidenceDays: span / DAY_SECONDS, meanCpuMillis, meanMemoryBytes };
}

export interface VpaDecision {
  action: ActionType;
  reason: string;
  recommendation: {
    target: { cpu: string; memory: string };
    lower: { cpu: string; memory: string };
    upper: { cpu: string; memory: string };
  };
}

const show = (r: Recommendation['target']) => ({
  cpu: cpuFromMillis(r.cpuMillis),
  memory: memoryFromBytes(r.memoryBytes),
});

export class VpaLikePolicy implements Policy {
  readonly name = 'vpa-like';
  readonly opts: VpaLikeOptions;
  private rec: Recommendation | undefined;
  /** a request update in progress (VPA would set it to the target at once; we walk there) */
  private adjusting = { cpu: false, memory: false };
  /** the last decision and why (for reports and tests) */
  last: VpaDecision | undefined;

  constructor(opts: Partial<VpaLikeOptions> = {}) {
    this.opts = { ...VPA_LIKE_DEFAULTS, ...opts };
  }

  /** The recommendation for the episode, built at its first step from the requests then. */
  recommendation(): Recommendation | undefined {
    return this.rec;
  }

  private startEpisode(ctx: PolicyContext): void {
    const o = this.opts;
    const meanCpu = o.cpuUsageMillis ?? Number(cpuMillis(ctx.resources.cpu)) * o.cpuUtilization;
    const meanMem = o.memoryUsageBytes ?? Number(quantityUnits(ctx.resources.memory)) * o.memoryUtilization;
    const seed = Math.floor(ctx.rng() * 2 ** 32);
    const h = usageHistory(meanCpu, meanMem, seed, o);
    this.rec = recommend(h.cpu, h.memoryPeaks, h.confidenceDays);
    this.adjusting = { cpu: false, memory: false };
  }

  private observed:
    | { cpu: DecayingHistogram; memoryPeaks: DecayingHistogram; samples: number; first: number; last: number }
    | undefined;

  /** Feed the window the observation covers into the histograms; the recommendation follows real usage. */
  private observeUsage(ctx: PolicyContext): void {
    const u = ctx.usage!;
    if (ctx.step <= 1 || !this.observed) {
      this.observed = {
        cpu: new DecayingHistogram(CPU_HISTOGRAM, DAY_SECONDS, 0),
        memoryPeaks: new DecayingHistogram(MEMORY_HISTOGRAM, DAY_SECONDS, 0),
        samples: 0,
        first: u.from,
        last: u.from,
      };
      this.adjusting = { cpu: false, memory: false };
    }
    const h = this.observed;
    u.cpu.forEach((c, i) => h.cpu.add(c, 0.1, u.from + i * u.tick));
    if (u.memory.length) h.memoryPeaks.add(Math.max(...u.memory), 1, u.from);
    if ((ctx.obs.oomKills ?? 0) > 0) {
      const req = Number(quantityUnits(ctx.resources.memory));
      h.memoryPeaks.add(Math.max(1.2 * req, req + 100 * 2 ** 20), 1, u.from);
    }
    h.samples += u.cpu.length;
    h.last = u.from + u.cpu.length * u.tick;
    const confidenceDays =
      this.opts.mode === 'time-scaled' ? h.samples / 60 : Math.min((h.last - h.first) / DAY_SECONDS, h.samples / 1440);
    this.rec = recommend(h.cpu, h.memoryPeaks, Math.max(confidenceDays, 1e-6));
  }

  decide(ctx: PolicyContext): ActionType {
    if (ctx.usage) this.observeUsage(ctx);
    else if (ctx.step <= 1 || !this.rec) this.startEpisode(ctx);
    const rec = this.rec!;
    const recommendation = { target: show(rec.target), lower: show(rec.lower), upper: show(rec.upper) };
    const done = (action: ActionType, reason: string): ActionType => {
      // Never repeat an action already blocked on this trace.
      if (ctx.blocked?.includes(action)) [action, reason] = ['noop', `${action} is blocked at this state`];
      this.last = { action, reason, recommendation };
      return action;
    };
    if (!ctx.usage && atTarget(ctx.obs, ctx.target)) return done('noop', 'at target');
    const limits = resolveLimits(ctx.settings.safeguards);

    // Replicas first: the target is given, so walking to it is never wrong.
    const r = ctx.resources.replicas;
    if (r < ctx.target && r + ctx.settings.steps.replicas <= limits.maxReplicas)
      return done('scale-up', `replicas ${r} below the target ${ctx.target}`);
    if (r > ctx.target && r - ctx.settings.steps.replicas >= limits.minReplicas)
      return done('scale-down', `replicas ${r} above the target ${ctx.target}`);

    // Then requests, as VPA's updater would: a request outside [lower, upper] is updated to the target estimate.
    // Here that update is walked one step at a time, and once started it continues until the next step would
    // not get closer to the target, even through the bounds.
    const moves: Array<{ action: ActionType; gap: number; reason: string }> = [];
    const consider = (res: 'cpu' | 'memory', cur: bigint, step: bigint, lo: bigint, hi: bigint, target: bigint) => {
      if (step <= 0n) return;
      const outside = cur < lo || cur > hi;
      if (outside) this.adjusting[res] = true;
      if (!this.adjusting[res]) return;
      const dir: 1 | -1 = cur > target ? -1 : 1;
      const next =
        ctx.settings.set === 'proportional' && cur > 0n
          ? cur +
            proportionalDelta(cur * (res === 'cpu' ? 1_000_000n : 1_000_000_000n), dir, res) /
              (res === 'cpu' ? 1_000_000n : 1_000_000_000n)
          : cur + BigInt(dir) * step;
      const blocked = res === 'cpu' ? checkCpu(next, dir, limits) : checkMemory(next, dir, limits);
      if (abs(next - target) >= abs(cur - target) || blocked) {
        this.adjusting[res] = false;
        return;
      }
      const show = res === 'cpu' ? (x: bigint) => cpuFromMillis(x) : humanBytes;
      const name = res === 'cpu' ? 'CPU' : 'memory';
      moves.push({
        action: res === 'cpu' ? (dir < 0 ? 'reduce-cpu' : 'bump-cpu') : dir < 0 ? 'reduce-mem' : 'bump-mem',
        gap: Number(abs(cur - target)) / Number(step),
        reason: `${name} ${show(cur)} ${outside ? `is outside [${show(lo)}, ${show(hi)}]` : 'is being moved'}; target ${show(target)}`,
      });
    };
    consider(
      'cpu',
      cpuMillis(ctx.resources.cpu),
      cpuMillis(ctx.settings.steps.cpu),
      rec.lower.cpuMillis,
      rec.upper.cpuMillis,
      rec.target.cpuMillis,
    );
    consider(
      'memory',
      quantityUnits(ctx.resources.memory),
      quantityUnits(ctx.settings.steps.memory),
      rec.lower.memoryBytes,
      rec.upper.memoryBytes,
      rec.target.memoryBytes,
    );
    // The resource furthest from its target (in steps) moves first.
    moves.sort((a, b) => b.gap - a.gap);
    if (moves[0]) return done(moves[0].action, moves[0].reason);
    return done('noop', 'replicas at the target and requests within the recommendation');
  }
}

/** Bytes for people: 24652874362 → "22.96Gi". */
export function humanBytes(b: bigint): string {
  const n = Number(b);
  for (const [u, f] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const)
    if (n >= f) return `${Math.round((n / f) * 100) / 100}${u}`;
  return String(n);
}

const abs = (x: bigint) => (x < 0n ? -x : x);

export const VPA_LIKE_PARAMS = [
  'mode',
  'cpuUtilization',
  'memoryUtilization',
  'cpuUsage',
  'memoryUsage',
  'samples',
] as const;

/** Parameters: mode (time-scaled|defaults), cpuUtilization, memoryUtilization (0-1), cpuUsage, memoryUsage (quantities), samples. */
export function vpaLikeFromParams(params: Params): VpaLikePolicy {
  const r = new ParamReader('vpa-like', params);
  r.only(VPA_LIKE_PARAMS);
  const opts: Partial<VpaLikeOptions> = {
    mode: r.oneOf('mode', ['time-scaled', 'defaults'] as const, VPA_LIKE_DEFAULTS.mode),
    cpuUtilization: r.num('cpuUtilization', VPA_LIKE_DEFAULTS.cpuUtilization, 0, 10),
    memoryUtilization: r.num('memoryUtilization', VPA_LIKE_DEFAULTS.memoryUtilization, 0, 10),
    samples: r.int('samples', VPA_LIKE_DEFAULTS.samples, 1, 1_000_000),
  };
  const cpu = r.str('cpuUsage');
  const mem = r.str('memoryUsage');
  if (cpu !== undefined) opts.cpuUsageMillis = Number(cpuMillis(cpu));
  if (mem !== undefined) opts.memoryUsageBytes = Number(quantityUnits(mem));
  return new VpaLikePolicy(opts);
}
