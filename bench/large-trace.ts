// A cluster-sized trace for the scale benchmarks: `nodes` heterogeneous KWOK nodes (8/16/32 CPU, 32/64/128Gi,
// 110 pods) and Deployments totalling `pods` replicas, applied over ten events a minute apart, then a history
// (a tenth of the Deployments scaled by ±10 % and back) and a trailing keep-alive event. Seeded.
import { buildTrace, deploymentObject, nodeObject, START_TS } from '../src/trace/generate.js';
import type { Trace } from '../src/trace/trace.js';
import { mulberry32, randomInt } from '../src/util/rng.js';
import type { WorkloadRef } from '../src/trace/workload.js';

export interface LargeTrace {
  trace: Trace;
  workloads: WorkloadRef[];
}

export function largeTrace(
  opts: { pods?: number; nodes?: number; perWorkload?: number; seed?: number } = {},
): LargeTrace {
  const pods = opts.pods ?? 10_000;
  const nodeCount = opts.nodes ?? 1_000;
  const per = opts.perWorkload ?? 100;
  const rng = mulberry32(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  const nodes = Array.from({ length: nodeCount }, (_, i) =>
    nodeObject({
      name: `node-${i + 1}`,
      cpu: pick(['8', '16', '32']),
      memory: pick(['32Gi', '64Gi', '128Gi']),
      pods: 110,
    }),
  );
  const deployments = Array.from({ length: Math.ceil(pods / per) }, (_, i) => {
    const replicas = Math.min(per, pods - i * per);
    return deploymentObject({
      name: `svc-${String(i).padStart(3, '0')}`,
      namespace: 'bench',
      replicas,
      cpu: pick(['100m', '250m', '500m', '1', '2']),
      memory: pick(['128Mi', '256Mi', '512Mi', '1Gi', '2Gi']),
    });
  });
  const waves = 10;
  const size = Math.ceil(deployments.length / waves);
  const extra: Array<{ ts: number; applied: Array<Record<string, unknown>> }> = [];
  for (let w = 1; w < waves; w++)
    extra.push({ ts: START_TS + 60 * w, applied: deployments.slice(w * size, (w + 1) * size) });
  // History: some Deployments scale and come back, like a recorded cluster.
  const scaled = deployments.filter((_, i) => i % 10 === 3);
  const resize = (d: Record<string, unknown>, f: number) => {
    const copy = structuredClone(d) as { spec: { replicas: number } };
    copy.spec.replicas = Math.max(1, Math.round(copy.spec.replicas * f));
    return copy;
  };
  extra.push({ ts: START_TS + 60 * waves, applied: scaled.map((d) => resize(d, 1.1)) });
  extra.push({ ts: START_TS + 60 * (waves + 1), applied: scaled.map((d) => resize(d, 1)) });
  const trace = buildTrace([...nodes, ...deployments.slice(0, size)], extra);
  return {
    trace,
    workloads: deployments.map((d) => ({
      kind: 'Deployment',
      namespace: 'bench',
      name: (d.metadata as { name: string }).name,
    })),
  };
}
