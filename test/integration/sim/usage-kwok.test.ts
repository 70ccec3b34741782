// Usage consequences agree between the embedded replay and the kwok backend (the real kube-scheduler placing pods on
// KWOK nodes, the backend writing OOMKilled / CrashLoopBackOff / Ready=False into pod status): a memory limit below
// the working set OOM-kills and leaves pods not Ready, a right-sized one does not, CPU past its limit fails readiness.
import { expect } from 'chai';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { runOptions, episodeSpec } from '../../../src/arena/episode.js';
import { episodeUsage } from '../../../src/arena/usage/run.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { createKwokBackend, type KwokBackend } from '../../../src/sim/kwok/index.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import type { Trace } from '../../../src/trace/trace.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';
import type { Observation } from '../../../src/arena/observation.js';
import { kubeConfig } from '../../support/cluster.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };

function webTrace(limits?: { cpu?: string; memory?: string }): Trace {
  const d = deploymentObject({ replicas: 2, cpu: '500m', memory: '512Mi' }) as {
    spec: { template: { spec: { containers: Array<{ resources: Record<string, unknown> }> } } };
  };
  if (limits) d.spec.template.spec.containers[0]!.resources.limits = limits;
  return buildTrace([d as unknown as Record<string, unknown>]);
}

const usage = (cpu: string, memory: string) =>
  synthesizeUsage({
    workloads: [{ workload: web }],
    patterns: ['constant'],
    cpu,
    memory,
    duration: 600,
    interval: 30,
    seed: 0,
    period: 3600,
  });

const SCENARIOS = [
  {
    name: 'memory limit (the request) below the working set',
    trace: () => webTrace(),
    cpu: '200m',
    memory: '700Mi',
    oom: true,
    ready: 0,
  },
  { name: 'right-sized', trace: () => webTrace(), cpu: '200m', memory: '300Mi', oom: false, ready: 2 },
  {
    name: 'an explicit memory limit above the working set',
    trace: () => webTrace({ memory: '1Gi' }),
    cpu: '200m',
    memory: '700Mi',
    oom: false,
    ready: 2,
  },
  {
    name: 'CPU far past its limit: throttled out of readiness',
    trace: () => webTrace(),
    cpu: '1500m',
    memory: '300Mi',
    oom: false,
    ready: 0,
  },
];

const counts = (o: Observation) => ({
  ready: o.ready,
  pending: o.pending,
  total: o.total,
  oomKills: o.oomKills,
  restarts: o.restarts,
  throttling: Math.round((o.throttling ?? 0) * 1e6) / 1e6,
});

describe('usage: embedded and kwok agree', function () {
  this.timeout(240_000);
  let kc: KubeConfig;
  let kwok: KwokBackend;

  before(async function () {
    this.timeout(3_600_000);
    kc = await kubeConfig();
    kwok = createKwokBackend({ kc });
  });
  after(async () => {
    await kwok?.close();
  });

  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const spec = episodeSpec({
        workload: web,
        target: 2,
        usage: episodeUsage(usage(s.cpu, s.memory), { noise: 0 }),
        durationSeconds: 60,
      });
      const embedded = await new EmbeddedBackend().run(s.trace(), web, runOptions(spec, undefined, 1));
      const onKwok = await kwok.run(s.trace(), web, runOptions(spec, undefined, 1));
      expect(counts(onKwok)).to.deep.equal(counts(embedded));
      expect(onKwok.ready).to.equal(s.ready);
      expect((onKwok.restarts ?? 0) > 0).to.equal(s.oom);
      if (s.oom) expect(onKwok.ready).to.be.lessThan(onKwok.total);
    });
  }

  it('the pods carry what the kubelet would report: OOMKilled, CrashLoopBackOff, Ready=False', async () => {
    const spec = episodeSpec({
      workload: web,
      target: 2,
      usage: episodeUsage(usage('200m', '700Mi'), { noise: 0 }),
      durationSeconds: 60,
    });
    const name = `sa-usage-${Date.now().toString(36)}`;
    const run = { name, trace: webTrace(), workload: web, opts: runOptions(spec, name, 0), startedAt: Date.now() };
    try {
      await kwok.start(run);
      let obs: Observation | undefined;
      for (let i = 0; i < 300 && !obs; i++) {
        obs = (await kwok.poll(run)).observation;
        if (!obs) await new Promise((r) => setTimeout(r, 200));
      }
      expect(obs?.oomKills).to.equal(2);
      const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: name })).items;
      expect(pods).to.have.length(2);
      for (const p of pods) {
        const cs = p.status?.containerStatuses?.[0];
        expect(cs?.lastState?.terminated?.reason).to.equal('OOMKilled');
        expect(cs?.restartCount).to.equal(1);
        expect(cs?.state?.waiting?.reason).to.equal('CrashLoopBackOff');
        expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('False');
      }
    } finally {
      await kwok.cleanup(run);
    }
  });
});
