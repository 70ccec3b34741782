import { expect } from 'chai';
import { observe, simulate } from '../../../../src/sim/embedded/index.js';
import { deployment, makeTrace, nodeObj, podSpec, traceWith, WEB, type Plain } from './helpers.js';

function withNodes(nodes: Plain[], ...objs: Plain[]) {
  return makeTrace([{ at: 0, applied: [...nodes, ...objs] }]);
}

function placements(nodes: Plain[], spec: Plain, replicas = 1): (string | null)[] {
  return simulate(withNodes(nodes, deployment('web', replicas, spec))).pods.map((p) => p.node);
}

describe('embedded: nodes', () => {
  it('uses the default pool when the trace has no Node objects: node-1..N, type=virtual, kwok-provider taint', () => {
    const r = simulate(traceWith(deployment('web', 1, podSpec('1'))), {
      nodePool: { count: 4, cpu: '8', memory: '16Gi', pods: 50 },
    });
    expect(r.nodes.map((n) => n.name)).to.deep.equal(['node-1', 'node-2', 'node-3', 'node-4']);
    const n = r.nodes[0]!;
    expect(n.labels.get('type')).to.equal('virtual');
    expect(n.taints).to.deep.equal([{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }]);
    expect(n.allocatable).to.include({ cpu: 8000, memory: 16 * 1024 ** 3, pods: 50 });
  });

  it('uses the Node objects of the trace instead, with allocatable defaulting to capacity', () => {
    const r = simulate(
      withNodes([
        nodeObj('a', { cpu: '4', memory: '8Gi', capacityOnly: true }),
        nodeObj('b', { cpu: '36', memory: '72Gi', allocatable: { cpu: '35', memory: '71Gi', pods: 110 } }),
      ]),
    );
    expect(r.nodes.map((n) => n.name)).to.deep.equal(['a', 'b']);
    expect(r.nodes[0]!.allocatable).to.include({ cpu: 4000, memory: 8 * 1024 ** 3, pods: 110 });
    expect(r.nodes[1]!.allocatable).to.include({ cpu: 35000, memory: 71 * 1024 ** 3 });
  });

  it('adds trace nodes when their event is replayed and removes deleted ones (their pods are replaced)', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 2, podSpec('10'))] },
      { at: 10, applied: [nodeObj('a'), nodeObj('b')] },
      { at: 20, deleted: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'b' } }] },
    ]);
    expect(observe(simulate(t, { durationSeconds: 5 }), WEB)).to.deep.equal({ ready: 0, pending: 2, total: 2 });
    expect(observe(simulate(t, { durationSeconds: 15 }), WEB)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    const end = simulate(t);
    expect(observe(end, WEB)).to.deep.equal({ ready: 1, pending: 1, total: 2 });
    expect(end.nodes.map((n) => n.name)).to.deep.equal(['a']);
  });

  it('re-reads a re-applied Node (a NoExecute taint evicts and keeps pods out; more allocatable lets Pending pods in)', () => {
    const t = makeTrace([
      { at: 0, applied: [nodeObj('a', { cpu: '4' }), deployment('web', 2, podSpec('3'))] },
      { at: 10, applied: [nodeObj('a', { cpu: '8', taints: [{ key: 'maint', value: 'yes', effect: 'NoExecute' }] })] },
      { at: 20, applied: [nodeObj('a', { cpu: '8' })] },
    ]);
    expect(observe(simulate(t, { durationSeconds: 5 }), WEB)).to.deep.equal({ ready: 1, pending: 1, total: 2 });
    const tainted = simulate(t, { durationSeconds: 15 });
    expect(observe(tainted, WEB)).to.deep.equal({ ready: 0, pending: 2, total: 2 });
    expect(tainted.pods[1]!.reasons).to.deep.equal(['node(s) had untolerated taint {maint: yes}']);
    expect(observe(simulate(t), WEB)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
  });

  it('warns when no trace node carries the type=virtual label SimKube pins pods to', () => {
    const r = simulate(withNodes([nodeObj('a', { labels: { zone: 'x' } })], deployment('web', 1, podSpec('1'))));
    expect(observe(r, WEB)).to.deep.equal({ ready: 0, pending: 1, total: 1 });
    expect(r.pods[0]!.reasons).to.deep.equal(["node(s) didn't match Pod's node affinity/selector"]);
    expect(r.warnings.join('\n')).to.match(/type=virtual/);
  });
});

describe('embedded: taints and tolerations', () => {
  const tainted = (effect: string) => nodeObj('t', { taints: [{ key: 'dedicated', value: 'gpu', effect }] });

  it('gives every pod the kwok-provider toleration, so the default pool takes pods', () => {
    expect(observe(simulate(traceWith(deployment('web', 2, podSpec('1')))), WEB).ready).to.equal(2);
  });

  it('fails NoSchedule and NoExecute taints without a matching toleration, ignores PreferNoSchedule', () => {
    for (const effect of ['NoSchedule', 'NoExecute']) {
      const r = simulate(withNodes([tainted(effect)], deployment('web', 1, podSpec('1'))));
      expect(r.pods[0]!.reasons).to.deep.equal(['node(s) had untolerated taint {dedicated: gpu}']);
    }
    expect(placements([tainted('PreferNoSchedule')], podSpec('1'))).to.deep.equal(['t']);
  });

  it('matches tolerations by key, operator, value and effect', () => {
    const tol = (t: Plain) => podSpec('1', undefined, { tolerations: [t] });
    expect(
      placements(
        [tainted('NoSchedule')],
        tol({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }),
      ),
    ).to.deep.equal(['t']);
    expect(placements([tainted('NoSchedule')], tol({ key: 'dedicated', value: 'gpu' }))).to.deep.equal(['t']);
    expect(placements([tainted('NoSchedule')], tol({ key: 'dedicated', operator: 'Exists' }))).to.deep.equal(['t']);
    expect(placements([tainted('NoSchedule')], tol({ operator: 'Exists' }))).to.deep.equal(['t']);
    expect(placements([tainted('NoSchedule')], tol({ key: 'dedicated', value: 'cpu' }))).to.deep.equal([null]);
    expect(
      placements([tainted('NoSchedule')], tol({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' })),
    ).to.deep.equal([null]);
  });

  it('keeps pods off unschedulable (cordoned) nodes', () => {
    const r = simulate(withNodes([nodeObj('c', { unschedulable: true })], deployment('web', 1, podSpec('1'))));
    expect(r.pods[0]!.message).to.equal('0/1 nodes are available: 1 node(s) were unschedulable.');
  });
});

describe('embedded: nodeSelector and node affinity', () => {
  const nodes = [
    nodeObj('ssd', { labels: { type: 'virtual', disk: 'ssd', cores: '32' } }),
    nodeObj('hdd', { labels: { type: 'virtual', disk: 'hdd', cores: '8' } }),
    nodeObj('bare', { labels: { type: 'virtual' } }),
  ];
  const affinity = (exprs: Plain[], fields: Plain[] = []) =>
    podSpec('1', undefined, {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: exprs, matchFields: fields }],
          },
        },
      },
    });
  const where = (spec: Plain) => placements(nodes, spec, 3).filter((n) => n !== null);

  it('honours nodeSelector', () => {
    expect(where(podSpec('1', undefined, { nodeSelector: { disk: 'ssd' } }))).to.deep.equal(['ssd', 'ssd', 'ssd']);
  });

  it('overwrites a template nodeSelector type with type=virtual, like the SimKube webhook', () => {
    expect(where(podSpec('1', undefined, { nodeSelector: { type: 'real' } }))).to.have.length(3);
  });

  it('supports In, NotIn, Exists, DoesNotExist, Gt, Lt and matchFields metadata.name', () => {
    const only = (spec: Plain) => [...new Set(where(spec))].sort();
    expect(only(affinity([{ key: 'disk', operator: 'In', values: ['hdd'] }]))).to.deep.equal(['hdd']);
    expect(only(affinity([{ key: 'disk', operator: 'NotIn', values: ['hdd'] }]))).to.deep.equal(['bare', 'ssd']);
    expect(only(affinity([{ key: 'disk', operator: 'Exists' }]))).to.deep.equal(['hdd', 'ssd']);
    expect(only(affinity([{ key: 'disk', operator: 'DoesNotExist' }]))).to.deep.equal(['bare']);
    expect(only(affinity([{ key: 'cores', operator: 'Gt', values: ['16'] }]))).to.deep.equal(['ssd']);
    expect(only(affinity([{ key: 'cores', operator: 'Lt', values: ['16'] }]))).to.deep.equal(['hdd']);
    expect(only(affinity([], [{ key: 'metadata.name', operator: 'In', values: ['bare'] }]))).to.deep.equal(['bare']);
  });

  it('ORs terms, ANDs expressions within a term, and matches nothing with an empty term', () => {
    const terms = (t: Plain[]) =>
      podSpec('1', undefined, {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: t } } },
      });
    const sorted = (spec: Plain) => [...new Set(where(spec))].sort();
    expect(
      sorted(
        terms([
          { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] },
          { matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] },
        ]),
      ),
    ).to.deep.equal(['bare', 'ssd']);
    expect(
      sorted(
        terms([
          {
            matchExpressions: [
              { key: 'disk', operator: 'Exists' },
              { key: 'cores', operator: 'Lt', values: ['9'] },
            ],
          },
        ]),
      ),
    ).to.deep.equal(['hdd']);
    expect(where(terms([{}]))).to.deep.equal([]);
  });
});
