// Placements the real kube-scheduler (v1.33.13, default profile) chose on the test cluster, replayed through the
// embedded simulator without a cluster: they pin down its PodTopologySpread scoring (the system default
// constraints, hostname and zone) next to LeastAllocated and BalancedAllocation. Each expectation was recorded with
// FidelityCluster.run on these exact cases; the embedded placement must equal it up to ties (compareCase).
import { expect } from 'chai';
import {
  caseOf,
  compareCase,
  simpleWorkload,
  type FidelityCase,
  type FidelityNode,
  type RealPod,
} from './harness/index.js';

const N = (name: string, cpu: string, memory: string, zone?: string): FidelityNode => ({
  name,
  cpu,
  memory,
  pods: 110,
  ...(zone ? { zone } : {}),
});

/** Real pods from recorded per-workload, per-node counts (nothing was Pending in these cases). */
function recorded(c: FidelityCase, placement: Record<string, Record<string, number>>): RealPod[] {
  const pods: RealPod[] = [];
  for (const [workload, byNode] of Object.entries(placement)) {
    for (const [node, n] of Object.entries(byNode))
      for (let i = 0; i < n; i++) pods.push({ name: `${workload}-${node}-${i}`, workload, node, message: null });
  }
  expect(pods.length).to.equal(c.workloads.reduce((a, w) => a + w.pods, 0));
  return pods;
}

const CASES: { what: string; c: FidelityCase; real: Record<string, Record<string, number>> }[] = [
  {
    what: 'zero-request Deployment pods spread by count, not onto the biggest node',
    c: caseOf(
      1,
      [N('node-1', '2', '1Gi'), N('node-2', '8', '4Gi'), N('node-3', '6', '6Gi')],
      [simpleWorkload('Deployment', 'zero', 5)],
    ),
    real: { zero: { 'node-1': 1, 'node-2': 2, 'node-3': 2 } },
  },
  {
    what: 'a Deployment spreads evenly although LeastAllocated prefers the big node',
    c: caseOf(
      2,
      [N('node-1', '8', '16Gi'), N('node-2', '2', '4Gi'), N('node-3', '2', '4Gi')],
      [simpleWorkload('Deployment', 'web', 6, '250m', '256Mi')],
    ),
    real: { web: { 'node-1': 2, 'node-2': 2, 'node-3': 2 } },
  },
  {
    what: 'bare Pods and Job pods get no default spreading (LeastAllocated packs the big node)',
    c: caseOf(
      3,
      [N('node-1', '8', '16Gi'), N('node-2', '2', '4Gi'), N('node-3', '2', '4Gi')],
      [
        ...['a', 'b', 'c', 'd'].map((n) => simpleWorkload('Pod', n, 1, '250m', '256Mi')),
        simpleWorkload('Job', 'job', 4, '250m', '256Mi'),
      ],
    ),
    real: {
      a: { 'node-1': 1 },
      b: { 'node-1': 1 },
      c: { 'node-1': 1 },
      d: { 'node-2': 1 },
      job: { 'node-1': 3, 'node-3': 1 },
    },
  },
  {
    what: 'zones: pods spread over zones too; a node without a zone label only counts by hostname',
    c: caseOf(
      4,
      [
        N('node-1', '4', '8Gi', 'zone-a'),
        N('node-2', '4', '8Gi', 'zone-a'),
        N('node-3', '4', '8Gi', 'zone-b'),
        N('node-4', '4', '8Gi'),
      ],
      [simpleWorkload('Deployment', 'web', 7, '500m', '512Mi')],
    ),
    real: { web: { 'node-1': 1, 'node-2': 1, 'node-3': 1, 'node-4': 4 } },
  },
  {
    what: 'zones with a smaller node',
    c: caseOf(
      5,
      [N('node-1', '4', '8Gi', 'zone-a'), N('node-2', '4', '8Gi', 'zone-a'), N('node-3', '2', '4Gi', 'zone-b')],
      [simpleWorkload('Deployment', 'web', 5, '1', '1Gi')],
    ),
    real: { web: { 'node-1': 2, 'node-2': 2, 'node-3': 1 } },
  },
];

describe('fidelity: recorded kube-scheduler placements (PodTopologySpread defaults)', () => {
  for (const { what, c, real } of CASES) {
    it(what, () => {
      const v = compareCase(c, recorded(c, real), { wholeCluster: false });
      if (!v.agree) expect.fail(`\n${v.report}\n`);
    });
  }
});
