// Limits follow requests: an action that moves a container's request moves its limit by the same ratio, never below
// the request; a container without a limit stays without one. This is what keeps OOM kills (memory limit) and
// throttling (CPU limit) coherent with the actions a policy takes.
import { expect } from 'chai';
import { applyAction, DEFAULT_ACTION_SETTINGS, type ActionSettings } from '../../../src/arena/actions.js';
import { episodeSpec, runEpisode } from '../../../src/arena/episode.js';
import type { Policy } from '../../../src/arena/policies.js';
import type { ActionType } from '../../../src/arena/actions.js';
import { episodeUsage } from '../../../src/arena/usage/run.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import { getIn } from '../../../src/trace/model.js';
import { scaledLimit } from '../../../src/trace/podrequest.js';
import type { Trace } from '../../../src/trace/trace.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const NANO = 1_000_000_000n;

function trace(requests: { cpu: string; memory: string }, limits?: { cpu?: string; memory?: string }): Trace {
  const d = deploymentObject({ replicas: 2, cpu: requests.cpu, memory: requests.memory }) as {
    spec: { template: { spec: { containers: Array<{ resources: Record<string, unknown> }> } } };
  };
  if (limits) d.spec.template.spec.containers[0]!.resources.limits = limits;
  return buildTrace([d as unknown as Record<string, unknown>]);
}

const resources = (t: Trace) =>
  getIn(t, ['events', 0, 'applied_objs', 0, 'spec', 'template', 'spec', 'containers', 0, 'resources']) as Map<
    string,
    Map<string, string>
  >;
const limitOf = (t: Trace, r: 'cpu' | 'memory') => resources(t).get('limits')?.get(r);
const requestOf = (t: Trace, r: 'cpu' | 'memory') => resources(t).get('requests')?.get(r);
const proportional: ActionSettings = { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' };

describe('limits move with requests', () => {
  it('scaledLimit keeps the ratio, rounds up to the resolution, never drops below the request', () => {
    expect(scaledLimit(2n * NANO, 1n * NANO, 1_250_000_000n, 'cpu')).to.equal(2_500_000_000n);
    // 1 CPU limit on a 300m request, request to 100m: 333.3m rounds up to a whole millicore
    expect(scaledLimit(1_000_000_000n, 300_000_000n, 100_000_000n, 'cpu')).to.equal(334_000_000n);
    expect(scaledLimit(NANO, 0n, 2n * NANO, 'cpu')).to.equal(2n * NANO);
    expect(scaledLimit(3n * NANO, 0n, NANO, 'cpu')).to.equal(3n * NANO);
  });

  it('additive bump-mem: 256Mi/512Mi → 512Mi/1Gi (ratio 2 kept); reduce-mem goes back', () => {
    const t = trace({ cpu: '500m', memory: '256Mi' }, { memory: '512Mi' });
    applyAction(t, web, 'bump-mem');
    expect([requestOf(t, 'memory'), limitOf(t, 'memory')]).to.deep.equal(['512Mi', '1Gi']);
    applyAction(t, web, 'reduce-mem');
    expect([requestOf(t, 'memory'), limitOf(t, 'memory')]).to.deep.equal(['256Mi', '512Mi']);
  });

  it('proportional bump-cpu and reduce-cpu: 500m/1 → 625m/1250m → 500m/1', () => {
    const t = trace({ cpu: '500m', memory: '256Mi' }, { cpu: '1' });
    applyAction(t, web, 'bump-cpu', proportional);
    expect([requestOf(t, 'cpu'), limitOf(t, 'cpu')]).to.deep.equal(['625m', '1250m']);
    applyAction(t, web, 'reduce-cpu', proportional);
    expect([requestOf(t, 'cpu'), limitOf(t, 'cpu')]).to.deep.equal(['500m', '1']);
  });

  it('a limit equal to the request (Guaranteed QoS) stays equal; no limit stays none', () => {
    const g = trace({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' });
    applyAction(g, web, 'bump-cpu');
    applyAction(g, web, 'reduce-mem');
    expect([requestOf(g, 'cpu'), limitOf(g, 'cpu')]).to.deep.equal(['1500m', '1500m']);
    expect([requestOf(g, 'memory'), limitOf(g, 'memory')]).to.deep.equal(['768Mi', '768Mi']);
    const n = trace({ cpu: '1', memory: '1Gi' });
    applyAction(n, web, 'bump-mem');
    applyAction(n, web, 'reduce-cpu');
    expect(resources(n).get('limits')).to.equal(undefined);
  });

  it('only the moved resource changes: bump-cpu leaves the memory limit alone', () => {
    const t = trace({ cpu: '500m', memory: '256Mi' }, { cpu: '1', memory: '300Mi' });
    applyAction(t, web, 'bump-cpu');
    expect(limitOf(t, 'memory')).to.equal('300Mi');
    expect(limitOf(t, 'cpu')).to.equal('2');
  });

  describe('consequences (embedded, with usage)', () => {
    const backend = new EmbeddedBackend();
    const usage = (cpu: string, memory: string) =>
      episodeUsage(
        synthesizeUsage({
          workloads: [{ workload: web }],
          patterns: ['constant'],
          cpu,
          memory,
          duration: 3600,
          interval: 30,
          seed: 1,
          period: 3600,
        }),
        { noise: 0 },
      );
    const scripted = (actions: ActionType[]): Policy => {
      let i = 0;
      return { name: 'scripted', decide: () => actions[i++] ?? 'noop' };
    };

    it('a memory limit raised with its request ends the OOM kills (the limit alone would have stayed below)', async () => {
      // 256Mi request, 512Mi limit, 600Mi working set: OOMKilled. One bump-mem → 512Mi / 1Gi: no more kills.
      const s = episodeSpec({ workload: web, target: 2, maxSteps: 4, usage: usage('100m', '600Mi') });
      const r = await runEpisode(
        s,
        trace({ cpu: '500m', memory: '256Mi' }, { memory: '512Mi' }),
        scripted(['bump-mem']),
        backend,
      );
      expect(r.initial.ready).to.be.lessThan(2);
      expect(r.initial.oomKills).to.be.greaterThan(0);
      const last = r.history[r.history.length - 1]!.observation;
      expect(last.oomKills).to.equal(0);
      expect(last.ready).to.equal(2);
      expect(last.usage!.memory.limit).to.equal(1024 ** 3);
    });

    it('a CPU limit raised with its request ends the throttling', async () => {
      // 500m request, 1 CPU limit, 1.2 cores of demand: throttled 1/6. ×1.25 twice → 782m / 1563m: not throttled.
      const s = episodeSpec({
        workload: web,
        target: 2,
        maxSteps: 3,
        usage: usage('1200m', '100Mi'),
        actions: proportional,
      });
      const r = await runEpisode(
        s,
        trace({ cpu: '500m', memory: '256Mi' }, { cpu: '1' }),
        scripted(['bump-cpu', 'bump-cpu']),
        backend,
      );
      expect(r.initial.throttling).to.be.greaterThan(0.1);
      expect(r.history[r.history.length - 1]!.observation.throttling).to.equal(0);
    });
  });
});
