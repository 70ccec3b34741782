// Placement agreement, pod by pod: the real kube-scheduler's bindings are replayed, in the order of its scheduling
// cycles, into the embedded scheduler's node state, and each real choice is checked against the embedded model:
//   feasible     the model's filters pass the real node;
//   window-best  the real node is in the node window the real filter pass processed (the scheduler's node list from
//                its start index, as far as evaluatedNodes says; the start index is the sum of earlier cycles'
//                evaluatedNodes, upstream's nextStartNodeIndex) and no feasible node of that window scores higher in
//                the model: the model allows the choice. This is `placement-agreement`.
//   model-window the same against the window the model computes itself (one filter worker: the first
//                numFeasibleNodesToFind feasible nodes from the same start index). Upstream filters with 16 parallel
//                workers and stops when enough are found, so its window can differ at the cut-off.
//   all-nodes    no feasible node of the whole cluster scores higher (what a scheduler scoring every node would do).
// A cycle that found no node must find none in the model either. Pods here are identical bare Pods (no spread
// group), so the score is LeastAllocated + BalancedAllocation.
import { nodeSpecFromObject, SimNode, type SimPodImpl } from '../../../src/sim/embedded/cluster.js';
import { fitMask, nodesToFind, scoreNode } from '../../../src/sim/embedded/scheduler.js';
import { buildShape, type PodShape } from '../../../src/sim/embedded/shape.js';
import { fromPlain } from '../../../src/trace/model.js';
import type { MsgMap } from '../../../src/trace/msgpack.js';
import { traceNode, type BulkCase, type FidelityNode } from './generate.js';
import type { CacheEvent, SchedulingCycle } from './scheduler.js';

export interface PlacementCheck {
  /** Cycles that bound a pod. */
  scheduled: number;
  /** Cycles that found no node. */
  unschedulable: number;
  feasible: number;
  /** Real node in the real window and best there: the model allows the choice. */
  windowBest: number;
  modelWindowBest: number;
  allNodesBest: number;
  /** Cycles whose real evaluatedNodes equals the one-worker model's processed count from the same start. */
  windowExact: number;
  /** Real node within the chunks the parallel filter pass could have reached (always, with one worker). */
  inReach: number;
  /** Cycles whose bind failed (their start-index step is the model's one-worker count, an estimate with more workers). */
  bindFailures: number;
  /** Cycles that found no node while the model had a feasible one. */
  unschedulableButFits: number;
  /** Score ties at the top of the real window (how often the random tie-break decided). */
  tiedChoices: number;
  /** Up to 10 cycles the model does not allow, for the report. */
  examples: string[];
}

/** A pod shape for the embedded model from a trace pod spec (plain JSON). */
export function shapeOf(podSpec: Record<string, unknown>): PodShape {
  return buildShape(fromPlain(podSpec) as MsgMap, {
    field: 'spec',
    owner: 'Pod bench',
    portsStripped: false,
    daemon: false,
    priorityClasses: new Map(),
    warn: () => undefined,
  });
}

/**
 * The embedded model's nodes in the real scheduler's node order: the case's pool nodes (real name
 * "<run>-<trace name>") and, for every other node of the cluster, an infeasible stand-in (it fails the node
 * selection filter, as the real cluster's other nodes fail the pool's nodeSelector). Returns the trace-order
 * node objects too (for an embedded simulate() with the same order).
 */
export function nodesInRealOrder(
  c: BulkCase,
  run: string,
  order: readonly string[],
): { nodes: SimNode[]; poolName: (string | null)[]; objects: Record<string, unknown>[] } {
  const byReal = new Map<string, FidelityNode>(c.nodes.map((n) => [`${run}-${n.name}`, n]));
  const objects: Record<string, unknown>[] = [];
  const poolName: (string | null)[] = [];
  let others = 0;
  for (const real of order) {
    const n = byReal.get(real);
    if (n !== undefined) {
      objects.push(traceNode(n));
      poolName.push(n.name);
    } else {
      const name = `other-${++others}`;
      objects.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { allocatable: { cpu: '16', memory: '32Gi', pods: '110' } },
      });
      poolName.push(null);
    }
  }
  const missing = c.nodes.filter((n) => !order.includes(`${run}-${n.name}`));
  if (missing.length > 0)
    throw new Error(
      `the scheduler's node list lacks ${missing.length} pool nodes (e.g. ${run}-${missing[0]!.name}): did it start before the pool was usable?`,
    );
  const nodes = objects.map(
    (o, i) => new SimNode(nodeSpecFromObject(fromPlain(o) as MsgMap, `nodes[${i}]`, () => undefined)),
  );
  return { nodes, poolName, objects };
}

/**
 * Replay `cycles` (real order; node names as in the real cluster) over the model nodes (real order; `poolName[i]` null
 * for the stand-ins, which are infeasible) and check every choice. `nodeIndex` maps a real node name to its position.
 */
export function checkPlacements(
  shape: PodShape,
  nodes: readonly SimNode[],
  poolName: readonly (string | null)[],
  nodeIndex: ReadonlyMap<string, number>,
  cycles: readonly SchedulingCycle[] | readonly CacheEvent[],
  parallelism = 16,
  outcome?: ReadonlyMap<string, { node: string | null }>,
): PlacementCheck {
  const n = nodes.length;
  const want = nodesToFind(n);
  // Upstream's filter pass hands chunks of `chunk` consecutive nodes to `parallelism` workers (parallelize.Until);
  // with one worker it is exactly sequential, with more the processed nodes lie within the chunks that could have
  // been handed out: those completed (≤ evaluated / chunk) plus one in flight per worker.
  const chunk = chunkSizeFor(n, parallelism);
  const r: PlacementCheck = {
    scheduled: 0,
    unschedulable: 0,
    feasible: 0,
    windowBest: 0,
    modelWindowBest: 0,
    allNodesBest: 0,
    windowExact: 0,
    inReach: 0,
    bindFailures: 0,
    unschedulableButFits: 0,
    tiedChoices: 0,
    examples: [],
  };
  const ok = new Uint8Array(n);
  const score = new Int32Array(n);
  // The scheduler cache: where each pod is assumed or bound, and whether the watch has confirmed it.
  const where = new Map<string, { node: number; pod: SimPodImpl }>();
  const confirmed = new Set<string>();
  const put = (pod: string, at: number): void => {
    const w = where.get(pod);
    if (w !== undefined) {
      if (w.node === at) return;
      nodes[w.node]!.removePod(w.pod);
    }
    const sp = { shape, spreadGroup: null } as unknown as SimPodImpl;
    nodes[at]!.addPod(sp);
    where.set(pod, { node: at, pod: sp });
  };
  const events: readonly CacheEvent[] =
    cycles.length > 0 && 'kind' in cycles[0]!
      ? (cycles as readonly CacheEvent[])
      : (cycles as readonly SchedulingCycle[]).map((cycle) => ({ kind: 'cycle' as const, cycle }));
  let start = 0;
  for (const ev of events) {
    if (ev.kind === 'forget') {
      // A failed bind: ForgetPod takes the assumed pod out, unless the watch already delivered it bound.
      const w = where.get(ev.pod);
      if (w !== undefined && !confirmed.has(ev.pod)) {
        nodes[w.node]!.removePod(w.pod);
        where.delete(ev.pod);
      }
      continue;
    }
    if (ev.kind === 'bound') {
      confirmed.add(ev.pod);
      const final = outcome?.get(ev.pod)?.node;
      const at = final == null ? undefined : nodeIndex.get(final);
      if (at !== undefined) put(ev.pod, at);
      continue;
    }
    const cy = ev.cycle;
    let any = false;
    let globalBest = -1;
    for (let i = 0; i < n; i++) {
      const f = poolName[i] !== null && fitMask(shape, nodes[i]!) === 0;
      ok[i] = f ? 1 : 0;
      if (f) {
        any = true;
        const s = scoreNode(shape, nodes[i]!);
        score[i] = s;
        if (s > globalBest) globalBest = s;
      }
    }
    if (cy.node === null) {
      r.unschedulable++;
      if (any) {
        r.unschedulableButFits++;
        if (r.examples.length < 10) r.examples.push(`${cy.pod}: found no node, but the model has a feasible one`);
      }
      continue; // every node was processed: the start index moves by n, i.e. stays
    }
    r.scheduled++;
    const at = nodeIndex.get(cy.node);
    if (at === undefined)
      throw new Error(`${cy.pod} was bound to ${cy.node}, which is not in the scheduler's node list`);
    if (cy.bindFailed) r.bindFailures++;
    // The one-worker model's window from the same start.
    let modelBest = -1;
    let found = 0;
    let processed = 0;
    let inModel = false;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (ok[i] === 1) {
        if (found === want) break;
        found++;
        if (score[i]! > modelBest) modelBest = score[i]!;
        if (i === at) inModel = true;
      }
      processed++;
    }
    // A failed bind's cycle logs no evaluatedNodes: take the one-worker count (exact with one worker).
    const evaluated = cy.evaluated ?? processed;
    // The real window.
    let inWindow = false;
    let windowBest = -1;
    let ties = 0;
    for (let k = 0; k < evaluated && k < n; k++) {
      const i = (start + k) % n;
      if (i === at) inWindow = true;
      if (ok[i] === 1) {
        if (score[i]! > windowBest) {
          windowBest = score[i]!;
          ties = 1;
        } else if (score[i] === windowBest) ties++;
      }
    }
    const feasible = ok[at] === 1;
    const s = feasible ? score[at]! : -1;
    if (feasible) r.feasible++;
    if (feasible && inWindow && s === windowBest) {
      r.windowBest++;
      if (ties > 1) r.tiedChoices++;
    } else if (r.examples.length < 10)
      r.examples.push(
        `${cy.pod} -> ${cy.node}: ${feasible ? `score ${s}` : 'infeasible in the model'}, ${inWindow ? 'in' : 'outside'} the real window ` +
          `(start ${start}, ${evaluated} evaluated, best ${windowBest}); model window best ${modelBest}, all nodes best ${globalBest}`,
      );
    if (feasible && inModel && s === modelBest) r.modelWindowBest++;
    if (feasible && s === globalBest) r.allNodesBest++;
    if (processed === evaluated) r.windowExact++;
    const reach = parallelism <= 1 ? evaluated : (Math.floor(evaluated / chunk) + parallelism) * chunk;
    if ((at - start + n) % n < reach) r.inReach++;
    start = (start + evaluated) % n;
    // The cycle assumes the pod on its node (binding runs asynchronously).
    if (!confirmed.has(cy.pod)) put(cy.pod, at);
  }
  return r;
}

/** upstream parallelize.chunkSizeFor: max(1, min(sqrt(n), n / parallelism + 1)). */
export function chunkSizeFor(n: number, parallelism: number): number {
  let s = Math.trunc(Math.sqrt(n));
  const r = Math.trunc(n / parallelism) + 1;
  if (s > r) s = r;
  else if (s < 1) s = 1;
  return s;
}

/** Per pool node: real and embedded pod counts; the pods placed differently (Σ|diff| / 2) and the worst node. */
export function nodeCountDiff(
  poolNodes: readonly string[],
  real: ReadonlyMap<string, number>,
  embedded: ReadonlyMap<string, number>,
): { moved: number; nodesDiffering: number; maxDiff: number } {
  let sum = 0;
  let differing = 0;
  let max = 0;
  for (const name of poolNodes) {
    const d = Math.abs((real.get(name) ?? 0) - (embedded.get(name) ?? 0));
    sum += d;
    if (d > 0) differing++;
    if (d > max) max = d;
  }
  return { moved: sum / 2, nodesDiffering: differing, maxDiff: max };
}
