// Actions on traces with history (a workload recorded many times with different replicas and requests), the
// effective pod request, HorizontalPodAutoscalers, and policies that never repeat a blocked action — on SimKube's
// public DeathStarBench trace (test/fixtures/simkube/PROVENANCE.md) and on small built traces.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { getIn } from '../../../src/trace/model.js';
import { decodeTrace, encodeTrace, type Trace } from '../../../src/trace/trace.js';
import { listWorkloads, replicasOf, templateOccurrences, type WorkloadRef } from '../../../src/trace/workload.js';
import { effectiveRequest } from '../../../src/trace/podrequest.js';
import {
  applyAction,
  DEFAULT_ACTION_SETTINGS,
  readResources,
  type ActionSettings,
  type ActionType,
} from '../../../src/arena/actions.js';
import { blockedSinceChange, getPolicy, policyNames } from '../../../src/arena/policies.js';
import { episodeSpec, runEpisode, type StepRecord } from '../../../src/arena/episode.js';
import { EmbeddedBackend, runEmbedded } from '../../../src/sim/embedded/index.js';
import { registerAgents } from '../../../src/agents/index.js';
import { buildTrace, repoRoot, workloadObject } from '../trace/helpers.js';

const DSB = path.join(repoRoot, 'test', 'fixtures', 'simkube', 'dsb-scaling.sktrace');
const dsb = (): Trace => decodeTrace(new Uint8Array(readFileSync(DSB))).trace;
const ref = (name: string): WorkloadRef => ({ kind: 'Deployment', namespace: 'dsb', name });
const backend = new EmbeddedBackend();
registerAgents();
const seed = 1;

/** Scale the steady state to `target` with single steps; every step must move it. */
function scaleTo(t: Trace, w: WorkloadRef, target: number): void {
  for (let guard = 0; guard < 200; guard++) {
    const r = readResources(t, w).replicas;
    if (r === target) return;
    const out = applyAction(t, w, r > target ? 'scale-down' : 'scale-up');
    expect(out.blocked, out.reason).to.equal(false);
    expect(out.after.replicas).to.equal(r + (r > target ? -1 : 1));
  }
  throw new Error('did not reach the target');
}

/** No step plays an action that was already blocked since the trace last changed. */
function expectNoRepeatedBlock(history: readonly StepRecord[]): void {
  history.forEach((rec, i) => {
    const before = blockedSinceChange(history.slice(0, i));
    expect(before, `step ${rec.step} repeats ${rec.action}, blocked on the same trace`).not.to.include(rec.action);
  });
}

describe('actions on traces with history', () => {
  describe("SimKube's DeathStarBench trace", () => {
    const scaled = [
      'nginx-thrift',
      'post-storage-service',
      'compose-post-service',
      'text-service',
      'user-timeline-service',
    ];

    it('has the recorded scaling histories (nginx-thrift 1 → 2 → 4 → 8 → 10)', () => {
      const t = dsb();
      expect(templateOccurrences(t, ref('nginx-thrift')).map((o) => replicasOf(o.obj))).to.deep.equal([1, 2, 4, 8, 10]);
      expect(listWorkloads(t)).to.have.length(27);
    });

    for (const name of scaled) {
      it(`${name}: scale-down and scale-up reach every target from 1 to 12, and the replay shows it`, () => {
        for (let target = 1; target <= 12; target++) {
          const t = dsb();
          scaleTo(t, ref(name), target);
          const obs = runEmbedded(t, ref(name), { seed, nodePool: { count: 8, cpu: '16', memory: '32Gi', pods: 110 } });
          expect(obs, `${name} → ${target}`).to.deep.equal({ ready: target, pending: 0, total: target });
        }
      });
    }

    it('keeps the history shape, clamped at the floor per occurrence (nginx-thrift to 3: 1, 1, 1, 1, 3; back up to 5: 3, 3, 3, 3, 5)', () => {
      const t = dsb();
      scaleTo(t, ref('nginx-thrift'), 3);
      expect(templateOccurrences(t, ref('nginx-thrift')).map((o) => replicasOf(o.obj))).to.deep.equal([1, 1, 1, 1, 3]);
      scaleTo(t, ref('nginx-thrift'), 5);
      expect(templateOccurrences(t, ref('nginx-thrift')).map((o) => replicasOf(o.obj))).to.deep.equal([3, 3, 3, 3, 5]);
      const bytes = encodeTrace(t);
      scaleTo(t, ref('nginx-thrift'), 1);
      const out = applyAction(t, ref('nginx-thrift'), 'scale-down');
      expect(out.reason).to.equal('scale-down blocked: replicas is 1, already at the floor of 1');
      expect(encodeTrace(t)).not.to.deep.equal(bytes);
    });

    it('the heuristic scales every history workload to every target from 1 to 12, never repeating a blocked action', async () => {
      for (const name of scaled) {
        for (let target = 1; target <= 12; target++) {
          const spec = episodeSpec({
            workload: ref(name),
            target,
            maxSteps: 30,
            seed,
            nodePool: { count: 8, cpu: '16', memory: '32Gi', pods: 110 },
          });
          const r = await runEpisode(spec, dsb(), getPolicy('heuristic'), backend);
          expect(r.solved, `${name} → ${target}`).to.equal(true);
          expect(r.history.filter((h) => h.blocked)).to.deep.equal([]);
        }
      }
    });

    it('the heuristic solves contended episodes: nginx-thrift at 10 replicas on 2 nodes (other workloads hold most of them)', async () => {
      for (const [nodes, target] of [
        [2, 10],
        [2, 12],
        [3, 16],
        [2, 6],
      ] as const) {
        const spec = episodeSpec({
          workload: ref('nginx-thrift'),
          target,
          maxSteps: 40,
          seed,
          nodePool: { count: nodes, cpu: '16', memory: '32Gi', pods: 110 },
        });
        const t = dsb();
        const start = runEmbedded(t, spec.workload, { seed, nodePool: spec.nodePool });
        const r = await runEpisode(spec, t, getPolicy('heuristic'), backend);
        expect(
          r.solved,
          `${nodes} nodes, target ${target}, start ${JSON.stringify(start)}: ${r.history.map((h) => h.action).join(' ')}`,
        ).to.equal(true);
        expectNoRepeatedBlock(r.history);
      }
    });

    it('the heuristic also solves contention on memory (8Gi nodes) by switching to memory when CPU does not help', async () => {
      const spec = episodeSpec({
        workload: ref('nginx-thrift'),
        target: 10,
        maxSteps: 40,
        seed,
        nodePool: { count: 4, cpu: '64', memory: '10Gi', pods: 110 },
      });
      const r = await runEpisode(spec, dsb(), getPolicy('heuristic'), backend);
      expect(r.solved, r.history.map((h) => `${h.action}:${h.observation.pending}`).join(' ')).to.equal(true);
      expect(r.history.some((h) => h.action === 'reduce-mem')).to.equal(true);
      expectNoRepeatedBlock(r.history);
    });

    it('no built-in policy repeats an action blocked on the same trace (30 steps, unsolvable target 0 keeps them going)', async () => {
      const names = policyNames().filter((n) => n !== 'external');
      expect(names).to.include.members([
        'noop',
        'random',
        'heuristic',
        'bump-cpu',
        'bump-mem',
        'scale-up',
        'q-table',
        'epsilon-greedy',
        'vpa-like',
      ]);
      for (const name of names) {
        for (const [w, target] of [
          ['nginx-thrift', 0],
          ['media-frontend', 200],
        ] as const) {
          const spec = episodeSpec({ workload: ref(w), target, maxSteps: 30, seed: 3 });
          const r = await runEpisode(spec, dsb(), getPolicy(name), backend);
          expectNoRepeatedBlock(r.history);
        }
      }
    });
  });

  describe('the effective pod request', () => {
    const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };
    const withInit = (init = '4', app = '1') =>
      buildTrace([
        {
          ts: 1,
          applied_objs: [
            workloadObject({
              replicas: 3,
              containers: [{ name: 'web', cpu: app, memory: '1Gi' }],
              initContainers: [{ name: 'migrate', cpu: init, memory: '512Mi' }],
            }),
          ],
        },
      ]);
    const specOf = (t: Trace) =>
      getIn(t, ['events', 0, 'applied_objs', 0, 'spec', 'template', 'spec']) as Map<string, never>;

    it('reads max(init, sum of app containers) + overhead, with restartable sidecars and limits-only containers', () => {
      const t = buildTrace([
        {
          ts: 1,
          applied_objs: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { namespace: 'default', name: 'web' },
              spec: {
                replicas: 1,
                template: {
                  spec: {
                    overhead: { cpu: '100m' },
                    initContainers: [
                      { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } },
                      { name: 'migrate', resources: { limits: { cpu: '3' } } },
                    ],
                    containers: [
                      { name: 'web', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } },
                      { name: 'log', resources: { requests: { cpu: '300m' } } },
                    ],
                  },
                },
              },
            },
          ],
        },
      ]);
      // init term: migrate 3 (request from its limit) + proxy 200m started before it = 3200m; steady 1500m; + 100m overhead
      expect(readResources(t, web)).to.include({ cpu: '1', effectiveCpu: '3300m' });
      const out = applyAction(t, web, 'reduce-cpu');
      expect(out.after.effectiveCpu).to.equal('2800m');
      expect(getIn(specOf(t) as never, ['initContainers', 1, 'resources', 'requests', 'cpu'])).to.equal('2500m');
      // Raising adds to the first app container (1 + 3200m − 1500m steady); limits move with their requests,
      // keeping the limit/request ratio (1 for web; migrate's 3 went down with its request to 2500m).
      const up = applyAction(t, web, 'bump-cpu');
      expect(up.after.effectiveCpu).to.equal('3300m');
      expect(getIn(specOf(t) as never, ['containers', 0, 'resources', 'requests', 'cpu'])).to.equal('2700m');
      expect(getIn(specOf(t) as never, ['containers', 0, 'resources', 'limits', 'cpu'])).to.equal('2700m');
      expect(getIn(specOf(t) as never, ['initContainers', 1, 'resources', 'limits', 'cpu'])).to.equal('2500m');
    });

    it('effective mode (the default) moves a dominating init container; container mode moves only the app container', () => {
      const eff = withInit();
      const out = applyAction(eff, web, 'reduce-cpu');
      expect(out.before).to.include({ cpu: '1', effectiveCpu: '4' });
      expect(out.after).to.include({ cpu: '1', effectiveCpu: '3500m' });
      const cont = withInit();
      const s: ActionSettings = { ...DEFAULT_ACTION_SETTINGS, resourceMode: 'container' };
      const o2 = applyAction(cont, web, 'reduce-cpu', s);
      expect(o2.after).to.include({ cpu: '500m', effectiveCpu: '4' });
      expect(effectiveRequest(specOf(cont) as never, 'cpu')).to.equal(4_000_000_000n);
    });

    it('a dominating init container is no trap: the heuristic solves it in effective mode on 3-CPU nodes', async () => {
      const spec = episodeSpec({
        workload: web,
        target: 3,
        maxSteps: 10,
        seed,
        nodePool: { count: 3, cpu: '3', memory: '8Gi', pods: 110 },
      });
      const r = await runEpisode(spec, withInit(), getPolicy('heuristic'), backend);
      expect(r.initial.pending).to.equal(3);
      expect(r.solved).to.equal(true);
      expect(r.finalResources).to.include({ effectiveCpu: '3', cpu: '1' });
    });
  });

  describe('HorizontalPodAutoscalers', () => {
    const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };
    const hpa = (min: number, max: number) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { namespace: 'default', name: 'web' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: min,
        maxReplicas: max,
        metrics: [],
      },
    });
    const traced = () =>
      buildTrace([
        { ts: 1, applied_objs: [workloadObject({ replicas: 2 }), hpa(2, 6)] },
        { ts: 2, applied_objs: [workloadObject({ replicas: 6 })] },
        { ts: 3, applied_objs: [workloadObject({ replicas: 4 })] },
      ]);
    const bounds = (t: Trace) => [
      getIn(t, ['events', 0, 'applied_objs', 1, 'spec', 'minReplicas']),
      getIn(t, ['events', 0, 'applied_objs', 1, 'spec', 'maxReplicas']),
    ];

    it('scale actions widen the HPA bounds so they hold every replica count of the workload, and say so', () => {
      const t = traced();
      const up = applyAction(t, web, 'scale-up');
      expect(up.note).to.equal('scale-up: HorizontalPodAutoscaler default/web maxReplicas 6 → 7');
      expect(bounds(t)).to.deep.equal([2, 7]);
      // replicas per occurrence: 3, 7, 5 → 2, 6, 4 → 1, 5, 3 (the first occurrence leaves the HPA's range) → 1, 4, 2
      const notes = [1, 2, 3].map(() => applyAction(t, web, 'scale-down').note);
      expect(notes).to.deep.equal([
        undefined,
        'scale-down: HorizontalPodAutoscaler default/web minReplicas 2 → 1',
        undefined,
      ]);
      expect(readResources(t, web).replicas).to.equal(2);
      expect(bounds(t)).to.deep.equal([1, 7]);
    });

    it('inside the bounds the HPA is left alone', () => {
      const t = buildTrace([{ ts: 1, applied_objs: [workloadObject({ replicas: 3 }), hpa(1, 10)] }]);
      const out = applyAction(t, web, 'scale-down');
      expect(out.note).to.equal(undefined);
      expect(bounds(t)).to.deep.equal([1, 10]);
    });
  });

  it('blockedSinceChange: actions blocked since the last change, once each', () => {
    const h = (action: ActionType, changed: boolean, blocked: boolean) => ({ action, changed, blocked });
    expect(
      blockedSinceChange([
        h('scale-down', false, true),
        h('reduce-cpu', true, false),
        h('scale-down', false, true),
        h('noop', false, false),
        h('bump-cpu', false, true),
        h('scale-down', false, true),
      ]),
    )
      .to.have.members(['scale-down', 'bump-cpu'])
      .and.have.length(2);
    expect(blockedSinceChange([h('scale-down', false, true), h('reduce-cpu', true, false)])).to.deep.equal([]);
  });
});
