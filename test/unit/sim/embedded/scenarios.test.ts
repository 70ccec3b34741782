import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Observation } from '../../../../src/arena/observation.js';
import { DEFAULT_NODE_POOL } from '../../../../src/arena/backend.js';
import { EmbeddedBackend, observe, runEmbedded, simulate } from '../../../../src/sim/embedded/index.js';
import { fromPlain } from '../../../../src/trace/model.js';
import type { Trace } from '../../../../src/trace/trace.js';
import { FIXTURES, loadTrace, WEB } from './helpers.js';

/** The predecessor's scenario shape: Deployment web in default, one event, the default 3 x 16 CPU / 32Gi pool. */
function webTrace(replicas: number, cpu: string, memory: string, nodes = false): Trace {
  const applied: unknown[] = [];
  if (nodes) {
    for (const name of ['node1', 'node2', 'node3']) {
      applied.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { type: 'virtual' } },
        spec: { taints: [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }] },
        status: { allocatable: { cpu: '16', memory: '32Gi', pods: '110' } },
      });
    }
  }
  applied.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'ghcr.io/example/web:1.0', resources: { requests: { cpu, memory } } }],
        },
      },
    },
  });
  return fromPlain({
    version: 2,
    config: { trackedObjects: { 'apps/v1.Deployment': {} } },
    events: [{ ts: 1730390400, applied_objs: applied, deleted_objs: [] }],
    index: {},
    pod_lifecycles: {},
  }) as Trace;
}

describe('embedded: the predecessor scenarios', () => {
  const cases: [string, number, string, string, Observation][] = [
    ['cpu 17000m x 3', 3, '17000m', '2Gi', { ready: 0, pending: 3, total: 3 }],
    ['500m/512Mi x 5', 5, '500m', '512Mi', { ready: 5, pending: 0, total: 5 }],
    ['memory 33Gi x 3', 3, '500m', '33Gi', { ready: 0, pending: 3, total: 3 }],
    ['cpu 8000m x 6 (exactly two per node)', 6, '8000m', '1Gi', { ready: 6, pending: 0, total: 6 }],
    ['cpu 8000m x 7', 7, '8000m', '1Gi', { ready: 6, pending: 1, total: 7 }],
  ];
  for (const [name, replicas, cpu, memory, want] of cases) {
    it(`${name} -> ${want.ready} ready / ${want.pending} pending`, () => {
      expect(runEmbedded(webTrace(replicas, cpu, memory), WEB, { seed: 0 })).to.deep.equal(want);
      expect(runEmbedded(webTrace(replicas, cpu, memory, true), WEB, { seed: 0 })).to.deep.equal(want);
    });
  }

  it('runs through the Backend interface', async () => {
    const backend = new EmbeddedBackend();
    expect(backend.name).to.equal('embedded');
    expect(
      await backend.run(webTrace(3, '17000m', '2Gi'), WEB, { seed: 1, nodePool: DEFAULT_NODE_POOL }),
    ).to.deep.equal({ ready: 0, pending: 3, total: 3 });
    expect(
      await backend.run(webTrace(3, '17000m', '2Gi'), WEB, {
        seed: 1,
        nodePool: { count: 3, cpu: '32', memory: '64Gi', pods: 110 },
      }),
    ).to.deep.equal({ ready: 3, pending: 0, total: 3 });
    const aborted = AbortSignal.abort();
    let err: unknown;
    await backend.run(webTrace(1, '1', '1Gi'), WEB, { seed: 1, signal: aborted }).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(Error);
  });
});

describe('embedded: the legacy sim-arena fixtures match their stated intent', () => {
  const dir = `${FIXTURES}/legacy-sim-arena`;
  const index = JSON.parse(readFileSync(`${dir}/scenarios-index.json`, 'utf8')) as {
    scenarios: { name: string; trace: string; initial_replicas: number; failure_mode: string }[];
  };
  // What the intent implies on 3 x 16 CPU / 32Gi nodes: resource failures leave every replica Pending, the rest run.
  const expected: Record<string, Observation> = {
    'trace-mem-slight': { ready: 0, pending: 3, total: 3 },
    'trace-cpu-slight': { ready: 0, pending: 3, total: 3 },
    'trace-cpu-heavy': { ready: 0, pending: 3, total: 3 },
    'trace-cpu-mem': { ready: 0, pending: 3, total: 3 },
    'trace-replicas-over': { ready: 5, pending: 0, total: 5 },
    'trace-scaling': { ready: 1, pending: 0, total: 1 },
    'trace-scaling-v2': { ready: 2, pending: 0, total: 2 },
    'trace-normalized': { ready: 2, pending: 0, total: 2 },
    'trace-0001': { ready: 2, pending: 0, total: 2 },
    'trace-mem-heavy': { ready: 0, pending: 3, total: 3 },
    'trace-cpu-low-mem-high-replicas-over': { ready: 0, pending: 5, total: 5 },
  };

  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: ${want.ready} ready / ${want.pending} pending / ${want.total} total`, () => {
      const r = simulate(loadTrace(`${dir}/${file}.msgpack`), { seed: 7 });
      expect(observe(r, WEB)).to.deep.equal(want);
      expect(r.warnings).to.deep.equal([]);
    });
  }

  it('agrees with every scenario in scenarios-index.json on replica count and healthy-vs-broken', () => {
    for (const s of index.scenarios) {
      const file = s.trace.replace(/^demo\//, '').replace(/\.msgpack$/, '');
      const obs = observe(simulate(loadTrace(`${dir}/${file}.msgpack`)), WEB);
      expect(obs.total, s.name).to.equal(s.initial_replicas);
      const resourceProblem = /exceeded/.test(s.failure_mode);
      expect(obs.pending === obs.total, s.name).to.equal(
        resourceProblem || file === 'trace-cpu-low-mem-high-replicas-over',
      );
    }
  });

  it('replays the genuine sk-tracer export trace-v2 (14 infrastructure workloads) without errors', () => {
    const r = simulate(loadTrace(`${dir}/trace-v2.msgpack`), { seed: 1 });
    expect(r.pods.length).to.be.greaterThan(14);
    expect(r.pods.every((p) => p.phase === 'Running')).to.equal(true);
  });
});
