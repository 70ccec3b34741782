import { expect } from 'chai';
import { scoreNode } from '../../../src/sim/embedded/scheduler.js';
import {
  bulkCase,
  checkPlacements,
  chunkSizeFor,
  nodeCountDiff,
  nodesInRealOrder,
  parseSchedulerLog,
  realPodsFromLog,
  runFromNodeOrder,
  shapeOf,
  type SchedulingCycle,
} from '../../fidelity/harness/index.js';

const BIND = (t: string, pod: string, node: string) =>
  `I1204 ${t}   1 default_binder.go:53] "Attempting to bind pod to node" pod="${pod}" node="${node}"`;

const LOG = [
  'I1204 22:52:50.000001   1 node_tree.go:65] "Added node to NodeTree" node="r-node-2" zone=""',
  'I1204 22:52:50.000002   1 node_tree.go:65] "Added node to NodeTree" node="kwok-node-0" zone=""',
  'I1204 22:52:50.000003   1 node_tree.go:65] "Added node to NodeTree" node="r-node-1" zone=""',
  'I1204 22:52:51.000000   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/p-1"',
  BIND('22:52:51.000100', 'ns/p-1', 'r-node-1'),
  'I1204 22:52:51.100000   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/p-2"',
  // The binding goroutine of p-1 logs after p-2's cycle started.
  'I1204 22:52:51.200000   1 schedule_one.go:314] "Successfully bound pod to node" pod="ns/p-1" node="r-node-1" evaluatedNodes=3 feasibleNodes=2',
  'I1204 22:52:51.300000   1 schedule_one.go:1044] "Unable to schedule pod; no fit; waiting" pod="ns/p-2" err="0/3 nodes are available: 1 Too many pods."',
  'I1204 22:52:52.000000   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/p-2"',
  BIND('22:52:52.000100', 'ns/p-2', 'r-node-2'),
  'I1204 22:52:52.500000   1 schedule_one.go:314] "Successfully bound pod to node" pod="ns/p-2" node="r-node-2" evaluatedNodes=3 feasibleNodes=1',
  'W1204 22:52:53.000000   1 other.go:1] "unrelated" x=1',
].join('\n');

describe('fidelity bench: scheduler log and pod-by-pod placement check', () => {
  it('reads node order, cycle order, bound pods and settle times from a -v=3 kube-scheduler log', () => {
    const l = parseSchedulerLog(LOG);
    expect(l.nodeOrder).to.deep.equal(['r-node-2', 'kwok-node-0', 'r-node-1']);
    expect(l.cycles.map((c) => [c.pod, c.node, c.evaluated])).to.deep.equal([
      ['ns/p-1', 'r-node-1', 3],
      ['ns/p-2', null, null],
      ['ns/p-2', 'r-node-2', 3],
    ]);
    // First bind: p-1 at 51.2; p-2 settled at its first "no fit" (51.3), not at its later bind (52.5).
    expect(l.lastSettle! - l.firstBind!).to.be.closeTo(100, 0.01);
  });

  it('gives each pod its last outcome with the run prefix stripped, and finds the run name', () => {
    const text = LOG.replace(/ns\/p-/g, 'ns/7-0-p-').replace(
      '"Unable to schedule pod; no fit; waiting" pod="ns/7-0-p-2" err="0/3 nodes are available: 1 Too many pods."',
      '"Unable to schedule pod; no fit; waiting" pod="ns/7-0-p-2" err="0/3 nodes are available: 1 Too many pods."\n' +
        'I1204 22:52:53.000000   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/7-0-p-3"\n' +
        'I1204 22:52:53.100000   1 schedule_one.go:1044] "Unable to schedule pod; no fit; waiting" pod="ns/7-0-p-3" err="0/3 nodes: \\"x\\"."',
    );
    const l = parseSchedulerLog(text);
    expect(runFromNodeOrder(l.nodeOrder)).to.equal('r');
    expect(realPodsFromLog(l, 'r')).to.deep.equal([
      { name: '7-0-p-1', workload: 'p-1', node: 'node-1', message: null },
      { name: '7-0-p-2', workload: 'p-2', node: 'node-2', message: null },
      { name: '7-0-p-3', workload: 'p-3', node: null, message: '0/3 nodes: "x".' },
    ]);
    expect(() => runFromNodeOrder(['kwok-node-0'])).to.throw(/no pool node/);
  });

  it('a bind that timed out but was applied: the pod is where the API server says, both cycles are kept', () => {
    const l = parseSchedulerLog(
      [
        'I1204 22:52:50.000001   1 node_tree.go:65] "Added node to NodeTree" node="r-node-1" zone=""',
        'I1204 22:52:50.000002   1 node_tree.go:65] "Added node to NodeTree" node="r-node-2" zone=""',
        'I1204 23:23:28.650511   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/1-0-p-9"',
        BIND('23:23:28.656278', 'ns/1-0-p-9', 'r-node-1'),
        'I1204 23:23:28.700000   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/1-0-p-8"',
        BIND('23:23:28.700100', 'ns/1-0-p-8', 'r-node-2'),
        'I1204 23:23:28.800000   1 schedule_one.go:314] "Successfully bound pod to node" pod="ns/1-0-p-8" node="r-node-2" evaluatedNodes=2 feasibleNodes=2',
        'E1204 23:24:04.546642   1 framework.go:1317] "Plugin Failed" err="Timeout: request did not complete within requested timeout - context deadline exceeded" plugin="DefaultBinder" pod="ns/1-0-p-9" node="r-node-1"',
        'I1204 23:24:04.546708   1 schedule_one.go:993] "Failed to bind pod" pod="ns/1-0-p-9"',
        'I1204 23:24:06.001063   1 schedule_one.go:99] "Attempting to schedule pod" pod="ns/1-0-p-9"',
        BIND('23:24:06.005560', 'ns/1-0-p-9', 'r-node-2'),
        'I1204 23:24:13.487049   1 schedule_one.go:993] "Failed to bind pod" pod="ns/1-0-p-9"',
        'E1204 23:24:13.487091   1 schedule_one.go:1046] "Error scheduling pod; retrying" err="running Bind plugin \\"DefaultBinder\\": Operation cannot be fulfilled on pods/binding \\"1-0-p-9\\": pod 1-0-p-9 is already assigned to node \\"r-node-1\\"" pod="ns/1-0-p-9"',
      ].join('\n'),
    );
    expect(l.cycles.map((c) => [c.pod, c.node, c.evaluated, c.bindFailed])).to.deep.equal([
      ['ns/1-0-p-9', 'r-node-1', null, true],
      ['ns/1-0-p-8', 'r-node-2', 2, false],
      ['ns/1-0-p-9', 'r-node-2', null, true],
    ]);
    expect(realPodsFromLog(l, 'r').map((p) => [p.name, p.node])).to.deep.equal([
      ['1-0-p-9', 'node-1'],
      ['1-0-p-8', 'node-2'],
    ]);
  });

  it("upstream's chunk sizes for the parallel filter pass", () => {
    expect(chunkSizeFor(1003, 16)).to.equal(31);
    expect(chunkSizeFor(203, 16)).to.equal(13);
    expect(chunkSizeFor(10, 16)).to.equal(1);
  });

  it('allows the best node of the real window and flags a worse one, an infeasible one and a wrong "no fit"', () => {
    const c = bulkCase(7, 20, 5, 3);
    const order = ['r-node-3', 'r-node-1', 'kwok-node-0', 'r-node-5', 'r-node-2', 'r-node-4'];
    const shape = shapeOf(c.workloads[0]!.object.spec as Record<string, unknown>);
    const fresh = () => nodesInRealOrder(c, 'r', order);
    const { nodes, poolName } = fresh();
    expect(poolName).to.deep.equal(['node-3', 'node-1', null, 'node-5', 'node-2', 'node-4']);
    const index = new Map(order.map((n, i) => [n, i]));
    const scores = nodes.map((n, i) => (poolName[i] === null ? -1 : scoreNode(shape, n)));
    const best = scores.indexOf(Math.max(...scores));
    const worst = scores.indexOf(Math.min(...scores.filter((s) => s >= 0)));
    expect(scores[best]).to.be.greaterThan(scores[worst]!);
    const cycle = (node: string | null): SchedulingCycle => ({
      pod: 'ns/p',
      node,
      evaluated: node === null ? null : order.length,
      feasible: null,
      bindFailed: false,
      at: 0,
    });
    const good = checkPlacements(shape, fresh().nodes, poolName, index, [cycle(order[best]!)], 1);
    expect([good.scheduled, good.feasible, good.windowBest, good.modelWindowBest, good.allNodesBest]).to.deep.equal([
      1, 1, 1, 1, 1,
    ]);
    const bad = checkPlacements(shape, fresh().nodes, poolName, index, [cycle(order[worst]!)], 1);
    expect([bad.feasible, bad.windowBest, bad.allNodesBest]).to.deep.equal([1, 0, 0]);
    expect(bad.examples[0]).to.match(/best/);
    const outsider = checkPlacements(shape, fresh().nodes, poolName, index, [cycle('kwok-node-0')], 1);
    expect(outsider.feasible).to.equal(0);
    const noFit = checkPlacements(shape, fresh().nodes, poolName, index, [cycle(null)], 1);
    expect(noFit.unschedulableButFits).to.equal(1);
    expect(() => checkPlacements(shape, fresh().nodes, poolName, index, [cycle('r-node-9')], 1)).to.throw(
      /not in the scheduler's node list/,
    );
  });

  it('binds each real choice, so later pods see it (a node filled to capacity becomes infeasible)', () => {
    const c = bulkCase(3, 40, 2, 1);
    const order = ['r-node-1', 'r-node-2'];
    const { nodes, poolName } = nodesInRealOrder(c, 'r', order);
    const shape = shapeOf(c.workloads[0]!.object.spec as Record<string, unknown>);
    const cap = c.capacity[0]!;
    const cycles: SchedulingCycle[] = Array.from({ length: cap + 1 }, (_, i) => ({
      pod: `ns/p-${i}`,
      node: 'r-node-1',
      evaluated: 2,
      feasible: null,
      bindFailed: false,
      at: 0,
    }));
    const r = checkPlacements(shape, nodes, poolName, new Map(order.map((n, i) => [n, i])), cycles, 1);
    expect(r.scheduled).to.equal(cap + 1);
    expect(r.feasible).to.equal(cap); // the last one no longer fits on node-1
  });

  it('refuses a node list that lacks pool nodes', () => {
    const c = bulkCase(7, 20, 5, 3);
    expect(() => nodesInRealOrder(c, 'r', ['r-node-1'])).to.throw(/lacks 4 pool nodes/);
  });

  it('counts pods placed differently per node', () => {
    const d = nodeCountDiff(
      ['a', 'b', 'c'],
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
      new Map([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]),
    );
    expect(d).to.deep.equal({ moved: 1, nodesDiffering: 2, maxDiff: 1 });
  });
});
