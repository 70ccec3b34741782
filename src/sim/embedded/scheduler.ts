// The default kube-scheduler profile, reduced to what decides Pending in a SimKube replay:
// filters NodeUnschedulable -> TaintToleration -> NodeAffinity (nodeSelector + required terms) -> NodeResourcesFit
// (each node stops at its first failing plugin; NodeResourcesFit reports all of its reasons), scores
// NodeResourcesFit/LeastAllocated (cpu+memory, weight 1, non-zero defaults) + NodeResourcesBalancedAllocation (weight 1)
// + PodTopologySpread with the system default constraints (weight 2, ReplicaSet/StatefulSet pods),
// a seeded reservoir-sampling selectHost, and DefaultPreemption for pods of higher priority.
import type { Explanation, SimNode, SimPodImpl, SpreadGroup } from './cluster.js';
import { matchesNodeSelection, untoleratedTaint } from './selection.js';
import type { PodShape } from './shape.js';
import type { Rng } from './rng.js';

export const F_UNSCHEDULABLE = 1;
export const F_TAINT = 2;
export const F_AFFINITY = 4;
export const F_PODS = 8;
export const F_CPU = 16;
export const F_MEM = 32;
export const F_EPH = 64;
export const F_SCALAR = 128;
/** Failures that removing pods from the node can fix (what preemption looks at). */
export const RESOLVABLE = F_PODS | F_CPU | F_MEM | F_EPH | F_SCALAR;

/** NodeResourcesFit's `fitsRequest`: every insufficient resource, exact fill fits (request <= allocatable - requested). */
export function fitMask(s: PodShape, n: SimNode): number {
  let m = 0;
  if (n.pods.length + 1 > n.allocPods) m |= F_PODS;
  if (s.zero) return m;
  if (s.cpu > 0 && s.cpu > n.allocCpu - n.reqCpu) m |= F_CPU;
  if (s.mem > 0 && s.mem > n.allocMem - n.reqMem) m |= F_MEM;
  if (s.eph > 0 && s.eph > n.allocEph - n.reqEph) m |= F_EPH;
  const sc = s.scalars;
  if (sc !== null) {
    for (let i = 0; i < sc.length; i++) {
      const r = sc[i]!;
      const alloc = n.allocScalars === null ? 0 : (n.allocScalars.get(r.name) ?? 0);
      const used = n.reqScalars === null ? 0 : (n.reqScalars.get(r.name) ?? 0);
      if (r.value > alloc - used) {
        m |= F_SCALAR;
        break;
      }
    }
  }
  return m;
}

/** The filters that depend only on the node object (not on other pods), in plugin order; 0 when they pass. */
function staticMask(s: PodShape, n: SimNode, dsNode: string | null): number {
  if (n.unschedulable && !s.tolUnschedulable) return F_UNSCHEDULABLE;
  if (n.hardTaints.length !== 0 && untoleratedTaint(s, n) !== null) return F_TAINT;
  if (!matchesNodeSelection(s, n, dsNode)) return F_AFFINITY;
  return 0;
}

/** All filters for one node in plugin order; 0 when the pod fits. */
export function filterNode(p: SimPodImpl, n: SimNode): number {
  return staticMask(p.shape, n, p.dsNode) || fitMask(p.shape, n);
}

/** The DaemonSet controller's per-node decision: selection and taints, never resources. */
export function daemonShouldRun(s: PodShape, n: SimNode): boolean {
  if (n.unschedulable && !s.tolUnschedulable) return false;
  if (n.hardTaints.length !== 0 && untoleratedTaint(s, n) !== null) return false;
  return matchesNodeSelection(s, n, null);
}

/** LeastAllocated (non-zero requests) + BalancedAllocation (real requests; skipped for best-effort pods). */
export function scoreNode(s: PodShape, n: SimNode): number {
  const ac = n.allocCpu;
  const am = n.allocMem;
  let sum = 0;
  let w = 0;
  if (ac > 0) {
    const r = n.nzCpu + s.nzCpu;
    sum += r > ac ? 0 : Math.floor(((ac - r) * 100) / ac);
    w++;
  }
  if (am > 0) {
    const r = n.nzMem + s.nzMem;
    sum += r > am ? 0 : Math.floor(((am - r) * 100) / am);
    w++;
  }
  let total = w === 0 ? 0 : Math.floor(sum / w);
  if (s.cpu !== 0 || s.mem !== 0) {
    let std = 0;
    if (ac > 0 && am > 0) {
      let fc = (n.reqCpu + s.cpu) / ac;
      if (fc > 1) fc = 1;
      let fm = (n.reqMem + s.mem) / am;
      if (fm > 1) fm = 1;
      std = Math.abs((fc - fm) / 2);
    }
    total += Math.trunc((1 - std) * 100);
  }
  return total;
}

/** PodTopologySpread's weight in the default profile (NodeResourcesFit and BalancedAllocation weigh 1). */
const SPREAD_WEIGHT = 2;
let spreadScratch = new Int32Array(64);

/**
 * PodTopologySpread's score with the system default constraints (ScheduleAnyway: hostname maxSkew 3, zone maxSkew 5)
 * for a pod whose owner's selector the scheduler uses (see SimPodImpl.spreadGroup), normalized over the feasible
 * nodes like upstream: raw = round(Σ over the node's topology keys of matching·ln(domains + 2) + maxSkew − 1), then
 * 100·(max + min − raw) / max. Hostname counts the group's pods on the node, over `count` domains; zone counts them
 * on every node in the zone that matches the pod's node selection, over the distinct zone values (absent = "") of the
 * feasible nodes. Nodes without a key get nothing for it.
 */
function spreadScores(
  p: SimPodImpl,
  group: SpreadGroup,
  feasible: readonly SimNode[],
  count: number,
  nodes: readonly SimNode[],
): Int32Array | null {
  if (spreadScratch.length < count) spreadScratch = new Int32Array(Math.max(count, spreadScratch.length * 2));
  const out = spreadScratch;
  // Hostname counts first; when every feasible node has the label and the same count and none has a zone, all
  // scores are equal and change no choice (the common first pod of a workload): skip the rest.
  let uniform = true;
  let zoned = false;
  for (let i = 0; i < count; i++) {
    const n = feasible[i]!;
    out[i] = n.hasHostname ? n.countGroup(group) : -1;
    if (out[i] !== out[0]) uniform = false;
    if (n.zone !== undefined) zoned = true;
  }
  if (uniform && !zoned && out[0]! >= 0) return null;
  const hostWeight = Math.log(count + 2);
  // Zone domains: the distinct zone values of the feasible nodes (absent counts as ""), each with the group's pods on
  // every node of that zone which matches the pod's node selection (NodeAffinityPolicy Honor, taints ignored).
  let zones: Map<string, number> | null = null;
  let zoneWeight = 0;
  if (zoned) {
    zones = new Map();
    for (let i = 0; i < count; i++) zones.set(feasible[i]!.zone ?? '', 0);
    zoneWeight = Math.log(zones.size + 2);
    for (const n of nodes) {
      const key = n.zone ?? '';
      const c = zones.get(key);
      if (c === undefined || n.pods.length === 0 || !matchesNodeSelection(p.shape, n, p.dsNode)) continue;
      zones.set(key, c + n.countGroup(group));
    }
  }
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < count; i++) {
    const n = feasible[i]!;
    const hc = out[i]!;
    let raw = hc >= 0 ? hc * hostWeight + 2 : 0;
    if (zones !== null && n.zone !== undefined) raw += zones.get(n.zone)! * zoneWeight + 4;
    const r = Math.round(raw);
    out[i] = r;
    if (r < min) min = r;
    if (r > max) max = r;
  }
  for (let i = 0; i < count; i++) out[i] = max === 0 ? 100 : Math.floor((100 * (max + min - out[i]!)) / max);
  return out;
}

export interface PreemptionChoice {
  node: SimNode;
  victims: SimPodImpl[];
}

/** MoreImportantPod: higher priority first, then the one that started earlier. */
function moreImportant(a: SimPodImpl, b: SimPodImpl): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const sa = a.startedAt ?? Infinity;
  const sb = b.startedAt ?? Infinity;
  if (sa !== sb) return sa - sb;
  return a.seq - b.seq;
}

const INT32_OFFSET = 2147483648; // victims' priorities are summed with MaxInt32+1 added, like upstream

/**
 * kube-scheduler's numFeasibleNodesToFind with the default percentageOfNodesToScore (0: adaptive): below 100 nodes
 * every node; else max(100, n · max(5, 50 − n/125) / 100). The filter pass visits nodes from the start index on
 * (wrapping), stops at the first feasible node beyond this many, and the next pass starts after the nodes it
 * processed (feasible + failed). Below the cut-off every node is processed and the start index never moves, so
 * clusters under 100 nodes (or with few feasible nodes) are scored exactly as without it. Filtering is modelled as
 * one worker (upstream's 16 parallel workers make the processed set vary from run to run at the cut-off).
 */
export function nodesToFind(n: number): number {
  if (n < 100) return n;
  let pct = 50 - Math.trunc(n / 125);
  if (pct < 5) pct = 5;
  const k = Math.trunc((n * pct) / 100);
  return k < 100 ? 100 : k;
}

// Scratch space shared by every run (simulate() is synchronous and never re-entered): no allocation per pod.
const feasibleScratch: SimNode[] = [];
let maskScratch = new Int32Array(64);
/** Positions in the node list of the feasible nodes (node-table path). */
let feasibleAt = new Int32Array(64);
/** The weighted PodTopologySpread score by host count + 1 (node-table path). */
let spreadByCount = new Int32Array(64);

/** Node-set versions are unique across simulations: forked simulations share pod shapes and their static masks. */
let nodeVersions = 0;

/** From this many nodes on, select() reads per-shape node tables (NodeTable) instead of the nodes. */
export const schedulerTuning = { tableMinNodes: 64 };
/** How often the all-fit scoring pass skipped a block of the node table (scoreWindow); read by tests. */
export const schedulerStats = { blocksSkipped: 0, blocksCounted: 0 };

/**
 * One pod shape's (and spread group's) view of one scheduler's node list, by position: each node's filter mask,
 * resource score (LeastAllocated + BalancedAllocation) and the group's pod count on it (-1 without a hostname
 * label). Kept current from the scheduler's change log (SimNode.log), so a pod reads typed arrays and recomputes
 * only the nodes that changed since an earlier pod of its shape looked.
 */
interface NodeTable {
  readonly sched: Scheduler;
  readonly version: number;
  readonly group: SpreadGroup | null;
  /** Absolute change-log position up to which the table is current. */
  seen: number;
  readonly masks: Int32Array;
  /** How many nodes fail a filter (masks[i] !== 0). */
  infeasible: number;
  readonly scores: Int32Array;
  readonly counts: Int32Array;
  /**
   * By block of BLOCK nodes (positions b·BLOCK …): the highest resource score among the block's nodes of each
   * group-count class (blockScore[4b + k], k = 0 for count -1 (no hostname), 1 for 0, 2 for 1, 3 for 2 or more; -1
   * when the class is empty), how many of the class's nodes have that score (blockTop[4b + k]) and the lowest and highest group count, valid unless the block's dirty flag is set
   * (refreshNode sets it; blockSummary recomputes). Lets the all-fit scoring pass skip a whole block whose best
   * possible score is below the running best (see scoreWindow).
   */
  readonly blockScore: Int32Array;
  readonly blockTop: Int32Array;
  readonly blockMinCount: Int32Array;
  readonly blockMaxCount: Int32Array;
  readonly blockDirty: Uint8Array;
}
const BLOCK_SHIFT = 4;
const BLOCK = 1 << BLOCK_SHIFT;
const nodeTables = new WeakMap<PodShape, NodeTable[]>();

function refreshNode(t: NodeTable, s: PodShape, stat: readonly number[], node: SimNode, i: number): void {
  const m = stat[i]! || fitMask(s, node);
  if ((t.masks[i] !== 0) !== (m !== 0)) t.infeasible += m !== 0 ? 1 : -1;
  t.masks[i] = m;
  t.scores[i] = m === 0 ? scoreNode(s, node) : 0;
  if (t.group !== null) t.counts[i] = node.hasHostname ? node.countGroup(t.group) : -1;
  t.blockDirty[i >> BLOCK_SHIFT] = 1;
}

/** Recompute block b's summary (every node of the block, feasible or not: read only when every node fits). */
function blockSummary(t: NodeTable, b: number): void {
  const from = b << BLOCK_SHIFT;
  const to = from + BLOCK < t.scores.length ? from + BLOCK : t.scores.length;
  const sc = t.scores;
  const cnt = t.counts;
  const bs = t.blockScore;
  const k0 = 4 * b;
  const top = t.blockTop;
  bs[k0] = bs[k0 + 1] = bs[k0 + 2] = bs[k0 + 3] = -1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < to; i++) {
    const c = cnt[i]!;
    const k = k0 + (c < 2 ? c + 1 : 3);
    if (sc[i]! > bs[k]!) {
      bs[k] = sc[i]!;
      top[k] = 1;
    } else if (sc[i] === bs[k]) top[k]!++;
    if (c < lo) lo = c;
    if (c > hi) hi = c;
  }
  t.blockMinCount[b] = lo;
  t.blockMaxCount[b] = hi;
  t.blockDirty[b] = 0;
}

export class Scheduler {
  /** Changed whenever a node is added, changed or removed: invalidates the per-shape static masks. */
  private nodesVersion = ++nodeVersions;

  constructor(private readonly rng: Rng) {}

  nodesChanged(): void {
    this.nodesVersion = ++nodeVersions;
  }

  /** Where the next filter pass starts in the node list (kube-scheduler's nextStartNodeIndex). */
  private nextStart = 0;

  /** Nodes changed since `logBase` (absolute position of log[0]); see SimNode.log. */
  private readonly log: SimNode[] = [];
  private logBase = 0;
  /** The node-set version the nodes were last attached to this log at, and whether any of them has a zone. */
  private attachedVersion = -1;
  private zoned = false;

  /** A copy with the same RNG state, node-set version and start index. */
  fork(): Scheduler {
    const c = new Scheduler(this.rng.fork());
    c.nodesVersion = this.nodesVersion;
    c.nextStart = this.nextStart;
    return c;
  }

  private attach(nodes: readonly SimNode[]): void {
    this.logBase += this.log.length;
    this.log.length = 0;
    this.zoned = false;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      node.log = this.log;
      node.pos = i;
      if (node.zone !== undefined) this.zoned = true;
    }
    this.attachedVersion = this.nodesVersion;
  }

  private table(s: PodShape, group: SpreadGroup | null, stat: readonly number[], nodes: readonly SimNode[]): NodeTable {
    const n = nodes.length;
    const end = this.logBase + this.log.length;
    let list = nodeTables.get(s);
    if (list === undefined) nodeTables.set(s, (list = []));
    let t: NodeTable | undefined;
    for (let k = 0; k < list.length; k++) {
      const x = list[k]!;
      if (x.sched === this && x.group === group) {
        t = x;
        break;
      }
    }
    if (t === undefined || t.version !== this.nodesVersion || t.seen < this.logBase) {
      if (t !== undefined) list.splice(list.indexOf(t), 1);
      if (list.length > 8) list.shift(); // tables of finished simulations
      const blocks = (n + BLOCK - 1) >> BLOCK_SHIFT;
      t = {
        sched: this,
        version: this.nodesVersion,
        group,
        seen: end,
        masks: new Int32Array(n),
        infeasible: 0,
        scores: new Int32Array(n),
        counts: new Int32Array(n),
        blockScore: new Int32Array(4 * blocks),
        blockTop: new Int32Array(4 * blocks),
        blockMinCount: new Int32Array(blocks),
        blockMaxCount: new Int32Array(blocks),
        blockDirty: new Uint8Array(blocks).fill(1),
      };
      list.push(t);
      for (let i = 0; i < n; i++) refreshNode(t, s, stat, nodes[i]!, i);
      return t;
    }
    const log = this.log;
    for (let k = t.seen - this.logBase; k < log.length; k++) {
      const node = log[k]!;
      const i = node.pos;
      if (nodes[i] === node) refreshNode(t, s, stat, node, i);
    }
    t.seen = end;
    return t;
  }

  /** Filter every node, then score and pick among the best with the seeded RNG. Null when nothing fits. */
  select(p: SimPodImpl, nodes: readonly SimNode[]): SimNode | null {
    const n = nodes.length;
    if (maskScratch.length < n) maskScratch = new Int32Array(Math.max(n, maskScratch.length * 2));
    const masks = maskScratch;
    const feasible = feasibleScratch;
    const s = p.shape;
    let count = 0;
    if (p.dsNode === null) {
      // Replicas share a shape: compute the node-static filters once per shape and node set.
      let stat = s.staticMasks;
      if (stat === null || s.staticVersion !== this.nodesVersion) {
        stat = new Array<number>(n);
        for (let i = 0; i < n; i++) stat[i] = staticMask(s, nodes[i]!, null);
        s.staticMasks = stat;
        s.staticVersion = this.nodesVersion;
      }
      if (n >= schedulerTuning.tableMinNodes) {
        if (this.attachedVersion !== this.nodesVersion) this.attach(nodes);
        else if (this.log.length > 16 * n + 4096) {
          this.logBase += this.log.length; // tables behind this point rebuild in full
          this.log.length = 0;
        }
        if (!this.zoned) return this.selectByTable(p, s, stat, nodes);
      }
      // Rotation and the numFeasibleNodesToFind cut-off: see nodesToFind().
      const want = nodesToFind(n);
      const start = n === 0 ? 0 : this.nextStart % n;
      let processed = 0;
      for (let k = 0; k < n; k++) {
        const i = start + k < n ? start + k : start + k - n;
        const node = nodes[i]!;
        const m = stat[i]! || fitMask(s, node);
        masks[i] = m;
        if (m !== 0) processed++;
        else if (count === want)
          break; // a feasible node past the cut-off ends the search, uncounted
        else {
          feasible[count++] = node;
          processed++;
        }
      }
      if (n > 0) this.nextStart = (start + processed) % n;
    } else {
      // DaemonSet pods name their node: every other node fails the affinity filter, so all n are processed
      // and the start index does not move.
      for (let i = 0; i < n; i++) {
        const node = nodes[i]!;
        const m = filterNode(p, node);
        masks[i] = m;
        if (m === 0) feasible[count++] = node;
      }
    }
    if (count === 0) return null;
    if (count === 1) return feasible[0]!;
    const spread = p.spreadGroup === null ? null : spreadScores(p, p.spreadGroup, feasible, count, nodes);
    let best = -1;
    let chosen = feasible[0]!;
    let ties = 0;
    for (let i = 0; i < count; i++) {
      const node = feasible[i]!;
      const sc = spread === null ? scoreNode(s, node) : scoreNode(s, node) + SPREAD_WEIGHT * spread[i]!;
      if (sc > best) {
        best = sc;
        chosen = node;
        ties = 1;
      } else if (sc === best) {
        ties++;
        if (this.rng.intn(ties) === 0) chosen = node;
      }
    }
    return chosen;
  }

  /**
   * select() for pods without a node name on a zone-less node set of tableMinNodes or more, from the shape's node
   * table: the same rotation, cut-off, scores and tie-breaks as the general path, without reading the nodes.
   */
  private selectByTable(
    p: SimPodImpl,
    s: PodShape,
    stat: readonly number[],
    nodes: readonly SimNode[],
  ): SimNode | null {
    const n = nodes.length;
    const group = p.spreadGroup;
    const t = this.table(s, group, stat, nodes);
    const tm = t.masks;
    if (feasibleAt.length < n) feasibleAt = new Int32Array(Math.max(n, feasibleAt.length * 2));
    const at = feasibleAt;
    const want = nodesToFind(n);
    const start = this.nextStart % n;
    const cnt = t.counts;
    let processed = 0;
    let count = 0;
    // Group counts of the feasible nodes (-1: no hostname label): the spread score is a monotone function of them.
    let minCount = Infinity;
    let maxCount = -1;
    if (t.infeasible === 0 && n >= 2 * BLOCK) return this.scoreWindow(t, nodes, start, want < n ? want : n);
    if (t.infeasible === 0) {
      // Every node fits: the window is the `want` nodes from the start index, and the pass stops at the next one.
      count = want < n ? want : n;
      processed = count;
      for (let j = 0, i = start; j < count; j++, i = i + 1 < n ? i + 1 : 0) {
        at[j] = i;
        const c = cnt[i]!;
        if (c > maxCount) maxCount = c;
        if (c < minCount) minCount = c;
      }
    } else
      for (let k = 0; k < n; k++) {
        const i = start + k < n ? start + k : start + k - n;
        if (tm[i] !== 0) processed++;
        else if (count === want) break;
        else {
          at[count++] = i;
          processed++;
          const c = cnt[i]!;
          if (c > maxCount) maxCount = c;
          if (c < minCount) minCount = c;
        }
      }
    this.nextStart = (start + processed) % n;
    if (count === 0) {
      maskScratch.set(tm); // every node was processed: preempt() reads the masks
      return null;
    }
    if (count === 1) return nodes[at[0]!]!;
    const sc = t.scores;
    let best = -1;
    let chosen = 0;
    let ties = 0;
    if (group === null || minCount === maxCount) {
      // No spread, or the same spread score on every node (spreadScores' uniform case): it changes no choice.
      for (let j = 0; j < count; j++) {
        const v = sc[at[j]!]!;
        if (v > best) {
          best = v;
          chosen = j;
          ties = 1;
        } else if (v === best) {
          ties++;
          if (this.rng.intn(ties) === 0) chosen = j;
        }
      }
      return nodes[at[chosen]!]!;
    }
    // PodTopologySpread without zones (spreadScores), by group count.
    const by = this.spreadTable(count, minCount, maxCount);
    for (let j = 0; j < count; j++) {
      const i = at[j]!;
      const v = sc[i]! + by[cnt[i]! + 1]!;
      if (v > best) {
        best = v;
        chosen = j;
        ties = 1;
      } else if (v === best) {
        ties++;
        if (this.rng.intn(ties) === 0) chosen = j;
      }
    }
    return nodes[at[chosen]!]!;
  }

  /**
   * selectByTable when every node fits: the window is the `count` nodes from `start` (wrapping) and the pass stops at
   * the next one. The same visiting order, scores and tie-break draws as the node-by-node pass, but a whole block of
   * the table whose best possible score (highest resource score + the spread score of its lowest group count, the
   * spread score falling with the count) is below the running best is skipped: none of its nodes could become the
   * best or tie with it, so the node-by-node pass would neither change its choice nor draw for them.
   */
  private scoreWindow(t: NodeTable, nodes: readonly SimNode[], start: number, count: number): SimNode | null {
    const n = nodes.length;
    this.nextStart = (start + count) % n;
    if (count === 0) return null;
    if (count === 1) return nodes[start]!;
    const sc = t.scores;
    const cnt = t.counts;
    const bs = t.blockScore;
    const tb = t.blockTop;
    const bMin = t.blockMinCount;
    const bMax = t.blockMaxCount;
    const dirty = t.blockDirty;
    // The window as one or two ranges of positions: [start, end1) and, wrapping, [0, end2).
    const end1 = start + count < n ? start + count : n;
    const end2 = start + count - end1;
    let minCount = Infinity;
    let maxCount = -1;
    for (let r = 0; r < 2; r++) {
      let i = r === 0 ? start : 0;
      const end = r === 0 ? end1 : end2;
      while (i < end) {
        if ((i & (BLOCK - 1)) === 0 && i + BLOCK <= end) {
          const b = i >> BLOCK_SHIFT;
          if (dirty[b] !== 0) blockSummary(t, b);
          if (bMin[b]! < minCount) minCount = bMin[b]!;
          if (bMax[b]! > maxCount) maxCount = bMax[b]!;
          i += BLOCK;
        } else {
          const c = cnt[i]!;
          if (c > maxCount) maxCount = c;
          if (c < minCount) minCount = c;
          i++;
        }
      }
    }
    const spread = t.group !== null && minCount !== maxCount;
    const by = spread ? this.spreadTable(count, minCount, maxCount) : spreadByCount;
    let best = -1;
    let chosen = start;
    let ties = 0;
    for (let r = 0; r < 2; r++) {
      let i = r === 0 ? start : 0;
      const end = r === 0 ? end1 : end2;
      while (i < end) {
        let stop = i + 1;
        if ((i & (BLOCK - 1)) === 0 && i + BLOCK <= end) {
          const b = i >> BLOCK_SHIFT;
          const k = 4 * b;
          let ub: number;
          if (!spread) ub = Math.max(bs[k]!, bs[k + 1]!, bs[k + 2]!, bs[k + 3]!);
          else {
            // Each class's best with the spread score of its lowest possible count (the score falls with the
            // count; a class present in the block lies within [minCount, maxCount], where `by` is filled).
            ub = -1;
            if (bs[k]! >= 0) ub = bs[k]! + by[0]!;
            if (bs[k + 1]! >= 0 && bs[k + 1]! + by[1]! > ub) ub = bs[k + 1]! + by[1]!;
            if (bs[k + 2]! >= 0 && bs[k + 2]! + by[2]! > ub) ub = bs[k + 2]! + by[2]!;
            if (bs[k + 3]! >= 0) {
              const v = bs[k + 3]! + by[(minCount > 2 ? minCount : 2) + 1]!;
              if (v > ub) ub = v;
            }
          }
          if (ub < best) {
            i += BLOCK;
            schedulerStats.blocksSkipped++;
            continue;
          }
          if (ub === best) {
            // No new best here, only ties: the classes reaching `best` say how many (class 3 mixes counts, so
            // with it the block is scanned). Draw for each tie in order as the node-by-node pass would; only when
            // a draw picks one, find which node it is.
            let e = 0;
            if (!spread) {
              for (let q = k; q < k + 4; q++) if (bs[q] === best) e += tb[q]!;
            } else if (!(bs[k + 3]! >= 0 && bs[k + 3]! + by[(minCount > 2 ? minCount : 2) + 1]! === best)) {
              if (bs[k]! >= 0 && bs[k]! + by[0]! === best) e += tb[k]!;
              if (bs[k + 1]! >= 0 && bs[k + 1]! + by[1]! === best) e += tb[k + 1]!;
              if (bs[k + 2]! >= 0 && bs[k + 2]! + by[2]! === best) e += tb[k + 2]!;
            }
            if (e > 0) {
              let hit = 0;
              for (let q = 1; q <= e; q++) {
                ties++;
                if (this.rng.intn(ties) === 0) hit = q;
              }
              if (hit > 0)
                for (let m = i; m < i + BLOCK; m++)
                  if ((spread ? sc[m]! + by[cnt[m]! + 1]! : sc[m]!) === best && --hit === 0) {
                    chosen = m;
                    break;
                  }
              i += BLOCK;
              schedulerStats.blocksCounted++;
              continue;
            }
          }
          stop = i + BLOCK;
        }
        for (; i < stop; i++) {
          const v = spread ? sc[i]! + by[cnt[i]! + 1]! : sc[i]!;
          if (v > best) {
            best = v;
            chosen = i;
            ties = 1;
          } else if (v === best) {
            ties++;
            if (this.rng.intn(ties) === 0) chosen = i;
          }
        }
      }
    }
    return nodes[chosen]!;
  }

  /**
   * The weighted PodTopologySpread score by group count + 1 for a zone-less window of `count` feasible nodes whose
   * counts range over [minCount, maxCount] (spreadScores): raw = round(count · ln(feasible + 2) + 2), 0 without a
   * hostname (count -1), normalized over the raw values of the min and max counts (raw being monotone).
   */
  private spreadTable(count: number, minCount: number, maxCount: number): Int32Array {
    const size = maxCount + 2;
    if (spreadByCount.length < size) spreadByCount = new Int32Array(Math.max(size, 2 * spreadByCount.length));
    const by = spreadByCount;
    const hostWeight = Math.log(count + 2);
    const rawOf = (c: number): number => (c >= 0 ? Math.round(c * hostWeight + 2) : 0);
    const min = rawOf(minCount);
    const max = rawOf(maxCount);
    for (let c = minCount; c <= maxCount; c++)
      by[c + 1] = SPREAD_WEIGHT * (max === 0 ? 100 : Math.floor((100 * (max + min - rawOf(c))) / max));
    return by;
  }

  /**
   * DefaultPreemption after a failed `select` (uses its per-node masks): on each node whose only failures are
   * resources or pod count, remove every lower-priority pod, then reprieve the most important ones that still leave
   * room. Pick the node with the lowest highest-victim priority, then the lowest priority sum, then the fewest victims,
   * then the latest start among its highest-priority victims, then the first.
   */
  preempt(p: SimPodImpl, nodes: readonly SimNode[]): PreemptionChoice | null {
    const s = p.shape;
    let best: PreemptionChoice | null = null;
    let bestKey: number[] | null = null;
    for (let i = 0; i < nodes.length; i++) {
      const m = maskScratch[i]!;
      if (m === 0 || (m & ~RESOLVABLE) !== 0) continue;
      const node = nodes[i]!;
      const lower = node.pods.filter((x) => x.priority < p.priority);
      if (lower.length === 0) continue;
      // Remove them all (pod count included) and see if the pod fits at all.
      const kept = node.pods.slice();
      for (const v of lower) node.subtract(v.shape);
      node.pods.length = 0;
      for (const x of kept) if (x.priority >= p.priority) node.pods.push(x);
      const fits = fitMask(s, node) === 0;
      const victims: SimPodImpl[] = [];
      if (fits) {
        lower.sort(moreImportant);
        for (const v of lower) {
          node.restore(v.shape);
          node.pods.push(v);
          if (fitMask(s, node) !== 0) {
            node.subtract(v.shape);
            node.pods.pop();
            victims.push(v);
          }
        }
      }
      // Put the node back exactly as it was.
      for (const v of lower) if (!node.pods.includes(v)) node.restore(v.shape);
      node.pods.length = 0;
      for (const x of kept) node.pods.push(x);
      node.changed();
      if (!fits || victims.length === 0) continue;
      const top = victims.reduce((a, v) => Math.max(a, v.priority), -Infinity);
      const sum = victims.reduce((a, v) => a + v.priority + INT32_OFFSET, 0);
      let earliest = Infinity;
      for (const v of victims) if (v.priority === top) earliest = Math.min(earliest, v.startedAt ?? Infinity);
      const key = [top, sum, victims.length, -earliest];
      if (bestKey === null || lexLess(key, bestKey)) {
        best = { node, victims };
        bestKey = key;
      }
    }
    return best;
  }
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return true;
    if (a[i]! > b[i]!) return false;
  }
  return false;
}

/** Reason strings for one node, as the scheduler's plugins word them. */
export function nodeReasons(p: SimPodImpl, n: SimNode): string[] {
  const m = filterNode(p, n);
  if (m === 0) return [];
  if (m & F_UNSCHEDULABLE) return ['node(s) were unschedulable'];
  if (m & F_TAINT) {
    const t = untoleratedTaint(p.shape, n)!;
    return [`node(s) had untolerated taint {${t.key}: ${t.value}}`];
  }
  if (m & F_AFFINITY) return ["node(s) didn't match Pod's node affinity/selector"];
  const out: string[] = [];
  const s = p.shape;
  if (m & F_PODS) out.push('Too many pods');
  if (m & F_CPU) out.push('Insufficient cpu');
  if (m & F_MEM) out.push('Insufficient memory');
  if (m & F_EPH) out.push('Insufficient ephemeral-storage');
  if (m & F_SCALAR && s.scalars !== null) {
    for (const r of s.scalars) {
      const alloc = n.allocScalars?.get(r.name) ?? 0;
      const used = n.reqScalars?.get(r.name) ?? 0;
      if (r.value > alloc - used) out.push(`Insufficient ${r.name}`);
    }
  }
  return out;
}

/** Why a pod is Pending against the current cluster: distinct reasons and the scheduler's FitError message. */
export function explainPending(
  p: SimPodImpl,
  nodes: readonly SimNode[],
  nodeByName: ReadonlyMap<string, SimNode>,
): Explanation {
  const s = p.shape;
  if (s.nodeName !== null) {
    const r = nodeByName.has(s.nodeName)
      ? `bound to node "${s.nodeName}"`
      : `spec.nodeName is "${s.nodeName}", which is not a node in the simulation`;
    return { reasons: [r], message: r };
  }
  if (s.blocked !== null) return { reasons: [s.blocked], message: s.blocked };
  if (nodes.length === 0)
    return { reasons: ['no nodes available to schedule pods'], message: 'no nodes available to schedule pods' };
  const hist = new Map<string, number>();
  for (const n of nodes) for (const r of nodeReasons(p, n)) hist.set(r, (hist.get(r) ?? 0) + 1);
  if (hist.size === 0)
    return { reasons: [], message: `fits on a node now; it was Pending after its last scheduling attempt` };
  const reasons = [...hist.keys()].sort();
  const parts = [...hist].map(([r, c]) => `${c} ${r}`).sort();
  return { reasons, message: `0/${nodes.length} nodes are available: ${parts.join(', ')}.` };
}
