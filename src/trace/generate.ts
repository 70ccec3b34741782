// Building traces: the canonical scenarios and a seeded random corpus. Everything written is valid v2 with
// canonical quantities.
import { mulberry32, randomInt } from '../util/rng.js';
import { fromPlain } from './model.js';
import type { MsgMap } from './msgpack.js';
import { cpuFromMillis, memoryFromBytes } from './quantity.js';
import type { Trace } from './trace.js';
import type { NodePool } from './nodepool.js';

export const START_TS = 1730390400;
/** How long the generated workload lives in a replay (a trailing empty event keeps SimKube's objects alive). */
export const KEEP_ALIVE_SECONDS = 300;

export interface ContainerShape {
  name: string;
  cpu?: string;
  memory?: string;
  limits?: { cpu?: string; memory?: string };
  sidecar?: boolean;
}

export interface DeploymentShape {
  name?: string;
  namespace?: string;
  replicas: number;
  cpu: string;
  memory: string;
  image?: string;
  extraContainers?: ContainerShape[];
  initContainers?: ContainerShape[];
}

export interface NodeShape {
  name: string;
  cpu: string;
  memory: string;
  pods: number;
}

export interface ScenarioMeta {
  name: string;
  description: string;
  workload: { kind: string; namespace: string; name: string };
  target: number;
  problem: 'resource' | 'replicas' | 'composite' | 'capacity' | 'baseline';
}

function container(c: ContainerShape, image: string): Record<string, unknown> {
  const requests: Record<string, string> = {};
  if (c.cpu) requests.cpu = c.cpu;
  if (c.memory) requests.memory = c.memory;
  const resources: Record<string, unknown> = {};
  if (Object.keys(requests).length) resources.requests = requests;
  if (c.limits) resources.limits = c.limits;
  return { name: c.name, image, ...(c.sidecar ? { restartPolicy: 'Always' } : {}), resources };
}

export function deploymentObject(d: DeploymentShape): Record<string, unknown> {
  const name = d.name ?? 'web';
  const image = d.image ?? 'ghcr.io/example/web:1.0';
  const podSpec: Record<string, unknown> = {
    containers: [
      container({ name, cpu: d.cpu, memory: d.memory }, image),
      ...(d.extraContainers ?? []).map((c) => container(c, 'ghcr.io/example/helper:1.0')),
    ],
  };
  if (d.initContainers?.length)
    podSpec.initContainers = d.initContainers.map((c) => container(c, 'ghcr.io/example/init:1.0'));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: d.namespace ?? 'default', labels: { app: name } },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec },
    },
  };
}

export function nodeObject(n: NodeShape): Record<string, unknown> {
  const res = { cpu: n.cpu, memory: n.memory, pods: String(n.pods) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: { type: 'virtual', 'kubernetes.io/hostname': n.name },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { taints: [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }] },
    status: { capacity: res, allocatable: res },
  };
}

/** A v2 trace applying the given objects at START_TS, kept alive for KEEP_ALIVE_SECONDS. */
export function buildTrace(
  objects: Array<Record<string, unknown>>,
  extraEvents: Array<{
    ts: number;
    applied?: Array<Record<string, unknown>>;
    deleted?: Array<Record<string, unknown>>;
  }> = [],
): Trace {
  const tracked: Record<string, Record<string, never>> = {};
  const index: Record<string, Record<string, number>> = {};
  const all = [...objects, ...extraEvents.flatMap((e) => e.applied ?? [])];
  for (const o of all) {
    if (o.kind === 'Node') continue;
    const gvk = `${o.apiVersion as string}.${o.kind as string}`;
    tracked[gvk] = {};
    const md = o.metadata as { namespace: string; name: string };
    (index[gvk] ??= {})[`${md.namespace}/${md.name}`] = 0;
  }
  const events = [
    { ts: START_TS, applied_objs: objects, deleted_objs: [] },
    ...extraEvents.map((e) => ({ ts: e.ts, applied_objs: e.applied ?? [], deleted_objs: e.deleted ?? [] })),
  ];
  const lastTs = Math.max(...events.map((e) => e.ts));
  events.push({ ts: lastTs + KEEP_ALIVE_SECONDS, applied_objs: [], deleted_objs: [] });
  return fromPlain({ version: 2, config: { trackedObjects: tracked }, events, index, pod_lifecycles: {} }) as MsgMap;
}

interface Canonical {
  meta: ScenarioMeta;
  deployment: DeploymentShape;
}

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };

/** The canonical scenarios, on the default pool of 3 nodes × 16 CPU / 32Gi / 110 pods. */
export const CANONICAL: Canonical[] = [
  {
    meta: {
      name: 'cpu-slight',
      description: 'CPU request 17 cores, just over a 16-core node: reduce CPU twice',
      workload: web,
      target: 3,
      problem: 'resource',
    },
    deployment: { replicas: 3, cpu: '17', memory: '2Gi' },
  },
  {
    meta: {
      name: 'cpu-heavy',
      description: 'CPU request 20 cores: reduce CPU eight times',
      workload: web,
      target: 3,
      problem: 'resource',
    },
    deployment: { replicas: 3, cpu: '20', memory: '2Gi' },
  },
  {
    meta: {
      name: 'mem-slight',
      description: 'memory request 33Gi on 32Gi nodes: reduce memory four times',
      workload: web,
      target: 3,
      problem: 'resource',
    },
    deployment: { replicas: 3, cpu: '500m', memory: '33Gi' },
  },
  {
    meta: {
      name: 'mem-heavy',
      description: 'memory request 40Gi on 32Gi nodes: reduce memory 32 times',
      workload: web,
      target: 3,
      problem: 'resource',
    },
    deployment: { replicas: 3, cpu: '500m', memory: '40Gi' },
  },
  {
    meta: {
      name: 'cpu-mem',
      description: 'both CPU (17) and memory (33Gi) too large: reduce both',
      workload: web,
      target: 3,
      problem: 'resource',
    },
    deployment: { replicas: 3, cpu: '17', memory: '33Gi' },
  },
  {
    meta: {
      name: 'replicas-over',
      description: '5 replicas where 3 are wanted: scale down twice',
      workload: web,
      target: 3,
      problem: 'replicas',
    },
    deployment: { replicas: 5, cpu: '500m', memory: '512Mi' },
  },
  {
    meta: {
      name: 'replicas-under',
      description: '1 replica where 3 are wanted: scale up twice',
      workload: web,
      target: 3,
      problem: 'replicas',
    },
    deployment: { replicas: 1, cpu: '250m', memory: '256Mi' },
  },
  {
    meta: {
      name: 'composite',
      description: 'memory 33Gi and 5 replicas for a target of 3: reduce memory, then scale down',
      workload: web,
      target: 3,
      problem: 'composite',
    },
    deployment: { replicas: 5, cpu: '250m', memory: '33Gi' },
  },
  {
    meta: {
      name: 'healthy',
      description: 'a healthy baseline: 2 replicas of 500m / 512Mi, target 2, nothing to do',
      workload: web,
      target: 2,
      problem: 'baseline',
    },
    deployment: { replicas: 2, cpu: '500m', memory: '512Mi' },
  },
];

export function canonicalScenario(name: string): { meta: ScenarioMeta; trace: Trace } {
  const c = CANONICAL.find((s) => s.meta.name === name);
  if (!c) throw new RangeError(`unknown scenario "${name}" (known: ${CANONICAL.map((s) => s.meta.name).join(', ')})`);
  return { meta: c.meta, trace: buildTrace([deploymentObject(c.deployment)]) };
}

export interface GeneratedScenario {
  /** The pool the scenario runs on (undefined: the default pool); never Node objects in the trace. */
  meta: ScenarioMeta & { seed: number; nodePool?: NodePool };
  trace: Trace;
}

const GiB = 1024n ** 3n;
const MiB = 1024n ** 2n;

/** A deterministic random scenario: severities, pool shapes, init containers and sidecars vary with the seed. */
export function randomScenario(seed: number, index: number): GeneratedScenario {
  const rng = mulberry32(seed * 7919 + index);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  const ri = (lo: number, hi: number) => lo + randomInt(rng, hi - lo + 1);

  const nodeCpu = pick([8, 16, 32]);
  const nodeMemGi = pick([16, 32, 64]);
  const nodeCount = ri(2, 6);
  const customPool = rng() < 0.5;
  const nodePool: NodePool | undefined = customPool
    ? { count: nodeCount, cpu: String(nodeCpu), memory: `${nodeMemGi}Gi`, pods: 110 }
    : undefined;
  const poolCpuM = BigInt((customPool ? nodeCpu : 16) * 1000);
  const poolMem = BigInt(customPool ? nodeMemGi : 32) * GiB;
  const count = customPool ? nodeCount : 3;

  const target = ri(1, Math.min(6, count * 2));
  const mode = pick([
    'cpu-over',
    'mem-over',
    'both-over',
    'replicas-over',
    'replicas-under',
    'composite',
    'capacity',
    'healthy',
  ] as const);
  const okCpu = BigInt(ri(1, 8)) * 125n;
  const okMem = BigInt(ri(1, 8)) * 128n * MiB;
  let cpu = okCpu;
  let mem = okMem;
  let replicas = target;
  const overCpu = () => poolCpuM + BigInt(ri(1, 12)) * 250n;
  const overMem = () => poolMem + BigInt(ri(1, 24)) * 256n * MiB;
  switch (mode) {
    case 'cpu-over':
      cpu = overCpu();
      break;
    case 'mem-over':
      mem = overMem();
      break;
    case 'both-over':
      cpu = overCpu();
      mem = overMem();
      break;
    case 'replicas-over':
      replicas = target + ri(1, 4);
      break;
    case 'replicas-under':
      replicas = Math.max(1, target - ri(1, 3));
      if (replicas === target) replicas = target + 1;
      break;
    case 'composite':
      mem = overMem();
      replicas = target + ri(1, 3);
      break;
    case 'capacity': {
      // Each pod fits a node, but the target does not fit the cluster: pods must shrink to pack.
      const perNode = Math.max(1, Math.floor((target - 1) / count));
      cpu = poolCpuM / BigInt(perNode) - 250n * BigInt(ri(0, 2));
      if (cpu * BigInt(perNode + 1) <= poolCpuM) cpu = poolCpuM / BigInt(perNode + 1) + 250n;
      if (BigInt(count) * (poolCpuM / cpu) >= BigInt(target))
        cpu = poolCpuM / BigInt(Math.max(1, Math.floor(target / count))) + 125n;
      break;
    }
    case 'healthy':
      break;
  }
  const withInit = rng() < 0.25;
  const withSidecar = rng() < 0.2;
  const deployment: DeploymentShape = {
    replicas,
    cpu: cpuFromMillis(cpu),
    memory: memoryFromBytes(mem),
    ...(withSidecar ? { extraContainers: [{ name: 'proxy', cpu: '100m', memory: '64Mi' }] } : {}),
    ...(withInit ? { initContainers: [{ name: 'migrate', cpu: cpuFromMillis(okCpu), memory: '128Mi' }] } : {}),
  };
  const objects = [deploymentObject(deployment)];
  const name = `gen-${String(index).padStart(4, '0')}-${mode}`;
  return {
    meta: {
      name,
      description: `${mode}: ${replicas} × ${deployment.cpu} / ${deployment.memory}, target ${target}, ${count} nodes × ${customPool ? `${nodeCpu} CPU / ${nodeMemGi}Gi` : '16 CPU / 32Gi (default pool)'}`,
      workload: web,
      target,
      problem:
        mode === 'healthy'
          ? 'baseline'
          : mode === 'capacity'
            ? 'capacity'
            : mode === 'composite'
              ? 'composite'
              : mode.startsWith('replicas')
                ? 'replicas'
                : 'resource',
      seed,
      ...(nodePool ? { nodePool } : {}),
    },
    trace: buildTrace(objects),
  };
}
