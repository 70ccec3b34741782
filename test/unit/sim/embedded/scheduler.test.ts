import { expect } from 'chai';
import { observe, Rng, simulate } from '../../../../src/sim/embedded/index.js';
import { barePod, deployment, makeTrace, nodeObj, podSpec, traceWith, WEB, type Plain } from './helpers.js';

const placement = (seed: number, trace = traceWith(deployment('web', 5, podSpec('500m', '512Mi')))) =>
  simulate(trace, { seed })
    .pods.map((p) => p.node)
    .join(',');

describe('embedded scheduler: scoring and seeded tie-breaks', () => {
  it('gives the same placements for the same seed', () => {
    for (const seed of [0, 1, 42, 2 ** 40 + 3, -5]) expect(placement(seed)).to.equal(placement(seed));
  });

  it('breaks ties differently for different seeds', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) seen.add(placement(seed));
    expect(seen.size).to.be.greaterThan(1);
  });

  it('spreads identical pods over identical nodes (LeastAllocated)', () => {
    for (let seed = 0; seed < 10; seed++) {
      const nodes = simulate(traceWith(deployment('web', 6, podSpec('1', '1Gi'))), { seed }).nodes;
      expect(nodes.map((n) => n.requested.pods)).to.deep.equal([2, 2, 2]);
    }
  });

  it('prefers the node with the most free capacity, and balanced cpu/memory use', () => {
    const nodes = [nodeObj('small', { cpu: '4', memory: '8Gi' }), nodeObj('big', { cpu: '64', memory: '128Gi' })];
    for (let seed = 0; seed < 5; seed++)
      expect(
        simulate(makeTrace([{ at: 0, applied: [...nodes, deployment('web', 1, podSpec('1', '1Gi'))] }]), { seed })
          .pods[0]!.node,
      ).to.equal('big');
    // Both nodes get LeastAllocated 80 for a 2-CPU pod (a: cpu 60 + memory 100, b: 80 + 80); BalancedAllocation then
    // prefers b, where cpu and memory would both be 20% used, over a (40% cpu, 0% memory).
    const t = makeTrace([
      {
        at: 0,
        applied: [
          nodeObj('a', { cpu: '10', memory: '10Gi' }),
          nodeObj('b', { cpu: '10', memory: '10Gi' }),
          barePod('fill-a', podSpec('2', '0', { nodeName: 'a' })),
          barePod('fill-b', podSpec('0', '2Gi', { nodeName: 'b' })),
        ],
      },
      { at: 1, applied: [barePod('x', podSpec('2', '0'))] },
    ]);
    for (let seed = 0; seed < 12; seed++) expect(simulate(t, { seed }).pods[2]!.node).to.equal('b');
  });

  it('orders the queue by priority, then creation, so a later high-priority pod takes the last slot', () => {
    const t = makeTrace([
      {
        at: 0,
        applied: [
          {
            apiVersion: 'scheduling.k8s.io/v1',
            kind: 'PriorityClass',
            metadata: { name: 'high' },
            value: 1000,
            preemptionPolicy: 'Never',
          },
          barePod('low', podSpec('16')),
          barePod('high', podSpec('16', undefined, { priorityClassName: 'high' })),
        ],
      },
    ]);
    const r = simulate(t, { nodePool: { count: 1, cpu: '16', memory: '32Gi', pods: 110 } });
    expect(r.pods.map((p) => `${p.name}:${p.phase}:${p.priority}`)).to.deep.equal([
      'low:Pending:0',
      'high:Running:1000',
    ]);
  });

  it('preempts lower-priority pods for a higher-priority pod; the victims are recreated and stay Pending', () => {
    const pc: Plain = {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'critical' },
      value: 100000,
    };
    const t = makeTrace([
      { at: 0, applied: [pc, deployment('web', 3, podSpec('10'))] },
      { at: 10, applied: [deployment('vip', 1, podSpec('10', undefined, { priorityClassName: 'critical' }))] },
    ]);
    const r = simulate(t, { seed: 3 });
    expect(observe(r, { ...WEB, name: 'vip' })).to.deep.equal({ ready: 1, pending: 0, total: 1 });
    expect(observe(r, WEB)).to.deep.equal({ ready: 2, pending: 1, total: 3 });
    expect(r.preemptions).to.equal(1);
    const never = makeTrace([
      { at: 0, applied: [pc, deployment('web', 3, podSpec('10'))] },
      {
        at: 10,
        applied: [
          deployment('vip', 1, podSpec('10', undefined, { priorityClassName: 'critical', preemptionPolicy: 'Never' })),
        ],
      },
    ]);
    expect(observe(simulate(never), { ...WEB, name: 'vip' })).to.deep.equal({ ready: 0, pending: 1, total: 1 });
  });
});

describe('embedded: Rng', () => {
  it('is deterministic and covers its range', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const x = a.intn(3);
      expect(x).to.equal(b.intn(3));
      counts[x]!++;
    }
    for (const c of counts) expect(c).to.be.within(850, 1150);
    expect(new Rng(1).nextU32()).to.not.equal(new Rng(2).nextU32());
  });
});
