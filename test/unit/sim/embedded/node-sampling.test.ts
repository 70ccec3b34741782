// kube-scheduler's percentageOfNodesToScore (adaptive default) and its rotating start index, in the embedded
// scheduler: at 100 nodes or more a pod is scored on the first numFeasibleNodesToFind feasible nodes from the start
// index, and the next pod starts after the nodes this one processed.
import { expect } from 'chai';
import { simulate } from '../../../../src/sim/embedded/index.js';
import { nodesToFind } from '../../../../src/sim/embedded/scheduler.js';
import { deployment, podSpec, traceWith } from './helpers.js';

const pool = (count: number) => ({ count, cpu: '16', memory: '32Gi', pods: 110 });
const nodeNumber = (name: string | null) => Number(String(name).replace('node-', ''));

describe('embedded scheduler: nodes to score and the start index', () => {
  it('finds every node below 100 nodes, else max(100, n · max(5, 50 − n/125) %)', () => {
    expect([1, 50, 99, 100, 150, 250, 1000, 5000, 6250, 20000].map(nodesToFind)).to.deep.equal([
      1, 50, 99, 100, 100, 120, 420, 500, 312, 1000,
    ]);
  });

  it('scores only the first 100 of 150 feasible nodes, starting where the previous pod stopped', () => {
    // Three pods that fit anywhere: the first is scored on node-1..100; it processed 100 nodes, so the second
    // starts at node-101 and wraps (node-101..150, node-1..50); the third starts at node-51 (node-51..150).
    for (let seed = 0; seed < 25; seed++) {
      const r = simulate(traceWith(deployment('web', 3, podSpec('100m', '128Mi'))), { seed, nodePool: pool(150) });
      const [a, b, c] = r.pods.map((p) => nodeNumber(p.node));
      expect(a, `seed ${seed}`).to.be.within(1, 100);
      expect(b! > 100 || b! <= 50, `seed ${seed}: ${b}`).to.equal(true);
      expect(c, `seed ${seed}`).to.be.within(51, 150);
    }
  });

  it('leaves a 99-node cluster as before: every node is scored for every pod', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const r = simulate(traceWith(deployment('web', 1, podSpec('100m', '128Mi'))), { seed, nodePool: pool(99) });
      seen.add(nodeNumber(r.pods[0]!.node));
    }
    expect([...seen].some((n) => n > 60)).to.equal(true);
  });
});
