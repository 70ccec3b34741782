import { expect } from 'chai';
import { observe, simulate } from '../../../../src/sim/embedded/index.js';
import { container, deployment, makeTrace, nodeObj, podSpec, traceWith, WEB } from './helpers.js';

const ONE_NODE = { count: 1, cpu: '4', memory: '8Gi', pods: 110 };

function requestsOf(spec: Record<string, unknown>): { cpu: number; memory: number } {
  const r = simulate(traceWith(deployment('web', 1, spec)), {
    nodePool: { count: 1, cpu: '1000', memory: '1Ti', pods: 110 },
  });
  return r.pods[0]!.requests;
}

describe('embedded: effective pod request (resource.PodRequests)', () => {
  it('takes the largest init container when it exceeds the sum of the containers (the upstream example)', () => {
    const spec = {
      initContainers: [
        container('i1', { requests: { cpu: '2', memory: '1G' } }),
        container('i2', { requests: { cpu: '2', memory: '3G' } }),
      ],
      containers: [
        container('c1', { requests: { cpu: '2', memory: '1G' } }),
        container('c2', { requests: { cpu: '1', memory: '1G' } }),
      ],
    };
    expect(requestsOf(spec)).to.deep.equal({ cpu: 3000, memory: 3_000_000_000 });
  });

  it('leaves a pod Pending when only its init container is too big for the node', () => {
    const spec = {
      initContainers: [container('init', { requests: { cpu: '5' } })],
      containers: [container('app', { requests: { cpu: '1' } })],
    };
    const r = simulate(traceWith(deployment('web', 1, spec)), { nodePool: ONE_NODE });
    expect(observe(r, WEB)).to.deep.equal({ ready: 0, pending: 1, total: 1 });
    expect(r.pods[0]!.reasons).to.deep.equal(['Insufficient cpu']);
  });

  it('adds sidecars (restartPolicy: Always init containers) to the containers and to later init steps', () => {
    const sidecarFirst = {
      initContainers: [
        container('proxy', { requests: { cpu: '1' } }, { restartPolicy: 'Always' }),
        container('migrate', { requests: { cpu: '2' } }),
      ],
      containers: [container('app', { requests: { cpu: '1' } })],
    };
    // containers 1 + sidecar 1 = 2; the init step runs next to the sidecar: 2 + 1 = 3.
    expect(requestsOf(sidecarFirst).cpu).to.equal(3000);
    const initFirst = {
      initContainers: [
        container('migrate', { requests: { cpu: '2' } }),
        container('proxy', { requests: { cpu: '1' } }, { restartPolicy: 'Always' }),
      ],
      containers: [container('app', { requests: { cpu: '1' } })],
    };
    // The init step runs before the sidecar starts: max(2, 1 + 1) = 2.
    expect(requestsOf(initFirst).cpu).to.equal(2000);
  });

  it('adds spec.overhead', () => {
    expect(requestsOf(podSpec('1', '1Gi', { overhead: { cpu: '250m', memory: '128Mi' } }))).to.deep.equal({
      cpu: 1250,
      memory: (1024 + 128) * 1024 * 1024,
    });
  });

  it('defaults requests to limits per container and per resource (API defaulting on Pods)', () => {
    const spec = {
      containers: [
        container('a', { limits: { cpu: '2', memory: '1Gi' } }),
        container('b', { requests: { memory: '256Mi' }, limits: { cpu: '500m', memory: '1Gi' } }),
      ],
    };
    expect(requestsOf(spec)).to.deep.equal({ cpu: 2500, memory: (1024 + 256) * 1024 * 1024 });
  });

  it('rounds to milli scale and reads 1.5 and 1500m alike', () => {
    expect(requestsOf(podSpec('0.1m')).cpu).to.equal(1);
    expect(requestsOf(podSpec('1.5')).cpu).to.equal(1500);
    expect(requestsOf(podSpec('1500m')).cpu).to.equal(1500);
    expect(requestsOf({ containers: [container('a', { requests: { cpu: 2 } })] }).cpu).to.equal(2000);
  });

  it('lets pod-level resources replace the container sum for cpu and memory', () => {
    const spec = {
      resources: { requests: { cpu: '3' }, limits: { memory: '2Gi' } },
      containers: [container('a', { requests: { cpu: '1', memory: '1Gi' } })],
    };
    expect(requestsOf(spec)).to.deep.equal({ cpu: 3000, memory: 2 * 1024 ** 3 });
  });

  it('rejects a quantity that does not parse, naming the field', () => {
    expect(() => simulate(traceWith(deployment('web', 1, podSpec('lots'))))).to.throw(
      /events\[0\]\.applied_objs\[0\]\.spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu/,
    );
  });
});

describe('embedded: NodeResourcesFit', () => {
  it('fits on exact fill and fails 1m over', () => {
    const exact = simulate(traceWith(deployment('web', 2, podSpec('2', '4Gi'))), { nodePool: ONE_NODE });
    expect(observe(exact, WEB)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    expect(exact.nodes[0]!.requested).to.include({ cpu: 4000, memory: 8 * 1024 ** 3, pods: 2 });
    const over = simulate(traceWith(deployment('web', 1, podSpec('4001m'))), { nodePool: ONE_NODE });
    expect(observe(over, WEB)).to.deep.equal({ ready: 0, pending: 1, total: 1 });
    const memOver = simulate(traceWith(deployment('web', 1, podSpec('1', `${8 * 1024 ** 3 + 1}`))), {
      nodePool: ONE_NODE,
    });
    expect(memOver.pods[0]!.reasons).to.deep.equal(['Insufficient memory']);
  });

  it('collects every insufficient resource and words the message like the scheduler', () => {
    const r = simulate(traceWith(deployment('web', 1, podSpec('17', '33Gi'))));
    expect(r.pods[0]!.reasons).to.deep.equal(['Insufficient cpu', 'Insufficient memory']);
    expect(r.pods[0]!.message).to.equal('0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory.');
  });

  it('keeps a zero-request pod Pending on a node at its pod limit', () => {
    const r = simulate(traceWith(deployment('web', 2, { containers: [container('app')] })), {
      nodePool: { count: 1, cpu: '4', memory: '8Gi', pods: 1 },
    });
    expect(observe(r, WEB)).to.deep.equal({ ready: 1, pending: 1, total: 2 });
    expect(r.pods[1]!.reasons).to.deep.equal(['Too many pods']);
  });

  it('saturates at pods=110 with tiny pods', () => {
    const r = simulate(traceWith(deployment('web', 111, podSpec('1m', '1Mi'))), {
      nodePool: { count: 1, cpu: '16', memory: '32Gi', pods: 110 },
    });
    expect(observe(r, WEB)).to.deep.equal({ ready: 110, pending: 1, total: 111 });
    expect(r.pods.find((p) => p.phase === 'Pending')!.message).to.equal('0/1 nodes are available: 1 Too many pods.');
  });

  it('checks ephemeral-storage and extended resources', () => {
    const spec = { containers: [container('gpu', { requests: { cpu: '1' }, limits: { 'nvidia.com/gpu': 1 } })] };
    const pool = simulate(traceWith(deployment('web', 1, spec)));
    expect(pool.pods[0]!.reasons).to.deep.equal(['Insufficient nvidia.com/gpu']);
    const withGpu = simulate(
      makeTrace([
        {
          at: 0,
          applied: [
            nodeObj('gpu-1', { extra: { 'nvidia.com/gpu': '2' } }),
            nodeObj('cpu-1'),
            deployment('web', 3, spec),
          ],
        },
      ]),
    );
    expect(withGpu.pods.map((p) => p.node)).to.deep.equal(['gpu-1', 'gpu-1', null]);
    const eph = simulate(
      makeTrace([
        {
          at: 0,
          applied: [
            nodeObj('n1', { extra: { 'ephemeral-storage': '10Gi' } }),
            deployment('web', 1, { containers: [container('a', { requests: { 'ephemeral-storage': '11Gi' } })] }),
          ],
        },
      ]),
    );
    expect(eph.pods[0]!.reasons).to.deep.equal(['Insufficient ephemeral-storage']);
  });

  it('counts requests of every non-terminal pod on the node (node usage is reported)', () => {
    const r = simulate(traceWith(deployment('web', 5, podSpec('500m', '512Mi'))), { seed: 3 });
    const used = r.nodes.reduce((a, n) => a + n.requested.cpu, 0);
    expect(used).to.equal(2500);
    expect(r.nodes.reduce((a, n) => a + n.requested.pods, 0)).to.equal(5);
    expect(r.nodes[0]!.allocatable).to.include({ cpu: 16000, memory: 32 * 1024 ** 3, pods: 110 });
  });
});
