// The node pool: one type and one reader for every backend; traces carry no cluster-scoped objects; older traces
// with Node objects are converted when loaded.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { getIn, isMap } from '../../../src/trace/model.js';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { decodeTrace, encodeTrace } from '../../../src/trace/trace.js';
import {
  compactPool,
  convertNodeObjects,
  DEFAULT_NODE_POOL,
  effectivePool,
  nodePoolDocument,
  parseNodePool,
  poolNodes,
  readNodeObject,
} from '../../../src/trace/nodepool.js';
import { clusterCapacity } from '../../../src/arena/capacity.js';
import { poolNodes as kwokPoolNodes } from '../../../src/sim/kwok/project.js';
import { runEmbedded } from '../../../src/sim/embedded/index.js';
import { readTraceFile } from '../../../src/cli/load.js';
import { buildTrace, expectTraceError, repoRoot, workloadObject } from './helpers.js';

const node = (name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { type: 'virtual', zone: 'a' } },
  spec: { taints: [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }] },
  status: { allocatable: { cpu, memory, pods: '110' } },
  ...extra,
});
const web = { kind: 'Deployment', namespace: 'default', name: 'web' };

/** Every .msgpack / .sktrace under dir, recursively. */
function traceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...traceFiles(p));
    else if (/\.(msgpack|sktrace)$/.test(f)) out.push(p);
  }
  return out;
}

const CLUSTER_SCOPED = new Set([
  'Node',
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'RuntimeClass',
  'CSIDriver',
  'VolumeAttachment',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);

describe('node pool', () => {
  it("no trace in traces/ carries a cluster-scoped object in its events (SimKube 2.7's driver panics on them)", () => {
    const files = traceFiles(path.join(repoRoot, 'traces'));
    expect(files.length).to.be.at.least(69);
    for (const f of files) {
      const t = decodeTrace(new Uint8Array(readFileSync(f))).trace;
      (t.get('events') as MsgValue[]).forEach((ev, i) => {
        for (const list of ['applied_objs', 'deleted_objs']) {
          for (const o of (ev as MsgMap).get(list) as MsgValue[]) {
            const obj = o as MsgMap;
            const where = `${path.relative(repoRoot, f)} events[${i}].${list} ${String(obj.get('kind'))}`;
            expect(CLUSTER_SCOPED.has(String(obj.get('kind'))), where).to.equal(false);
            expect(getIn(obj, ['metadata', 'namespace']), where)
              .to.be.a('string')
              .and.not.equal('');
          }
        }
      });
    }
  });

  it('the corpus keeps its pools next to the traces: NAME.nodepool.json, read with the trace', () => {
    const corpus = path.join(repoRoot, 'traces', 'corpus');
    const index = JSON.parse(readFileSync(path.join(corpus, 'index.json'), 'utf8')) as Array<{
      trace: string;
      nodePool?: unknown;
    }>;
    const withPool = index.filter((e) => e.nodePool);
    expect(withPool.length).to.be.greaterThan(10);
    for (const e of withPool) {
      const loaded = readTraceFile(path.join(corpus, e.trace));
      expect(loaded.nodePool, e.trace).to.deep.equal(parseNodePool(e.nodePool));
    }
  });

  it('one reader: a uniform pool expands to node-1..N like SimKube virtual nodes, for the arena, embedded and kwok alike', () => {
    const pool = { count: 2, cpu: '8', memory: '16Gi', pods: 20 };
    expect(poolNodes(pool).map((n) => [n.name, n.allocatable, n.labels?.type, n.taints?.[0]?.key])).to.deep.equal([
      ['node-1', { cpu: '8', memory: '16Gi', pods: '20' }, 'virtual', 'kwok-provider'],
      ['node-2', { cpu: '8', memory: '16Gi', pods: '20' }, 'virtual', 'kwok-provider'],
    ]);
    const t = buildTrace([
      {
        ts: 1,
        applied_objs: [workloadObject({ replicas: 5, containers: [{ name: 'web', cpu: '3', memory: '1Gi' }] })],
      },
    ]);
    expect(clusterCapacity(t, pool)).to.deep.equal({
      nodeCount: 2,
      largestNode: { cpuMillis: 8000n, memoryBytes: 16n * 1024n ** 3n },
    });
    // 2 per node fit 8 CPU at 3 CPU each: 4 of 5 scheduled.
    expect(runEmbedded(t, web, { seed: 1, nodePool: pool })).to.deep.equal({ ready: 4, pending: 1, total: 5 });
    expect(kwokPoolNodes(poolNodes(pool), 'run1').map((n) => [n.name, n.cpu, n.memory, n.pods])).to.deep.equal([
      ['run1-node-1', '8', '16Gi', '20'],
      ['run1-node-2', '8', '16Gi', '20'],
    ]);
  });

  it('an explicit list of nodes (heterogeneous pools) is one pool too', () => {
    const pool = parseNodePool({
      nodes: [
        { name: 'big', cpu: '32', memory: '64Gi', pods: 110 },
        { name: 'small', cpu: '2', memory: '4Gi' },
        { name: 'off', cpu: '64', memory: '1Ti', unschedulable: true },
      ],
    });
    const t = buildTrace([
      {
        ts: 1,
        applied_objs: [workloadObject({ replicas: 3, containers: [{ name: 'web', cpu: '10', memory: '1Gi' }] })],
      },
    ]);
    expect(clusterCapacity(t, pool)).to.deep.equal({
      nodeCount: 2,
      largestNode: { cpuMillis: 32000n, memoryBytes: 64n * 1024n ** 3n },
    });
    expect(runEmbedded(t, web, { seed: 1, nodePool: pool })).to.deep.equal({ ready: 3, pending: 0, total: 3 });
  });

  it('old traces with Node objects: the same reader, and converted on load with a note', () => {
    const t = buildTrace([
      {
        ts: 1,
        applied_objs: [
          node('a', '4', '8Gi'),
          node('b', '16', '32Gi'),
          workloadObject({ replicas: 2, containers: [{ name: 'web', cpu: '6', memory: '1Gi' }] }),
        ],
      },
      { ts: 2, deleted_objs: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'a' } }] },
    ]);
    const inTrace = effectivePool(t);
    expect(inTrace.nodes!.map((n) => n.name)).to.deep.equal(['b']);
    const before = runEmbedded(t, web, { seed: 1 });
    const dir = mkdtempSync(path.join(tmpdir(), 'sa-pool-'));
    try {
      const file = path.join(dir, 'old.msgpack');
      writeFileSync(file, encodeTrace(t));
      const loaded = readTraceFile(file);
      expect(
        loaded.warnings.some((w) =>
          /^converted 3 v1 Node object\(s\) in the trace's events into a node pool of 1 node\(s\) \(their state at the end of the trace\)/.test(
            w,
          ),
        ),
      ).to.equal(true);
      expect(effectivePool(loaded.trace).nodes).to.equal(undefined);
      expect(loaded.nodePool!.nodes![0]).to.deep.include({
        name: 'b',
        allocatable: { cpu: '16', memory: '32Gi', pods: '110' },
      });
      expect(runEmbedded(loaded.trace, web, { seed: 1, nodePool: loaded.nodePool! })).to.deep.equal(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('convertNodeObjects leaves a trace without Node objects alone; the document round-trips', () => {
    const t = buildTrace([{ ts: 1, applied_objs: [workloadObject()] }]);
    const bytes = encodeTrace(t);
    expect(convertNodeObjects(t)).to.equal(undefined);
    expect(encodeTrace(t)).to.deep.equal(bytes);
    const pool = parseNodePool({
      nodes: [{ name: 'x', cpu: '4', memory: '8Gi', pods: 10, labels: { type: 'virtual', disk: 'ssd' } }],
    });
    expect(parseNodePool(JSON.parse(JSON.stringify(nodePoolDocument(pool))))).to.deep.equal(pool);
    expect(nodePoolDocument(DEFAULT_NODE_POOL)).to.deep.equal({
      apiVersion: 'simarena.io/v1alpha1',
      kind: 'NodePool',
      count: 3,
      cpu: '16',
      memory: '32Gi',
      pods: 110,
    });
    // Plain virtual nodes of one size compact back to the uniform form.
    expect(
      compactPool({ ...DEFAULT_NODE_POOL, nodes: poolNodes({ count: 2, cpu: '8', memory: '16Gi', pods: 110 }) }),
    ).to.deep.equal({ count: 2, cpu: '8', memory: '16Gi', pods: 110 });
  });

  it('bad node-pool input is a one-line error naming the field', () => {
    expect(expectTraceError(() => parseNodePool({ count: -1 }), 'nodePool.count').message).to.match(/whole number/);
    expectTraceError(() => parseNodePool({ cpu: 'lots' }), 'nodePool.cpu');
    expectTraceError(() => parseNodePool({ nodes: [{ name: 'a' }, { name: 'a' }] }), 'nodePool.nodes[1].name');
    expectTraceError(
      () => parseNodePool({ nodes: [{ taints: [{ key: 'k', effect: 'Sometimes' }] }] }),
      'nodePool.nodes[0].taints[0]',
    );
    expectTraceError(() => parseNodePool({ size: 3 }), 'nodePool.size');
    expectTraceError(() => parseNodePool([1]), 'nodePool');
  });

  it('readNodeObject: allocatable falls back to capacity; no status gets KWOK defaults with a warning', () => {
    const warnings: string[] = [];
    const m = (o: unknown) => decodeTrace(encodeTrace(buildTrace([{ ts: 1, applied_objs: [o] }]))).trace;
    const cap = getIn(
      m({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'c' },
        status: { capacity: { cpu: '2', memory: '1Gi', pods: '5' } },
      }),
      ['events', 0, 'applied_objs', 0],
    ) as MsgMap;
    expect(readNodeObject(cap).allocatable).to.deep.equal({ cpu: '2', memory: '1Gi', pods: '5' });
    const bare = getIn(m({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'd' } }), [
      'events',
      0,
      'applied_objs',
      0,
    ]) as MsgMap;
    expect(isMap(bare)).to.equal(true);
    expect(readNodeObject(bare, (w) => warnings.push(w)).allocatable).to.deep.equal({
      cpu: '1k',
      memory: '1Ti',
      pods: '1M',
    });
    expect(warnings[0]).to.match(/no status.capacity or status.allocatable/);
  });
});
