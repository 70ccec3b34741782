// Policies (sim-arena-reference.md §5.1, with the heuristic corrected to go the right way), seeded randomness,
// and the cluster capacity policies see.
import { expect } from 'chai';
import {
  ACTIONS,
  DEFAULT_ACTION_SETTINGS,
  readResources,
  type ActionSettings,
  type ActionType,
} from '../../../src/arena/actions.js';
import type { WorkloadRef } from '../../../src/trace/workload.js';
import { clusterCapacity, traceNodes } from '../../../src/arena/capacity.js';
import type { Observation, WorkloadResources } from '../../../src/arena/observation.js';
import {
  getPolicy,
  heuristicPolicy,
  observationKey,
  policyNames,
  randomPolicy,
  registerPolicy,
  type Policy,
  type PolicyContext,
} from '../../../src/arena/policies.js';
import { mixSeed, mulberry32, randomInt } from '../../../src/util/rng.js';
import { DEFAULT_SAFEGUARDS } from '../../../src/arena/safeguards.js';
import { buildTrace, deletionStub, loadLegacy, workloadObject } from '../trace/helpers.js';

const GiB = 1024n ** 3n;
const pool = { count: 3, cpu: '16', memory: '32Gi', pods: 110 };
const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };

function ctx(
  over: Partial<Omit<PolicyContext, 'resources'>> & { resources?: Partial<WorkloadResources> } = {},
): PolicyContext {
  const { resources, ...rest } = over;
  return {
    obs: { ready: 0, pending: 3, total: 3 },
    target: 3,
    step: 1,
    maxSteps: 10,
    largestNode: { cpuMillis: 16000n, memoryBytes: 32n * GiB },
    nodeCount: 3,
    settings: DEFAULT_ACTION_SETTINGS,
    rng: () => {
      throw new Error('this policy must not draw random numbers');
    },
    ...rest,
    resources: { cpu: '500m', memory: '512Mi', replicas: 3, ...resources },
  };
}

const decide = (p: Policy, c: PolicyContext) => p.decide(c) as ActionType;

describe('policies', () => {
  describe('constant policies', () => {
    const table: Array<[string, ActionType]> = [
      ['noop', 'noop'],
      ['bump-cpu', 'bump-cpu'],
      ['bump-mem', 'bump-mem'],
      ['scale-up', 'scale-up'],
    ];
    for (const [name, action] of table) {
      it(`${name} always picks ${action}`, () => {
        const p = getPolicy(name);
        expect(p.name).to.equal(name);
        for (const o of [
          { ready: 3, pending: 0, total: 3 },
          { ready: 0, pending: 3, total: 3 },
          { ready: 0, pending: 0, total: 0 },
        ])
          expect(decide(p, ctx({ obs: o })), JSON.stringify(o)).to.equal(action);
      });
    }

    it("accepts the predecessor's names (bump_cpu, bump_mem, scale_replicas)", () => {
      expect(getPolicy('bump_cpu').name).to.equal('bump-cpu');
      expect(getPolicy('bump_mem').name).to.equal('bump-mem');
      expect(getPolicy('scale_replicas').name).to.equal('scale-up');
      expect(getPolicy(' Heuristic ').name).to.equal('heuristic');
    });

    it('an unknown policy is a RangeError listing the available names', () => {
      expect(() => getPolicy('greedy-ish')).to.throw(
        RangeError,
        /unknown policy "greedy-ish" \(available: noop, random, heuristic, blind, bump-cpu, bump-mem, scale-up/,
      );
    });

    it('registered policies are listed and built with their parameters', () => {
      registerPolicy('test-fixed', (params) => ({
        name: 'test-fixed',
        decide: () => (params.action ?? 'noop') as ActionType,
      }));
      expect(policyNames()).to.include('test-fixed');
      expect(decide(getPolicy('test-fixed', { action: 'scale-down' }), ctx())).to.equal('scale-down');
    });
  });

  describe('random', () => {
    const seeded = (seed: number, step: number) => ctx({ step, rng: mulberry32(mixSeed(seed, step)) });

    it('draws from ctx.rng, never Math.random', () => {
      const real = Math.random;
      Math.random = () => {
        throw new Error('Math.random used');
      };
      try {
        expect(ACTIONS).to.include(decide(randomPolicy, seeded(1, 1)));
      } finally {
        Math.random = real;
      }
    });

    it('maps the draw onto the 7 actions in index order', () => {
      ACTIONS.forEach((a, i) => {
        expect(decide(randomPolicy, ctx({ rng: () => (i + 0.5) / 7 }))).to.equal(a);
      });
      expect(decide(randomPolicy, ctx({ rng: () => 0 }))).to.equal('noop');
      expect(decide(randomPolicy, ctx({ rng: () => 0.9999999 }))).to.equal('scale-down');
    });

    it('the same seed and step give the same action', () => {
      for (let seed = 0; seed < 20; seed++)
        for (let step = 1; step <= 5; step++)
          expect(decide(randomPolicy, seeded(seed, step))).to.equal(decide(randomPolicy, seeded(seed, step)));
    });

    it('covers all 7 actions over many seeds, roughly uniformly', () => {
      const counts = new Map<ActionType, number>();
      for (let seed = 0; seed < 700; seed++) {
        const a = decide(randomPolicy, seeded(seed, 1));
        counts.set(a, (counts.get(a) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).to.deep.equal([...ACTIONS].sort());
      for (const [a, n] of counts) expect(n, a).to.be.within(50, 150);
    });

    it('different steps of one seed do not all pick the same action', () => {
      const picks = new Set<ActionType>();
      for (let step = 1; step <= 30; step++) picks.add(decide(randomPolicy, seeded(42, step)));
      expect(picks.size).to.be.greaterThan(3);
    });
  });

  describe('heuristic', () => {
    const h = (c: Parameters<typeof ctx>[0]) => decide(heuristicPolicy, ctx(c));

    it('at the target → noop, whatever the requests', () => {
      expect(h({ obs: { ready: 3, pending: 0, total: 3 }, resources: { cpu: '20', memory: '40Gi' } })).to.equal('noop');
    });

    it('CPU above the largest node → reduce-cpu (trace-cpu-slight, trace-cpu-heavy)', () => {
      expect(h({ resources: { cpu: '17000m', memory: '2Gi' } })).to.equal('reduce-cpu');
      expect(h({ resources: { cpu: '20000m', memory: '2Gi' } })).to.equal('reduce-cpu');
    });

    it('memory above the largest node → reduce-mem (trace-mem-slight)', () => {
      expect(h({ resources: { cpu: '500m', memory: '33Gi' } })).to.equal('reduce-mem');
    });

    it('both above → one of the reductions, never a bump', () => {
      expect(['reduce-cpu', 'reduce-mem']).to.include(h({ resources: { cpu: '17000m', memory: '33Gi' } }));
    });

    it('a smaller node pool moves the threshold', () => {
      expect(h({ resources: { cpu: '3' }, largestNode: { cpuMillis: 2000n, memoryBytes: 8n * GiB } })).to.equal(
        'reduce-cpu',
      );
      expect(
        h({
          resources: { cpu: '3' },
          largestNode: { cpuMillis: 4000n, memoryBytes: 8n * GiB },
          obs: { ready: 2, pending: 0, total: 3 },
        }),
      ).to.equal('noop');
    });

    it('surplus replicas → scale-down (trace-replicas-over)', () => {
      expect(h({ obs: { ready: 5, pending: 0, total: 5 }, resources: { replicas: 5 } })).to.equal('scale-down');
    });

    it('missing replicas → scale-up (trace-scaling)', () => {
      expect(
        h({ obs: { ready: 1, pending: 0, total: 1 }, resources: { replicas: 1, cpu: '250m', memory: '256Mi' } }),
      ).to.equal('scale-up');
    });

    it('respects the CPU floor: a CPU at the floor is left alone; above it, a step stops at the floor', () => {
      const tiny = { cpuMillis: 40n, memoryBytes: 32n * GiB };
      expect(h({ obs: { ready: 0, pending: 3, total: 3 }, resources: { cpu: '50m' }, largestNode: tiny })).not.to.equal(
        'reduce-cpu',
      );
      expect(h({ obs: { ready: 0, pending: 3, total: 3 }, resources: { cpu: '60m' }, largestNode: tiny })).to.equal(
        'reduce-cpu',
      );
    });

    it('respects the memory floor', () => {
      const tiny = { cpuMillis: 16000n, memoryBytes: 32n * 1024n * 1024n };
      expect(h({ resources: { memory: '64Mi' }, largestNode: tiny })).not.to.equal('reduce-mem');
      expect(h({ resources: { memory: '300Mi' }, largestNode: tiny })).to.equal('reduce-mem');
    });

    it('respects the replica floor and cap', () => {
      expect(h({ target: 0, obs: { ready: 1, pending: 0, total: 1 }, resources: { replicas: 1 } })).to.equal('noop');
      const capped: ActionSettings = {
        ...DEFAULT_ACTION_SETTINGS,
        safeguards: { ...DEFAULT_SAFEGUARDS, maxReplicas: 3 },
      };
      expect(
        h({ target: 5, obs: { ready: 3, pending: 0, total: 3 }, resources: { replicas: 3 }, settings: capped }),
      ).to.equal('noop');
    });

    it('pods that fit a node but not the cluster: shrink what packs worst', () => {
      // 6 replicas of 6 CPU on one 16-CPU node: CPU share 6*6/16 > 1.
      expect(
        h({
          target: 6,
          nodeCount: 1,
          obs: { ready: 2, pending: 4, total: 6 },
          resources: { cpu: '6', memory: '1Gi', replicas: 6 },
        }),
      ).to.equal('reduce-cpu');
      // 6 replicas of 20Gi on three 32Gi nodes: 2 per node, memory share 40/32 > 1.
      expect(
        h({
          target: 6,
          nodeCount: 3,
          obs: { ready: 3, pending: 3, total: 6 },
          resources: { cpu: '500m', memory: '20Gi', replicas: 6 },
        }),
      ).to.equal('reduce-mem');
    });

    it('never bumps CPU because pods are pending (the predecessor heuristic did)', () => {
      for (const cpu of ['50m', '250m', '500m', '4']) {
        const a = h({ obs: { ready: 0, pending: 3, total: 3 }, resources: { cpu } });
        expect(a, cpu).not.to.equal('bump-cpu');
      }
    });

    it('replicas already right but pods not Ready yet → noop (wait)', () => {
      expect(h({ obs: { ready: 1, pending: 0, total: 3 } })).to.equal('noop');
    });

    it('with the legacy scenarios and the 3×16CPU/32Gi pool it picks the intended fix', () => {
      const cases: Array<[string, ActionType]> = [
        ['trace-cpu-slight', 'reduce-cpu'],
        ['trace-mem-heavy', 'reduce-mem'],
        ['trace-replicas-over', 'scale-down'],
        ['trace-scaling', 'scale-up'],
      ];
      for (const [name, want] of cases) {
        const t = loadLegacy(name);
        const cap = clusterCapacity(t, pool);
        const resources = readResources(t, web);
        // What the embedded cluster would show: unschedulable pods stay Pending; schedulable ones run.
        const o: Observation = want.startsWith('reduce')
          ? { ready: 0, pending: resources.replicas, total: resources.replicas }
          : { ready: resources.replicas, pending: 0, total: resources.replicas };
        expect(
          decide(heuristicPolicy, ctx({ obs: o, resources, largestNode: cap.largestNode, nodeCount: cap.nodeCount })),
          name,
        ).to.equal(want);
      }
    });
  });

  describe('blind', () => {
    const p = getPolicy('blind');
    const pods = [
      { ready: 0, pending: 3, total: 3 },
      { ready: 3, pending: 0, total: 3 },
      { ready: 0, pending: 0, total: 0 },
    ];
    it('replicas to the target first, whatever the pods show', () => {
      for (const obs of pods) {
        expect(decide(p, ctx({ obs, resources: { replicas: 5, cpu: '20' } }))).to.equal('scale-down');
        expect(decide(p, ctx({ obs, resources: { replicas: 1, memory: '40Gi' } }))).to.equal('scale-up');
      }
    });
    it('then shrinks the request that is the larger share of a node, ignoring pods', () => {
      for (const obs of pods) {
        expect(decide(p, ctx({ obs, resources: { cpu: '12', memory: '8Gi' } }))).to.equal('reduce-cpu'); // 75% vs 25%
        expect(decide(p, ctx({ obs, resources: { cpu: '2', memory: '20Gi' } }))).to.equal('reduce-mem'); // 12.5% vs 62.5%
      }
      // The share is measured against the largest node, so a smaller node flips the choice.
      expect(
        decide(
          p,
          ctx({ resources: { cpu: '4', memory: '12Gi' }, largestNode: { cpuMillis: 16000n, memoryBytes: 64n * GiB } }),
        ),
      ).to.equal('reduce-cpu');
    });
    it('moves to the other resource once the first is blocked or at its floor; noop when nothing can move', () => {
      expect(decide(p, ctx({ resources: { cpu: '12', memory: '8Gi' }, blocked: ['reduce-cpu'] }))).to.equal(
        'reduce-mem',
      );
      const floor = { cpu: DEFAULT_SAFEGUARDS.minCpu, memory: '8Gi' };
      expect(decide(p, ctx({ resources: floor }))).to.equal('reduce-mem');
      expect(
        decide(p, ctx({ resources: { cpu: '12', memory: '8Gi' }, blocked: ['reduce-cpu', 'reduce-mem'] })),
      ).to.equal('noop');
    });
    it('is a built-in policy', () => {
      expect(policyNames()).to.include('blind');
      expect(p.name).to.equal('blind');
    });
  });

  it('observationKey', () => {
    expect(observationKey({ ready: 1, pending: 2, total: 3 })).to.equal('1/2/3');
  });
});

describe('seeded randomness', () => {
  it('mulberry32 is deterministic and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).to.equal(b());
      expect(x).to.be.at.least(0);
      expect(x).to.be.below(1);
    }
    expect(mulberry32(7)()).not.to.equal(mulberry32(8)());
  });

  it('mixSeed separates (seed, step) pairs', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 50; seed++) for (let step = 0; step < 50; step++) seen.add(mixSeed(seed, step));
    expect(seen.size).to.equal(2500);
    expect(mixSeed(1, 2)).not.to.equal(mixSeed(2, 1));
    expect(mixSeed(3, 4)).to.equal(mixSeed(3, 4));
  });

  it('randomInt stays in range', () => {
    const r = mulberry32(1);
    for (let i = 0; i < 1000; i++) expect(randomInt(r, 7)).to.be.within(0, 6);
  });
});

describe('cluster capacity', () => {
  const node = (name: string, alloc: Record<string, string> | undefined, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    ...extra,
    ...(alloc ? { status: { allocatable: alloc } } : {}),
  });

  it('without Node objects the pool shape is used', () => {
    const cap = clusterCapacity(loadLegacy('trace-cpu-slight'), pool);
    expect(cap).to.deep.equal({ nodeCount: 3, largestNode: { cpuMillis: 16000n, memoryBytes: 32n * GiB } });
    expect(
      clusterCapacity(loadLegacy('trace-cpu-slight'), { count: 1, cpu: '2500m', memory: '4G', pods: 10 }),
    ).to.deep.equal({ nodeCount: 1, largestNode: { cpuMillis: 2500n, memoryBytes: 4_000_000_000n } });
  });

  it('Node objects give the count and the largest allocatable per resource', () => {
    const t = buildTrace(
      [
        {
          ts: 1,
          applied_objs: [
            node('a', { cpu: '4', memory: '64Gi' }),
            node('b', { cpu: '8', memory: '16Gi' }),
            workloadObject({ replicas: 1 }),
          ],
        },
      ],
      { tracked: { 'apps/v1.Deployment': {} } },
    );
    expect(clusterCapacity(t, pool)).to.deep.equal({
      nodeCount: 2,
      largestNode: { cpuMillis: 8000n, memoryBytes: 64n * GiB },
    });
  });

  it('deleted and unschedulable nodes do not count; the last version of a node wins; capacity is the fallback', () => {
    const t = buildTrace([
      {
        ts: 1,
        applied_objs: [
          node('a', { cpu: '4', memory: '8Gi' }),
          node('b', { cpu: '32', memory: '128Gi' }),
          node('c', { cpu: '64', memory: '256Gi' }, { spec: { unschedulable: true } }),
        ],
      },
      {
        ts: 2,
        applied_objs: [node('a', { cpu: '6', memory: '8Gi' })],
        deleted_objs: [deletionStub('b', '', 'Node', 'v1')],
      },
      {
        ts: 3,
        applied_objs: [
          {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name: 'd' },
            status: { capacity: { cpu: '2', memory: '16Gi' } },
          },
        ],
      },
    ]);
    expect(traceNodes(t).map((n) => (n.get('metadata') as Map<string, unknown>).get('name'))).to.deep.equal([
      'a',
      'c',
      'd',
    ]);
    expect(clusterCapacity(t, pool)).to.deep.equal({
      nodeCount: 2,
      largestNode: { cpuMillis: 6000n, memoryBytes: 16n * GiB },
    });
  });
});
