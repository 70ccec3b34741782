// Seeded random traces for the differential fidelity check (embedded simulator vs the real kube-scheduler).
//
// A case is a heterogeneous pool of 1-6 KWOK nodes plus 1-4 workloads (Deployments, bare Pods, at most one Job),
// each applied in its own trace event, one second apart, in trace order. Pod shapes are drawn to hit the
// scheduler's corner cases: requests that exactly fill a node, limits-only containers (requests defaulted from
// limits), init containers bigger than the app containers, restartable-init sidecars before and after regular init
// containers, RuntimeClass overhead, zero-request pods on nodes with small `pods` caps ("Too many pods"), and
// non-canonical quantity spellings ("1.5", "1000m", "1024Mi", "0.5Gi", "1e9").
import { mixSeed, mulberry32, randomInt } from '../../../src/util/rng.js';
import { buildTrace, START_TS } from '../../../src/trace/generate.js';
import { cpuFromMillis, memoryFromBytes } from '../../../src/trace/quantity.js';
import type { Trace } from '../../../src/trace/trace.js';

export type FidelityKind = 'Deployment' | 'Pod' | 'Job';

export interface FidelityNode {
  /** Name in the trace ("node-1"); the real node is "<run>-node-1". */
  name: string;
  cpu: string;
  memory: string;
  pods: number;
  /** topology.kubernetes.io/zone label, if any (PodTopologySpread's default zone constraint then counts). */
  zone?: string;
}

export interface FidelityWorkload {
  kind: FidelityKind;
  /** Name in the trace (unique within the case). */
  name: string;
  /** Pods the workload's controller creates (replicas, min(parallelism, completions), or 1). */
  pods: number;
  /** The trace object, as plain JSON. */
  object: Record<string, unknown>;
  /** One line for humans: what the pods ask for. */
  summary: string;
}

export interface FidelityCase {
  seed: number;
  nodes: FidelityNode[];
  workloads: FidelityWorkload[];
  trace: Trace;
}

/** Namespace of the trace objects (each backend moves them into its own namespace). */
export const FIDELITY_NAMESPACE = 'fidelity';
/** The RuntimeClass a pod with overhead names; the cluster runner creates it (renamed per session). */
export const FIDELITY_RUNTIME_CLASS = 'fidelity-overhead';
/** Its `overhead.podFixed`, which RuntimeClass admission requires the pod's `spec.overhead` to equal. */
export const FIDELITY_OVERHEAD = { cpu: '250m', memory: '64Mi' } as const;
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Label on every pod template: which workload of the case the pod belongs to. */
export const WORKLOAD_LABEL = 'simarena.io/fidelity-workload';

const MiB = 1024n * 1024n;

// Canonical node sizes (the project writes node quantities verbatim, so they are canonical already).
const NODE_CPU_MILLIS = [1000, 1500, 2000, 3000, 4000, 6000, 8000];
const NODE_MEM_MIB = [1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384];
const NODE_PODS = [1, 2, 3, 4, 5, 110, 110, 110, 110, 110];

type Rand = () => number;

interface Draw {
  rng: Rand;
  pick<T>(xs: readonly T[]): T;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
}

function draw(seed: number): Draw {
  const rng = mulberry32(mixSeed(0x51de1, seed));
  return {
    rng,
    pick: (xs) => xs[randomInt(rng, xs.length)]!,
    int: (lo, hi) => lo + randomInt(rng, hi - lo + 1),
    chance: (p) => rng() < p,
  };
}

/** A cpu quantity for `m` millicores, spelled one of several equivalent ways. */
function cpuText(d: Draw, m: number): string {
  const forms = [cpuFromMillis(BigInt(m))];
  if (m > 0) forms.push(`${m}m`); // "1000m", "2500m"
  if (m % 100 === 0 && m > 0) forms.push(String(m / 1000)); // "1.5", "0.5", "2"
  return d.pick(forms);
}

/** A memory quantity for `b` bytes, spelled one of several equivalent ways. */
function memText(d: Draw, b: bigint): string {
  const forms = [memoryFromBytes(b)];
  if (b > 0n && b % MiB === 0n) forms.push(`${b / MiB}Mi`); // "1024Mi"
  if (b > 0n && b % (512n * MiB) === 0n) forms.push(`${Number(b / (512n * MiB)) / 2}Gi`); // "0.5Gi", "1.5Gi"
  if (b > 0n) forms.push(String(b)); // plain bytes
  if (b > 0n && b % 1_000_000n === 0n) forms.push(`${b / 1_000_000n}M`);
  return d.pick(forms);
}

interface Size {
  cpu: number; // millicores
  mem: bigint; // bytes
}

function roundTo(x: number, step: number): number {
  return Math.max(step, Math.round(x / step) * step);
}

/** The pod's total app-container request, drawn relative to one node of the pool. */
function podSize(d: Draw, ref: { cpu: number; mem: bigint }): { size: Size; mode: string } {
  const refMib = Number(ref.mem / MiB);
  const mode = d.pick(['fill', 'fill', 'small', 'small', 'small', 'large', 'zero', 'cpu-only', 'mem-only'] as const);
  switch (mode) {
    case 'fill': {
      // Exactly 1/k of the node, so k replicas fill it to the last millicore and byte.
      const k = d.pick([1, 2, 3, 4].filter((x) => ref.cpu % x === 0));
      const k2 = d.pick([1, 2, 4].filter((x) => ref.mem % BigInt(x) === 0n));
      return { size: { cpu: ref.cpu / k, mem: ref.mem / BigInt(k2) }, mode: `fill 1/${k} cpu, 1/${k2} mem` };
    }
    case 'small':
      return {
        size: {
          cpu: roundTo(ref.cpu * d.pick([0.1, 0.125, 0.2, 0.25, 0.3]), 50),
          mem: BigInt(roundTo(refMib * d.pick([0.1, 0.125, 0.2, 0.25, 0.3]), 16)) * MiB,
        },
        mode,
      };
    case 'large':
      return {
        size: {
          cpu: roundTo(ref.cpu * d.pick([0.4, 0.5, 0.6, 0.75, 0.9, 1.1]), 50),
          mem: BigInt(roundTo(refMib * d.pick([0.4, 0.5, 0.6, 0.8, 1.2]), 64)) * MiB,
        },
        mode,
      };
    case 'zero':
      return { size: { cpu: 0, mem: 0n }, mode };
    case 'cpu-only':
      return { size: { cpu: roundTo(ref.cpu * d.pick([0.2, 0.25, 0.5, 1]), 50), mem: 0n }, mode };
    case 'mem-only':
      return { size: { cpu: 0, mem: BigInt(roundTo(refMib * d.pick([0.2, 0.25, 0.5, 1]), 16)) * MiB }, mode };
  }
}

/** Split `total` into `n` non-negative integer parts (the first part takes the remainder). */
function splitMillis(d: Draw, total: number, n: number): number[] {
  if (n === 1) return [total];
  const parts: number[] = [];
  let left = total;
  for (let i = n - 1; i > 0; i--) {
    const p = Math.floor((left * d.int(0, 100)) / 200);
    parts.push(p);
    left -= p;
  }
  return [left, ...parts];
}

function splitBytes(d: Draw, total: bigint, n: number): bigint[] {
  if (n === 1) return [total];
  const parts: bigint[] = [];
  let left = total;
  for (let i = n - 1; i > 0; i--) {
    const p = ((left * BigInt(d.int(0, 100))) / 200n / MiB) * MiB; // whole MiB, so the spellings stay short
    parts.push(p);
    left -= p;
  }
  return [left, ...parts];
}

/** Container resources for a share of the pod's request: plain requests, limits only, or requests + larger limits. */
function resources(d: Draw, cpu: number, mem: bigint): { resources: Record<string, unknown>; style: string } {
  const req: Record<string, string> = {};
  if (cpu > 0) req.cpu = cpuText(d, cpu);
  if (mem > 0n) req.memory = memText(d, mem);
  if (Object.keys(req).length === 0) return { resources: {}, style: 'none' };
  const style = d.pick(['requests', 'requests', 'limits-only', 'both', 'mixed'] as const);
  switch (style) {
    case 'requests':
      return { resources: { requests: req }, style };
    case 'limits-only':
      // The API server copies limits into the missing requests (on Pods, not on templates); the scheduler sees them.
      return { resources: { limits: req }, style };
    case 'both': {
      const lim: Record<string, string> = {};
      if (cpu > 0) lim.cpu = cpuText(d, cpu * 2);
      if (mem > 0n) lim.memory = memText(d, mem * 2n);
      return { resources: { requests: req, limits: lim }, style };
    }
    case 'mixed': {
      // cpu from a limit, memory as a request (or the other way round).
      if (req.cpu !== undefined && req.memory !== undefined) {
        return d.chance(0.5)
          ? { resources: { requests: { memory: req.memory }, limits: { cpu: req.cpu } }, style }
          : { resources: { requests: { cpu: req.cpu }, limits: { memory: req.memory } }, style };
      }
      return { resources: { limits: req }, style: 'limits-only' };
    }
  }
}

const IMAGE = 'registry.example/fidelity/app:1';

interface PodSpecDraw {
  spec: Record<string, unknown>;
  summary: string;
}

function podSpec(d: Draw, nodes: readonly { cpu: number; mem: bigint }[], kind: FidelityKind): PodSpecDraw {
  const ref = d.pick(nodes);
  const { size, mode } = podSize(d, ref);
  const notes: string[] = [mode];
  const n = d.int(1, 3);
  const cpus = splitMillis(d, size.cpu, n);
  const mems = splitBytes(d, size.mem, n);
  const containers = [];
  for (let i = 0; i < n; i++) {
    const r = resources(d, cpus[i]!, mems[i]!);
    containers.push({ name: `c${i}`, image: IMAGE, resources: r.resources });
    notes.push(`c${i} ${cpus[i]}m/${mems[i]! / MiB}Mi ${r.style}`);
  }
  const spec: Record<string, unknown> = { containers };
  const zero = size.cpu === 0 && size.mem === 0n;
  // Init containers (not for zero-request pods, which must stay zero): a regular one bigger than the app
  // containers, a restartable sidecar before or after it, or both.
  if (!zero) {
    const inits = [];
    const sidecarFirst = d.chance(0.5);
    const sidecar = d.chance(0.25);
    const regular = d.chance(0.35);
    const sc = () => {
      const c = roundTo(size.cpu * d.pick([0.1, 0.2, 0.5]), 10);
      const m = BigInt(roundTo(Number(size.mem / MiB) * d.pick([0.1, 0.25, 0.5]), 8)) * MiB;
      notes.push(`sidecar ${c}m/${m / MiB}Mi`);
      return { name: 'sidecar', image: IMAGE, restartPolicy: 'Always', resources: resources(d, c, m).resources };
    };
    if (sidecar && sidecarFirst) inits.push(sc());
    if (regular) {
      const c = roundTo(size.cpu * d.pick([1.2, 1.5, 2, 0.5]), 10);
      const m = BigInt(roundTo(Number(size.mem / MiB) * d.pick([1.25, 1.5, 2, 0.5]), 8)) * MiB;
      inits.push({ name: 'init', image: IMAGE, resources: resources(d, c, m).resources });
      notes.push(`init ${c}m/${m / MiB}Mi`);
    }
    if (sidecar && !sidecarFirst) inits.push(sc());
    if (inits.length > 0) spec.initContainers = inits;
    if (d.chance(0.12)) {
      spec.runtimeClassName = FIDELITY_RUNTIME_CLASS;
      spec.overhead = { ...FIDELITY_OVERHEAD };
      notes.push(`overhead ${FIDELITY_OVERHEAD.cpu}/${FIDELITY_OVERHEAD.memory}`);
    }
  }
  if (kind === 'Job') spec.restartPolicy = 'Never';
  return { spec, summary: notes.join(', ') };
}

function workloadObject(
  kind: FidelityKind,
  name: string,
  replicas: number,
  completions: number,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  const labels = { app: name, [WORKLOAD_LABEL]: name };
  const metadata = { name, namespace: FIDELITY_NAMESPACE, labels: { app: name } };
  switch (kind) {
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels }, spec } },
      };
    case 'Job':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: { parallelism: replicas, completions, backoffLimit: 0, template: { metadata: { labels }, spec } },
      };
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: { ...metadata, labels }, spec };
  }
}

/** A KWOK node object as a trace records it (like trace/generate's nodeObject, plus the zone label). */
export function traceNode(n: FidelityNode): Record<string, unknown> {
  const res = { cpu: n.cpu, memory: n.memory, pods: String(n.pods) };
  const labels: Record<string, string> = { type: 'virtual', 'kubernetes.io/hostname': n.name };
  if (n.zone !== undefined) labels[ZONE_LABEL] = n.zone;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
    spec: { taints: [{ key: 'kwok-provider', value: 'true', effect: 'NoSchedule' }] },
    status: { capacity: res, allocatable: res },
  };
}

/** The fidelity case for one seed (deterministic). */
export function fidelityCase(seed: number): FidelityCase {
  const d = draw(seed);
  // Pool: 1-3 node types, 1-6 nodes, so there are identical nodes (symmetric ties) and different ones.
  const types = Array.from({ length: d.int(1, 3) }, () => ({
    cpu: d.pick(NODE_CPU_MILLIS),
    mem: BigInt(d.pick(NODE_MEM_MIB)) * MiB,
    pods: d.pick(NODE_PODS),
  }));
  const count = d.int(1, 6);
  const nodes: FidelityNode[] = [];
  const sizes: { cpu: number; mem: bigint }[] = [];
  for (let i = 0; i < count; i++) {
    const t = i < types.length ? types[i]! : d.pick(types);
    nodes.push({
      name: `node-${i + 1}`,
      cpu: cpuFromMillis(BigInt(t.cpu)),
      memory: memoryFromBytes(t.mem),
      pods: t.pods,
    });
    sizes.push(t);
  }
  // Some pools span zones (some nodes may lack the label): the default spreading then also counts per zone.
  if (d.chance(0.35)) for (const n of nodes) if (d.chance(0.85)) n.zone = d.pick(['zone-a', 'zone-b', 'zone-c']);

  const workloads: FidelityWorkload[] = [];
  const n = d.int(1, 4);
  let jobs = 0;
  for (let i = 0; i < n; i++) {
    let kind: FidelityKind = d.pick([
      'Deployment',
      'Deployment',
      'Deployment',
      'Deployment',
      'Pod',
      'Pod',
      'Pod',
      'Job',
      'Job',
    ] as const);
    if (kind === 'Job' && jobs++ > 0) kind = 'Deployment';
    const name = `w${i + 1}-${kind === 'Deployment' ? 'deploy' : kind.toLowerCase()}`;
    const replicas = kind === 'Pod' ? 1 : d.int(1, 8);
    const completions = kind === 'Job' ? replicas + d.int(0, 3) : 0;
    const { spec, summary } = podSpec(d, sizes, kind);
    workloads.push({
      kind,
      name,
      pods: replicas,
      object: workloadObject(kind, name, replicas, completions, spec),
      summary: `${kind} ${name} ×${replicas}${kind === 'Job' ? ` (completions ${completions})` : ''}: ${summary}`,
    });
  }
  return caseOf(seed, nodes, workloads);
}

/** A case from explicit nodes and workloads: nodes at the first event, then each workload in its own event. */
export function caseOf(seed: number, nodes: FidelityNode[], workloads: FidelityWorkload[]): FidelityCase {
  const trace = buildTrace(
    nodes.map(traceNode),
    workloads.map((w, i) => ({ ts: START_TS + 1 + i, applied: [w.object] })),
  );
  return { seed, nodes, workloads, trace };
}

/** A workload for caseOf: one container with these requests (cpu/memory omitted when empty). */
export function simpleWorkload(
  kind: FidelityKind,
  name: string,
  replicas: number,
  cpu = '',
  memory = '',
): FidelityWorkload {
  const requests: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = memory;
  const spec: Record<string, unknown> = {
    containers: [{ name: 'c0', image: IMAGE, resources: Object.keys(requests).length ? { requests } : {} }],
  };
  if (kind === 'Job') spec.restartPolicy = 'Never';
  const n = kind === 'Pod' ? 1 : replicas;
  return {
    kind,
    name,
    pods: n,
    object: workloadObject(kind, name, n, n, spec),
    summary: `${kind} ${name} ×${n}: ${cpu || '0'}/${memory || '0'}`,
  };
}

/** Exact node sizes (millicores, bytes, pods) for the comparison. */
export function nodeKey(n: FidelityNode): string {
  return `${n.cpu}/${n.memory}/${n.pods}${n.zone !== undefined ? `@${n.zone}` : ''}`;
}

export interface BulkCase extends FidelityCase {
  /** The one pod shape every pod of the case has. */
  shape: { cpu: string; memory: string };
  /** Per node (pool order): how many pods of the shape fit on it when empty. */
  capacity: number[];
}

/**
 * A case at scale: `pods` identical bare Pods over `nodes` heterogeneous nodes, all applied in one event. With one
 * shape, how many pods fit does not depend on which pod lands where, so the comparison stays sound although the real
 * scheduler only scores a sample of the nodes in a big cluster (percentageOfNodesToScore) and creation order is
 * left to the API server. The pool holds about 92 % of the pods (`room`: the pool holds `room` × pods); each node
 * is limited by cpu, memory or its pods cap, with some room to spare that fits no further pod. With room well above 1
 * the nodes do not fill and scoring decides where each pod goes (the placement-agreement case).
 */
export function bulkCase(seed: number, pods: number, nodes: number, room = 0.92): BulkCase {
  const d = draw(seed);
  const cpuM = 500;
  const mem = 1024n * MiB;
  const mean = (pods * room) / nodes;
  const lo = Math.max(1, Math.floor(mean * 0.4));
  const hi = Math.max(lo, Math.ceil(mean * 1.6));
  const pool: FidelityNode[] = [];
  const capacity: number[] = [];
  for (let i = 0; i < nodes; i++) {
    const k = d.int(lo, hi);
    const extra = () => k + d.int(1, 8);
    const by = d.pick(['cpu', 'memory', 'pods'] as const);
    const cpu = by === 'cpu' ? k * cpuM + d.int(0, 9) * 50 : extra() * cpuM;
    const memory = by === 'memory' ? BigInt(k) * mem + BigInt(d.int(0, 15)) * 64n * MiB : BigInt(extra()) * mem;
    const podCap = by === 'pods' ? k : 110;
    pool.push({
      name: `node-${i + 1}`,
      cpu: cpuFromMillis(BigInt(cpu)),
      memory: memoryFromBytes(memory),
      pods: podCap,
    });
    capacity.push(Math.min(Math.floor(cpu / cpuM), Number(memory / mem), podCap));
  }
  const shape = { cpu: cpuFromMillis(BigInt(cpuM)), memory: memoryFromBytes(mem) };
  const width = String(pods).length;
  const workloads: FidelityWorkload[] = [];
  for (let i = 0; i < pods; i++) {
    const name = `p-${String(i + 1).padStart(width, '0')}`;
    const spec = { containers: [{ name: 'app', image: IMAGE, resources: { requests: { ...shape } } }] };
    workloads.push({
      kind: 'Pod',
      name,
      pods: 1,
      object: workloadObject('Pod', name, 1, 0, spec),
      summary: `Pod ${name}`,
    });
  }
  const trace = buildTrace(pool.map(traceNode), [{ ts: START_TS + 1, applied: workloads.map((w) => w.object) }]);
  return { seed, nodes: pool, workloads, trace, shape, capacity };
}
