// Usage consequences on the embedded backend (OOM kills, CrashLoopBackOff, throttling, contention), the continuing
// task, the rightsizing reward and proportional actions.
import { expect } from 'chai';
import { applyAction, DEFAULT_ACTION_SETTINGS, readResources } from '../../../src/arena/actions.js';
import { episodeSpec, runEpisode, type EpisodeSpec } from '../../../src/arena/episode.js';
import { getPolicy } from '../../../src/arena/policies.js';
import {
  crashLoopBackoff,
  evaluateUsage,
  DEFAULT_USAGE_SETTINGS,
  type UsageContainer,
  type UsageNode,
  type UsagePod,
} from '../../../src/arena/usage/model.js';
import { rightsizingCost } from '../../../src/arena/usage/reward.js';
import { episodeUsage } from '../../../src/arena/usage/run.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import type { Trace } from '../../../src/trace/trace.js';
import type { UsageFile } from '../../../src/trace/usage/format.js';
import { loadUsage } from '../../../src/trace/usage/load.js';
import { usageToPrometheus } from '../../../src/trace/usage/prometheus.js';
import { cpuMillis as cpuMillisOf, quantityUnits as bytesOf } from '../../../src/trace/quantity.js';
import { registerAgents } from '../../../src/agents/index.js';
import { synthesizeUsage, type Pattern } from '../../../src/trace/usage/synth.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const GI = 1024 ** 3;
const MI = 1024 ** 2;

function webTrace(cpu = '500m', memory = '512Mi', replicas = 2, limits?: { cpu?: string; memory?: string }): Trace {
  const d = deploymentObject({ replicas, cpu, memory }) as {
    spec: { template: { spec: { containers: Array<{ resources: Record<string, unknown> }> } } };
  };
  if (limits) d.spec.template.spec.containers[0]!.resources.limits = limits;
  return buildTrace([d as unknown as Record<string, unknown>]);
}

const usageOf = (cpu: string, memory: string, patterns: Pattern[] = ['constant'], seed = 1): UsageFile =>
  synthesizeUsage({
    workloads: [{ workload: web }],
    patterns,
    cpu,
    memory,
    duration: 3600,
    interval: 30,
    seed,
    period: 3600,
  });

function spec(u: UsageFile | undefined, extra: Partial<EpisodeSpec> = {}): EpisodeSpec {
  return episodeSpec({
    workload: web,
    target: 2,
    maxSteps: 10,
    ...(u ? { usage: episodeUsage(u), reward: { mode: 'rightsizing' } } : {}),
    ...extra,
  });
}

const backend = new EmbeddedBackend();
registerAgents();
const run = (trace: Trace, s: EpisodeSpec, policy = 'noop') => runEpisode(s, trace, getPolicy(policy, {}), backend);

describe('usage model', () => {
  const container: UsageContainer = { requestCpu: 0.5, requestMem: 512 * MI, limitCpu: null, limitMem: null };
  const pods: UsagePod[] = [
    { node: 'n1', running: true },
    { node: 'n2', running: true },
    { node: null, running: false },
  ];
  const nodes: UsageNode[] = ['n1', 'n2'].map((name) => ({
    name,
    allocCpu: 16,
    allocMem: 32 * GI,
    requestedCpu: 0.5,
    requestedMem: 512 * MI,
  }));
  const settings = { ...DEFAULT_USAGE_SETTINGS, noise: 0, seed: 1 };
  const eval1 = (u: UsageFile, c = container, n = nodes, step = 3, s = settings) =>
    evaluateUsage(u, u.series[0]!, c, pods, n, step, s);

  it('CrashLoopBackOff doubles from 10 s to 300 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(crashLoopBackoff)).to.deep.equal([10, 20, 40, 80, 160, 300, 300]);
  });

  it('working set above the memory limit: OOMKilled, restarting with back-off, never Ready', () => {
    const v = eval1(usageOf('100m', '600Mi'));
    expect(v.ready).to.deep.equal([false, false, false]);
    // ticks every 30 s; killed at 0 (back-off 10 s), 30 (20 s), 60 (40 s: down until 100), so down at 90 in window 3
    expect(v.restarts).to.equal(6);
    expect(v.oomKills).to.equal(0);
    expect(eval1(usageOf('100m', '600Mi'), container, nodes, 2).oomKills).to.equal(2);
    expect(v.usage.memory.limit).to.equal(512 * MI);
    const ok = eval1(usageOf('100m', '400Mi'));
    expect(ok.ready).to.deep.equal([true, true, false]);
    expect(ok.oomKills + ok.restarts).to.equal(0);
    expect(ok.slack.memory).to.equal(2 * 112 * MI);
    expect(ok.slack.cpu).to.be.closeTo(0.8, 1e-9);
  });

  it('without a limit ("none") memory and CPU are only bounded by the node', () => {
    const v = eval1(usageOf('2', '2Gi'), container, nodes, 3, { ...settings, missingLimits: 'none' });
    expect(v.ready.slice(0, 2)).to.deep.equal([true, true]);
    expect(v.throttling).to.equal(0);
  });

  it('CPU above the limit: throttled fraction; past the threshold the pod fails readiness', () => {
    const mild = eval1(usageOf('600m', '100Mi'));
    expect(mild.throttling).to.be.closeTo(1 / 6, 1e-9);
    expect(mild.ready.slice(0, 2)).to.deep.equal([true, true]);
    const hard = eval1(usageOf('1500m', '100Mi'));
    expect(hard.throttling).to.be.closeTo(2 / 3, 1e-9);
    expect(hard.ready.slice(0, 2)).to.deep.equal([false, false]);
  });

  it('contention: usage above requests on a full node is throttled, or OOM-killed under memory pressure', () => {
    // Other pods request all but 0.2 CPU and 100Mi beyond the workload's own request.
    const full: UsageNode[] = nodes.map((n) => ({ ...n, requestedCpu: 15.8, requestedMem: 32 * GI - 100 * MI }));
    const none = { ...settings, missingLimits: 'none' as const };
    const v = eval1(usageOf('1', '300Mi'), container, full, 3, none);
    expect(v.throttling).to.be.closeTo(0.3, 1e-9); // gets 0.5 request + 0.2 spare of 1 core
    const m = eval1(usageOf('100m', '700Mi'), container, full, 3, none);
    expect(m.restarts).to.be.greaterThan(0);
    expect(m.ready.slice(0, 2)).to.deep.equal([false, false]);
  });

  it('noise is seeded: the same seed repeats, another seed differs', () => {
    const u = usageOf('300m', '300Mi');
    const a = eval1(u, container, nodes, 3, { ...settings, noise: 0.1, seed: 7 });
    expect(eval1(u, container, nodes, 3, { ...settings, noise: 0.1, seed: 7 })).to.deep.equal(a);
    expect(eval1(u, container, nodes, 3, { ...settings, noise: 0.1, seed: 8 }).usage).to.not.deep.equal(a.usage);
  });
});

describe('usage episodes (embedded)', () => {
  it('memory limit below the working set: oomKills > 0 and ready < total; right-sized: none', async () => {
    const bad = await run(
      webTrace('500m', '512Mi', 2, { memory: '512Mi' }),
      spec(usageOf('200m', '700Mi'), { maxSteps: 3 }),
    );
    const o = bad.history[2]!.observation;
    expect(bad.history.some((h) => (h.observation.oomKills ?? 0) > 0)).to.equal(true);
    expect(o.ready).to.be.lessThan(o.total);
    expect(o.restarts).to.be.greaterThan(0);
    const good = await run(
      webTrace('500m', '512Mi', 2, { memory: '1Gi' }),
      spec(usageOf('200m', '700Mi'), { maxSteps: 3 }),
    );
    for (const h of good.history) {
      expect(h.observation.oomKills).to.equal(0);
      expect(h.observation.ready).to.equal(2);
    }
  });

  it('rightsizing, requests held fixed: right-sized > over-provisioned > OOMKilled', async () => {
    const score = async (cpu: string, mem: string) =>
      (await run(webTrace('1', '1Gi'), spec(usageOf(cpu, mem), { maxSteps: 5 }))).totalReward;
    const rightSized = await score('850m', '880Mi');
    const over = await score('100m', '128Mi');
    const oom = await score('100m', '1200Mi');
    expect(rightSized).to.be.greaterThan(over);
    expect(over).to.be.greaterThan(oom);
  });

  it('an over-provisioned Ready workload runs to the horizon and pays for its slack every step; --stop-at-goal stops at once', async () => {
    const u = usageOf('100m', '128Mi');
    const r = await run(webTrace('16', '32Gi'), spec(u, { maxSteps: 12 }));
    expect(r.steps).to.equal(12);
    expect(r.solved).to.equal(true);
    expect(r.stepsToSolve).to.equal(0);
    for (const h of r.history) {
      expect(h.solved).to.equal(true);
      expect(h.reward).to.be.lessThan(-0.4);
    }
    const stopped = await run(webTrace('16', '32Gi'), spec(u, { maxSteps: 12, stopAtGoal: true }));
    expect(stopped.steps).to.equal(0);
  });

  it('the usage clock advances stepDuration per step (a trend shows in p95)', async () => {
    const u = synthesizeUsage({
      workloads: [{ workload: web }],
      patterns: ['trend'],
      cpu: '100m',
      memory: '100Mi',
      duration: 600,
      interval: 30,
      seed: 0,
      period: 3600,
    });
    const r = await run(webTrace(), spec(u, { maxSteps: 4, usage: episodeUsage(u, { stepSeconds: 120, noise: 0 }) }));
    const p95 = r.history.map((h) => h.observation.usage!.cpu.p95);
    expect(p95).to.deep.equal([...p95].sort((a, b) => a - b));
    expect(p95[3]).to.be.greaterThan(p95[0]! * 1.3);
  });

  it('different seeds give different episodes; the same seed the same', async () => {
    const u = usageOf('300m', '300Mi', ['noise']);
    const a = await run(webTrace(), spec(u, { seed: 1 }));
    expect(await run(webTrace(), spec(u, { seed: 1 }))).to.deep.equal(a);
    expect((await run(webTrace(), spec(u, { seed: 2 }))).history.map((h) => h.reward)).to.not.deep.equal(
      a.history.map((h) => h.reward),
    );
  });

  it('synth output and a Prometheus export of the same usage give the same episode', async () => {
    const u = usageOf('450m', '600Mi', ['diurnal', 'bursty', 'noise'], 3);
    u.series[0]!.replicas = 2;
    const viaPrometheus = loadUsage(
      JSON.parse(JSON.stringify(usageToPrometheus(u, { baseTs: 1_700_000_000 }))),
      webTrace(),
    ).usage;
    const a = await run(webTrace(), spec(u, { maxSteps: 15 }), 'heuristic');
    const b = await run(webTrace(), spec(viaPrometheus, { maxSteps: 15 }), 'heuristic');
    expect(b).to.deep.equal(a);
    expect(a.history.some((h) => (h.observation.oomKills ?? 0) > 0)).to.equal(true);
  });

  it('the rightsizing formula: README worked example', () => {
    const c = rightsizingCost(
      { ready: 3, pending: 0, total: 3, oomKills: 0, throttling: 0, slack: { cpu: 4.5, memory: 9 * GI } },
      3,
    );
    expect(c.total).to.be.closeTo(0.18, 1e-12);
    const oom = rightsizingCost(
      { ready: 1, pending: 0, total: 3, oomKills: 2, throttling: 0.1, slack: { cpu: 0, memory: 0 } },
      3,
    );
    expect(oom.total).to.be.closeTo(2 + 1 + 0.3, 1e-12);
  });
});

describe('proportional actions', () => {
  const s = { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' as const };
  const apply = (cpu: string, mem: string, action: 'bump-cpu' | 'reduce-cpu' | 'bump-mem' | 'reduce-mem') => {
    const t = webTrace(cpu, mem);
    applyAction(t, web, action, s);
    return readResources(t, web);
  };

  it('×1.25 and ×0.8 of the request, CPU to 1m, memory to 1Mi, always moving', () => {
    expect(apply('17', '1Gi', 'reduce-cpu').cpu).to.equal('13600m');
    expect(apply('9', '1Gi', 'bump-cpu').cpu).to.equal('11250m');
    expect(apply('101m', '1Gi', 'reduce-cpu').cpu).to.equal('80m');
    expect(apply('1', '33Gi', 'reduce-mem').memory).to.equal('27033Mi');
    expect(apply('1', '100Mi', 'bump-mem').memory).to.equal('125Mi');
    expect(apply('1', '1000Mi', 'reduce-mem').memory).to.equal('800Mi');
  });

  it('right-sizes 16 CPU / 32Gi in far fewer steps than the additive set', () => {
    const t = webTrace('16', '32Gi');
    let n = 0;
    while (readResources(t, web).memory !== '64Mi' && n < 100) {
      const o = applyAction(t, web, 'reduce-mem', s);
      if (o.blocked) break;
      n++;
    }
    expect(n).to.be.lessThan(30);
  });
});

describe('policies with usage', () => {
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(0.95 * xs.length) - 1]!;
  const within = (r: { cpu: string; memory: string }, u: UsageFile, steps: number) => {
    const n = steps + 1; // windows 0..steps at one sample each
    const cpu = p95(u.series[0]!.cpu.slice(0, n));
    const mem = p95(u.series[0]!.memory.slice(0, n));
    const c = Number(cpuMillisOf(r.cpu)) / 1000;
    const m = Number(bytesOf(r.memory));
    return {
      cpu: [cpu, c, 1.5 * cpu],
      memory: [mem, m, 1.5 * mem],
      ok: c >= cpu && c <= 1.5 * cpu && m >= mem && m <= 1.5 * mem,
    };
  };

  for (const set of ['proportional', 'additive'] as const) {
    it(`vpa-like fed usage brings an over-provisioned workload within [p95, 1.5 × p95] of CPU and memory (${set} actions)`, async () => {
      const u = usageOf('700m', '900Mi', ['constant', 'noise'], 11);
      const steps = set === 'proportional' ? 40 : 120;
      const s = spec(u, { maxSteps: steps, actions: { ...DEFAULT_ACTION_SETTINGS, set } });
      const r = await run(webTrace('8', '12Gi'), s, 'vpa-like');
      const w = within(r.finalResources, u, steps);
      expect(w.ok, JSON.stringify(w)).to.equal(true);
      const last = r.history[r.history.length - 1]!.observation;
      expect(last.ready).to.equal(2);
      expect(r.history.slice(-5).every((h) => h.observation.oomKills === 0)).to.equal(true);
    });
  }

  it('vpa-like bumps memory after OOM kills (VPA OOM bump) until pods are Ready', async () => {
    const u = usageOf('200m', '700Mi', ['constant'], 2);
    const r = await run(
      webTrace('500m', '300Mi'),
      spec(u, { maxSteps: 30, actions: { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' } }),
      'vpa-like',
    );
    expect(r.history[0]!.observation.ready).to.equal(0);
    expect(r.history[r.history.length - 1]!.observation.ready).to.equal(2);
    expect(Number(bytesOf(r.finalResources.memory))).to.be.greaterThan(700 * MI);
  });

  it('the heuristic right-sizes with usage: fixes OOM kills, then shrinks slack into its band', async () => {
    const u = usageOf('300m', '400Mi', ['constant'], 2);
    const oom = await run(
      webTrace('500m', '256Mi'),
      spec(u, { maxSteps: 20, actions: { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' } }),
      'heuristic',
    );
    expect(oom.history[oom.history.length - 1]!.observation.ready).to.equal(2);
    const over = await run(
      webTrace('8', '12Gi'),
      spec(u, { maxSteps: 40, actions: { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' } }),
      'heuristic',
    );
    const w = within(over.finalResources, u, 40);
    expect(w.ok, JSON.stringify(w)).to.equal(true);
    expect(over.history[over.history.length - 1]!.reward).to.be.greaterThan(over.history[0]!.reward);
  });
});
