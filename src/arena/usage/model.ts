// What usage does to a workload's pods, given where the replay placed them. Pure and deterministic for a seed; every
// backend feeds it its placements (embedded: the replay's result; kwok: the pods the real scheduler bound) and
// reports its verdict the backend's way. README "Usage and right-sizing" documents the model; in short, per tick:
//   demand   = the series' per-pod value (CPU × replicas / running pods when the series says how many it measured)
//              × seeded per-pod, per-tick noise max(0, 1 + noise·z)
//   memory   above the container's memory limit → OOMKilled; a node whose memory (other pods at their requests +
//            the workload's working sets) exceeds allocatable OOM-kills the workload's pods furthest above their
//            request until it fits. A killed container restarts after CrashLoopBackOff's back-off (10 s doubling to
//            300 s, reset after 10 min up) and is not Ready meanwhile.
//   CPU      is capped at the limit; on a node whose CPU demand exceeds allocatable, each pod first gets up to its
//            request and the rest is shared in proportion to requests (CFS shares). Unmet demand / demand is the
//            throttled fraction; a pod throttled more than `throttleUnready` over the step's window fails readiness.
// A pod's history is simulated from the episode's start (tick 0) with the current spec, so an episode step is a pure
// function of (trace, usage, step): raising a limit is like the replacement pods a template change brings.
import { sampleAt, type UsageFile, type UsageSeries } from '../../trace/usage/format.js';

export interface UsagePod {
  /** Bound node, or null (Pending). */
  node: string | null;
  /** Bound and running (the replay's Running phase). */
  running: boolean;
}

export interface UsageNode {
  name: string;
  /** Allocatable and the sum of requests of every pod bound there (the workload's included): cores and bytes. */
  allocCpu: number;
  allocMem: number;
  requestedCpu: number;
  requestedMem: number;
}

/** The target container's requests and limits in cores / bytes; a limit of null means none. */
export interface UsageContainer {
  requestCpu: number;
  requestMem: number;
  limitCpu: number | null;
  limitMem: number | null;
}

export interface UsageSettings {
  /** Seconds of usage clock per episode step (the episode's stepDuration). */
  stepSeconds: number;
  /** Per-pod, per-tick multiplicative noise (standard deviation); 0 turns it off. */
  noise: number;
  /** A pod throttled more than this fraction over a step's window fails its readiness probe. */
  throttleUnready: number;
  /** A container without a limit: "request" treats the request as the limit (the default), "none" never limits it. */
  missingLimits: 'request' | 'none';
  seed: number;
}

export const DEFAULT_USAGE_SETTINGS: Omit<UsageSettings, 'seed'> = {
  stepSeconds: 30,
  noise: 0.05,
  throttleUnready: 0.5,
  missingLimits: 'request',
};

export interface ResourceUsage {
  /** Percentiles of per-pod demand over the window's ticks (cores or bytes). */
  p50: number;
  p95: number;
  max: number;
  /** The container's request and the limit the model applies (null: unlimited). */
  request: number;
  limit: number | null;
}

export interface UsageVerdict {
  /** Per pod (same order as the input): Ready at the window's end by usage (a Pending pod is never). */
  ready: boolean[];
  /** Per pod: restarts so far, and whether its last kill was an OOM kill still in back-off at the window's end. */
  podRestarts: number[];
  podCrashLooping: boolean[];
  /** OOM kills inside this step's window, all pods. */
  oomKills: number;
  /** Container restarts since the episode's start under the current spec, all pods. */
  restarts: number;
  /** Mean throttled fraction over running pods and the window's ticks (0–1). */
  throttling: number;
  usage: { cpu: ResourceUsage; memory: ResourceUsage };
  /** Requests above mean demand, summed over running pods: cores and bytes. */
  slack: { cpu: number; memory: number };
}

/** A standard normal from (seed, pod, tick, resource), with no state: the same inputs give the same draw. */
function hashUnit(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(c + 0x165667b1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 13), 0x297a2d39) ^ Math.imul(d + 0x61c88647, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) + 0.5) / 4294967296;
}

function normal(seed: number, pod: number, tick: number, res: number): number {
  const u1 = hashUnit(seed, pod, tick, res * 2);
  const u2 = hashUnit(seed, pod, tick, res * 2 + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const BACKOFF_START = 10;
const BACKOFF_MAX = 300;
const BACKOFF_RESET = 600;

export function crashLoopBackoff(crashes: number): number {
  return Math.min(BACKOFF_MAX, BACKOFF_START * 2 ** Math.max(0, crashes - 1));
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

interface PodState {
  downUntil: number;
  crashes: number;
  upSince: number;
  restarts: number;
}

/** Window k of the usage clock: [k·stepSeconds, (k+1)·stepSeconds) after the trace's first event. */
export function usageWindow(step: number, stepSeconds: number): [number, number] {
  return [step * stepSeconds, (step + 1) * stepSeconds];
}

/** The ticks the model evaluates: every min(sample interval, step) seconds from 0. */
export function usageTick(usage: Pick<UsageFile, 'interval'>, stepSeconds: number): number {
  return Math.min(usage.interval, stepSeconds);
}

export function evaluateUsage(
  usage: Pick<UsageFile, 'interval' | 'start'>,
  series: UsageSeries,
  container: UsageContainer,
  pods: readonly UsagePod[],
  nodes: readonly UsageNode[],
  step: number,
  s: UsageSettings,
): UsageVerdict {
  const limitCpu =
    container.limitCpu ?? (s.missingLimits === 'request' && container.requestCpu > 0 ? container.requestCpu : null);
  const limitMem =
    container.limitMem ?? (s.missingLimits === 'request' && container.requestMem > 0 ? container.requestMem : null);
  const [from, to] = usageWindow(step, s.stepSeconds);
  const tick = usageTick(usage, s.stepSeconds);
  const running: number[] = [];
  pods.forEach((p, i) => {
    if (p.running && p.node !== null) running.push(i);
  });
  const scale = series.replicas !== undefined && running.length > 0 ? series.replicas / running.length : 1;

  // Other pods on a node are taken to use their requests.
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const onNode = new Map<string, number[]>();
  for (const i of running) {
    const name = pods[i]!.node!;
    let l = onNode.get(name);
    if (!l) onNode.set(name, (l = []));
    l.push(i);
  }

  const st: PodState[] = pods.map(() => ({ downUntil: 0, crashes: 0, upSince: 0, restarts: 0 }));
  const cpuDemand = new Float64Array(pods.length);
  const memDemand = new Float64Array(pods.length);
  const got = new Float64Array(pods.length);
  const up = new Uint8Array(pods.length);
  const killed = new Uint8Array(pods.length);
  const cpuSamples: number[] = [];
  const memSamples: number[] = [];
  const cpuSum = new Float64Array(pods.length);
  const memSum = new Float64Array(pods.length);
  const thrSum = new Float64Array(pods.length);
  const upTicks = new Float64Array(pods.length);
  let windowTicks = 0;
  let oomKills = 0;
  let throttleSum = 0;
  let throttleN = 0;

  const kill = (i: number, t: number, inWindow: boolean) => {
    killed[i] = 1;
    up[i] = 0;
    const p = st[i]!;
    p.crashes++;
    p.restarts++;
    p.downUntil = t + crashLoopBackoff(p.crashes);
    if (inWindow) oomKills++;
  };

  const lastTick = Math.ceil(to / tick) - 1;
  for (let j = 0; j <= lastTick; j++) {
    const t = j * tick;
    const inWindow = t >= from && t < to;
    const sample = sampleAt(usage, series, t);
    for (const i of running) {
      const p = st[i]!;
      killed[i] = 0;
      const wasUp = up[i] === 1;
      up[i] = t >= p.downUntil ? 1 : 0;
      if (up[i] && !wasUp) p.upSince = t;
      if (up[i] && p.crashes > 0 && t - p.upSince >= BACKOFF_RESET) p.crashes = 0;
      cpuDemand[i] = sample.cpu * scale * (s.noise > 0 ? Math.max(0, 1 + s.noise * normal(s.seed, i, j, 0)) : 1);
      memDemand[i] = sample.memory * (s.noise > 0 ? Math.max(0, 1 + s.noise * normal(s.seed, i, j, 1)) : 1);
      if (up[i] && limitMem !== null && memDemand[i]! > limitMem) kill(i, t, inWindow);
    }
    for (const [name, list] of onNode) {
      const node = nodeByName.get(name);
      if (!node) continue;
      // Memory pressure: kill the pods furthest above their request until the node fits.
      let mem = node.requestedMem - list.length * container.requestMem;
      for (const i of list) if (up[i]) mem += memDemand[i]!;
      if (mem > node.allocMem) {
        const over = list
          .filter((i) => up[i] && memDemand[i]! > container.requestMem)
          .sort((a, b) => memDemand[b]! - memDemand[a]! || a - b);
        for (const i of over) {
          if (mem <= node.allocMem) break;
          mem -= memDemand[i]!;
          kill(i, t, inWindow);
        }
      }
      // CPU: up to the request each, the rest shared by request.
      const avail = node.allocCpu - (node.requestedCpu - list.length * container.requestCpu);
      let used = 0;
      for (const i of list) {
        got[i] = up[i] ? Math.min(cpuDemand[i]!, limitCpu ?? Infinity, container.requestCpu) : 0;
        used += got[i]!;
      }
      for (let round = 0; round < 4; round++) {
        const left = avail - used;
        if (left <= 1e-12) break;
        let weight = 0;
        for (const i of list)
          if (up[i] && got[i]! < Math.min(cpuDemand[i]!, limitCpu ?? Infinity))
            weight += Math.max(container.requestCpu, 1e-3);
        if (weight === 0) break;
        for (const i of list) {
          if (!up[i]) continue;
          const want = Math.min(cpuDemand[i]!, limitCpu ?? Infinity) - got[i]!;
          if (want <= 0) continue;
          const give = Math.min(want, (left * Math.max(container.requestCpu, 1e-3)) / weight);
          got[i]! += give;
          used += give;
        }
      }
    }
    if (!inWindow) continue;
    windowTicks++;
    for (const i of running) {
      cpuSamples.push(cpuDemand[i]!);
      memSamples.push(memDemand[i]!);
      cpuSum[i]! += cpuDemand[i]!;
      memSum[i]! += memDemand[i]!;
      if (!up[i] || killed[i]) continue;
      const thr = cpuDemand[i]! > 0 ? Math.max(0, (cpuDemand[i]! - got[i]!) / cpuDemand[i]!) : 0;
      thrSum[i]! += thr;
      upTicks[i]!++;
      throttleSum += thr;
      throttleN++;
    }
  }

  const ready = pods.map((_, i) => false);
  let restarts = 0;
  let slackCpu = 0;
  let slackMem = 0;
  for (const i of running) {
    restarts += st[i]!.restarts;
    const throttled = upTicks[i]! > 0 ? thrSum[i]! / upTicks[i]! : 0;
    ready[i] = up[i] === 1 && killed[i] === 0 && throttled <= s.throttleUnready;
    if (windowTicks > 0) {
      slackCpu += Math.max(0, container.requestCpu - cpuSum[i]! / windowTicks);
      slackMem += Math.max(0, container.requestMem - memSum[i]! / windowTicks);
    }
  }
  cpuSamples.sort((a, b) => a - b);
  memSamples.sort((a, b) => a - b);
  const pct = (xs: number[], request: number, limit: number | null): ResourceUsage => ({
    p50: percentile(xs, 0.5),
    p95: percentile(xs, 0.95),
    max: xs.length ? xs[xs.length - 1]! : 0,
    request,
    limit,
  });
  return {
    ready,
    podRestarts: st.map((p) => p.restarts),
    podCrashLooping: pods.map((_, i) => st[i]!.restarts > 0 && (up[i] === 0 || killed[i] === 1)),
    oomKills,
    restarts,
    throttling: throttleN > 0 ? throttleSum / throttleN : 0,
    usage: {
      cpu: pct(cpuSamples, container.requestCpu, limitCpu),
      memory: pct(memSamples, container.requestMem, limitMem),
    },
    slack: { cpu: slackCpu, memory: slackMem },
  };
}

/** The series' per-pod demand at each tick of a step's window, without noise (what a policy reads as measured usage). */
export interface WindowDemand {
  /** Per-pod demand at each tick: cores and bytes. */
  cpu: number[];
  memory: number[];
  /** Usage-clock time of the first tick and the seconds between ticks. */
  from: number;
  tick: number;
}

export function windowDemand(
  usage: Pick<UsageFile, 'interval' | 'start'>,
  series: UsageSeries,
  step: number,
  stepSeconds: number,
): WindowDemand {
  const [from, to] = usageWindow(Math.max(0, step), stepSeconds);
  const tick = usageTick(usage, stepSeconds);
  const cpu: number[] = [];
  const memory: number[] = [];
  const first = Math.ceil(from / tick) * tick;
  for (let t = first; t < to; t += tick) {
    const s = sampleAt(usage, series, t);
    cpu.push(s.cpu);
    memory.push(s.memory);
  }
  return { cpu, memory, from: first, tick };
}
