// Usage consequences on the simkube backend, against SimKube 2.7's REAL sk-ctrl and sk-driver: the driver creates the
// workload's pods in virtual-default, the scheduler binds them to a KWOK node, and the backend writes the usage
// model's verdict (OOMKilled, CrashLoopBackOff, Ready=False) into their status. Same counts as the embedded replay.
import { expect } from 'chai';
import { episodeSpec, runOptions } from '../../../src/arena/episode.js';
import type { Observation } from '../../../src/arena/observation.js';
import type { StepRun } from '../../../src/arena/backend.js';
import { episodeUsage } from '../../../src/arena/usage/run.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { SimkubeBackend } from '../../../src/sim/simkube/index.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import type { Trace } from '../../../src/trace/trace.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';
import { deleteSimulation, simkubeSuite, waitFor, waitNamespaceGone } from './helpers.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };

function webTrace(): Trace {
  return buildTrace([deploymentObject({ replicas: 2, cpu: '500m', memory: '512Mi' })]);
}

const spec = (cpu: string, memory: string) =>
  episodeSpec({
    workload: web,
    target: 2,
    usage: episodeUsage(
      synthesizeUsage({
        workloads: [{ workload: web }],
        patterns: ['constant'],
        cpu,
        memory,
        duration: 600,
        interval: 30,
        seed: 0,
        period: 3600,
      }),
      { noise: 0 },
    ),
  });

const counts = (o: Observation) => ({
  ready: o.ready,
  pending: o.pending,
  total: o.total,
  oomKills: o.oomKills,
  restarts: o.restarts,
  throttling: Math.round((o.throttling ?? 0) * 1e6) / 1e6,
});

interface PodView {
  metadata?: { name?: string };
  status?: {
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{
      restartCount?: number;
      lastState?: { terminated?: { reason?: string } };
      state?: { waiting?: { reason?: string } };
    }>;
  };
}

describe('simkube: usage consequences through SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(300_000);
  const suite = simkubeSuite('sk-usage');
  let backend: SimkubeBackend;
  const runs: StepRun[] = [];

  before(async function () {
    this.timeout(240_000);
    // awaitFinish off: the step completes at the observation, so the pods can be read before the cleanup.
    backend = new SimkubeBackend(suite.c.kc, {
      operatorNamespace: suite.ns,
      traceDir: suite.traceDir,
      stepSeconds: 30,
      awaitFinish: false,
      pollMs: { sync: 200, blocked: 300, starting: 200, settling: 300 },
    });
    suite.onCleanup(async () => {
      for (const r of runs) await deleteSimulation(suite.c, backend.simulationName(r)).catch(() => undefined);
    });
    await waitNamespaceGone(suite.c, 'virtual-default', 180_000);
  });

  async function replay(name: string, cpu: string, memory: string) {
    const s = spec(cpu, memory);
    const r: StepRun = { name, trace: webTrace(), workload: web, opts: runOptions(s, name, 1), startedAt: Date.now() };
    runs.push(r);
    await backend.start(r);
    const obs = await waitFor('the usage observation', async () => (await backend.poll(r)).observation, 240_000, 300);
    const pods = await suite.c.kube.list<PodView>('/api/v1/namespaces/virtual-default/pods');
    await backend.cleanup(r);
    await waitNamespaceGone(suite.c, 'virtual-default', 180_000);
    const embedded = await new EmbeddedBackend().run(webTrace(), web, runOptions(s, undefined, 1));
    return { obs, pods, embedded };
  }

  it('a memory limit (the request) below the working set: OOMKilled pods in virtual-default, like embedded', async () => {
    const { obs, pods, embedded } = await replay(`sku-${suite.tag}-oom-s1`, '200m', '700Mi');
    expect(counts(obs)).to.deep.equal(counts(embedded));
    expect(obs.ready).to.equal(0);
    expect(obs.restarts).to.be.greaterThan(0);
    expect(pods).to.have.length(2);
    for (const p of pods) {
      const cs = p.status?.containerStatuses?.[0];
      expect(cs?.lastState?.terminated?.reason, p.metadata?.name).to.equal('OOMKilled');
      expect(cs?.restartCount).to.be.greaterThan(0);
      expect(p.status?.conditions?.find((x) => x.type === 'Ready')?.status).to.equal('False');
    }
  });

  it('right-sized: all Ready, no restarts, like embedded', async () => {
    const { obs, embedded } = await replay(`sku-${suite.tag}-ok-s1`, '200m', '300Mi');
    expect(counts(obs)).to.deep.equal(counts(embedded));
    expect(obs).to.deep.include({ ready: 2, total: 2, oomKills: 0, restarts: 0 });
  });
});
