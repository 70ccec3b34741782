// Comparing the real kube-scheduler's outcome with the embedded simulator's for one fidelity case.
//
// What must agree (all of it, or the case disagrees):
//   1. Per workload, how many pods are scheduled and how many stay Pending.
//   2. Per node, how many pods of each workload it holds, up to swapping nodes of identical size (the scheduler
//      breaks score ties at random, and between identical nodes in identical states any choice is equivalent).
//   3. Every Pending pod is Pending for a resource or pod-count reason on every node of its pool, in both.
// The embedded run uses seed 0. When it differs from the real outcome, the difference may be a tie between nodes
// that are *not* identical (equal scores, different sizes), broken differently by the two schedulers; the embedded
// simulator is then re-run with other tie-break seeds, and the case agrees when one of them reproduces the real
// outcome exactly (reported as tie-resolved). A scoring or fit discrepancy reproduces under no seed.
import { simulate, type SimResult } from '../../../src/sim/embedded/index.js';
import type { RealPod } from './cluster.js';
import { nodeKey, type FidelityCase } from './generate.js';

/** Reasons NodeResourcesFit gives (the only ones a fidelity pod may meet on a node of its own pool). */
export const RESOURCE_REASONS: ReadonlySet<string> = new Set([
  'Too many pods',
  'Insufficient cpu',
  'Insufficient memory',
]);

export interface WorkloadOutcome {
  scheduled: number;
  pending: number;
  /** Node (trace name) -> pods of this workload bound there. */
  byNode: Map<string, number>;
  /** Distinct scheduler messages of the Pending pods. */
  messages: string[];
}

/** Workload (trace name) -> outcome, in trace order. */
export type Placement = Map<string, WorkloadOutcome>;

export interface FitMessage {
  /** N in "0/N nodes are available". */
  nodes: number;
  /** Reason -> number of nodes that gave it. */
  reasons: Map<string, number>;
}

/** Parse "0/N nodes are available: a reason, b reason. preemption: ..." (the scheduler's FitError wording). */
export function parseFitMessage(message: string): FitMessage | null {
  const m = /^0\/(\d+) nodes are available: (.*?)\.(?: preemption: .*)?$/s.exec(message.trim());
  if (!m) return null;
  const reasons = new Map<string, number>();
  for (const part of m[2]!.split(/, (?=\d+ )/)) {
    const pm = /^(\d+) (.+)$/.exec(part.trim());
    if (!pm) return null;
    reasons.set(pm[2]!, (reasons.get(pm[2]!) ?? 0) + Number(pm[1]));
  }
  return { nodes: Number(m[1]), reasons };
}

/**
 * Why a Pending pod's message does not show "every node of the pool refused it for resources or pod count", or null
 * when it does. The real scheduler counts every node of the cluster: the other pools' nodes fail on the nodeSelector
 * (or a taint), and exactly `poolSize` nodes must remain, each failing NodeResourcesFit.
 */
export function pendingReasonProblem(message: string | null, poolSize: number, wholeCluster: boolean): string | null {
  if (message === null) return 'Pending with no scheduler message';
  const fit = parseFitMessage(message);
  if (!fit) return `unexpected scheduler message "${message}"`;
  let other = 0;
  for (const [r, n] of fit.reasons) if (!RESOURCE_REASONS.has(r)) other += n;
  if (!wholeCluster && other > 0) return `a node of the pool refused the pod for a non-resource reason: "${message}"`;
  if (fit.nodes - other !== poolSize)
    return `${fit.nodes - other} nodes refused it for resources, but the pool has ${poolSize}: "${message}"`;
  return null;
}

export function realPlacement(c: FidelityCase, pods: readonly RealPod[]): Placement {
  const out = emptyPlacement(c);
  for (const p of pods) {
    const w = out.get(p.workload);
    if (!w) continue;
    if (p.node === null) {
      w.pending++;
      if (p.message !== null && !w.messages.includes(p.message)) w.messages.push(p.message);
    } else {
      w.scheduled++;
      w.byNode.set(p.node, (w.byNode.get(p.node) ?? 0) + 1);
    }
  }
  return out;
}

export function embeddedPlacement(c: FidelityCase, r: SimResult): Placement {
  const out = emptyPlacement(c);
  for (const p of r.pods) {
    const w = out.get(p.owner.name);
    if (!w || p.phase === 'Succeeded') continue;
    if (p.node === null) {
      w.pending++;
      const msg = p.message;
      if (msg !== null && !w.messages.includes(msg)) w.messages.push(msg);
    } else {
      w.scheduled++;
      w.byNode.set(p.node, (w.byNode.get(p.node) ?? 0) + 1);
    }
  }
  return out;
}

function emptyPlacement(c: FidelityCase): Placement {
  return new Map(c.workloads.map((w) => [w.name, { scheduled: 0, pending: 0, byNode: new Map(), messages: [] }]));
}

/** "scheduled/pending" per workload, in trace order. */
export function countsKey(p: Placement): string {
  return [...p].map(([n, w]) => `${n}=${w.scheduled}/${w.pending}`).join(' ');
}

/** The placement with node names forgotten: each node's size and per-workload counts, sorted. */
export function placementSignature(c: FidelityCase, p: Placement): string {
  const rows = c.nodes.map((n) => `${nodeKey(n)}:${[...p.values()].map((w) => w.byNode.get(n.name) ?? 0).join(',')}`);
  return rows.sort().join(' | ');
}

export interface Verdict {
  seed: number;
  /** Counts, placement (up to ties) and Pending reasons all agree. */
  agree: boolean;
  /** Per-workload scheduled/pending counts agree (with seed 0, or with the tie-resolving seed). */
  countsAgree: boolean;
  /** Seed 0 alone gave the real counts. */
  countsAgreeSeed0: boolean;
  /** The embedded seed that reproduced the real outcome when seed 0 did not (a non-identical tie); else null. */
  tieSeed: number | null;
  problems: string[];
  pods: number;
  pending: number;
  real: Placement;
  embedded: Placement;
  /** A human-readable account: seed, pool, workloads, both placements, problems. */
  report: string;
}

export interface CompareOptions {
  /** Embedded seeds to try when seed 0 differs (default 64). */
  tieSeeds?: number;
  /** The real messages count every node of the cluster (true for real runs). */
  wholeCluster?: boolean;
}

export function compareCase(c: FidelityCase, realPods: readonly RealPod[], opts: CompareOptions = {}): Verdict {
  const real = realPlacement(c, realPods);
  const sim0 = simulate(c.trace, { seed: 0 });
  const emb0 = embeddedPlacement(c, sim0);
  const problems: string[] = [];
  const poolSize = c.nodes.length;

  // Pending reasons, both sides.
  for (const p of realPods) {
    if (p.node !== null) continue;
    const why = pendingReasonProblem(p.message, poolSize, opts.wholeCluster ?? true);
    if (why) problems.push(`real ${p.workload} pod ${p.name}: ${why}`);
  }
  for (const p of sim0.pods) {
    if (p.node !== null || p.phase !== 'Pending') continue;
    const why = pendingReasonProblem(p.message, poolSize, false);
    if (why) problems.push(`embedded ${p.owner.name} pod ${p.name}: ${why}`);
  }
  for (const w of c.workloads) {
    const r = real.get(w.name)!;
    if (r.scheduled + r.pending !== w.pods)
      problems.push(`real ${w.name} has ${r.scheduled + r.pending} pods, expected ${w.pods}`);
  }
  if (sim0.warnings.length > 0) problems.push(...sim0.warnings.map((x) => `embedded warning: ${x}`));

  const realCounts = countsKey(real);
  const realSig = placementSignature(c, real);
  const countsAgreeSeed0 = countsKey(emb0) === realCounts;
  let agreeOutcome = countsAgreeSeed0 && placementSignature(c, emb0) === realSig;
  let tieSeed: number | null = null;
  let embedded = emb0;
  if (!agreeOutcome) {
    const tries = opts.tieSeeds ?? 64;
    for (let s = 1; s <= tries; s++) {
      const e = embeddedPlacement(c, simulate(c.trace, { seed: s }));
      if (countsKey(e) === realCounts && placementSignature(c, e) === realSig) {
        tieSeed = s;
        embedded = e;
        agreeOutcome = true;
        break;
      }
    }
  }
  if (!agreeOutcome) {
    if (!countsAgreeSeed0)
      problems.push(`scheduled/pending per workload differ: real ${realCounts}; embedded ${countsKey(emb0)}`);
    else
      problems.push(
        `placements differ beyond ties (no embedded seed in 0..${opts.tieSeeds ?? 64} reproduces the real one)`,
      );
  }
  const countsAgree = countsAgreeSeed0 || tieSeed !== null;
  const agree = agreeOutcome && problems.length === 0;
  let pods = 0;
  let pending = 0;
  for (const w of real.values()) {
    pods += w.scheduled + w.pending;
    pending += w.pending;
  }
  const verdict: Verdict = {
    seed: c.seed,
    agree,
    countsAgree,
    countsAgreeSeed0,
    tieSeed,
    problems,
    pods,
    pending,
    real,
    embedded,
    report: '',
  };
  verdict.report = formatReport(c, verdict, emb0);
  return verdict;
}

function cell(p: Placement, node: string): string {
  const parts: string[] = [];
  for (const [name, w] of p) {
    const n = w.byNode.get(node);
    if (n) parts.push(`${name}×${n}`);
  }
  return parts.join(' ') || '-';
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Seed, pool, workloads, and both placements side by side (what a person needs to debug a disagreement). */
export function formatReport(c: FidelityCase, v: Verdict, emb0: Placement): string {
  const lines: string[] = [];
  const status = v.agree
    ? v.tieSeed !== null
      ? `AGREE (tie-resolved with embedded seed ${v.tieSeed})`
      : 'AGREE'
    : 'DISAGREE';
  lines.push(`fidelity case seed ${c.seed}: ${status}  (reproduce: fidelityCase(${c.seed}))`);
  lines.push(
    `pool (${c.nodes.length} nodes, cpu/memory/pods): ${c.nodes.map((n) => `${n.name} ${nodeKey(n)}`).join(', ')}`,
  );
  lines.push('workloads, applied in this order:');
  for (const w of c.workloads) lines.push(`  ${w.summary}`);
  const columns: [string, Placement][] = [
    ['real kube-scheduler', v.real],
    ['embedded (seed 0)', emb0],
  ];
  if (v.tieSeed !== null) columns.push([`embedded (seed ${v.tieSeed})`, v.embedded]);
  const width = Math.max(28, ...columns.flatMap(([, p]) => c.nodes.map((n) => cell(p, n.name).length + 2)));
  lines.push(`  ${pad('node', 10)}${columns.map(([h]) => pad(h, width)).join('')}`);
  for (const n of c.nodes)
    lines.push(`  ${pad(n.name, 10)}${columns.map(([, p]) => pad(cell(p, n.name), width)).join('')}`);
  const pendingCell = (p: Placement) =>
    [...p]
      .filter(([, w]) => w.pending > 0)
      .map(([name, w]) => `${name}×${w.pending}`)
      .join(' ') || '-';
  lines.push(`  ${pad('Pending', 10)}${columns.map(([, p]) => pad(pendingCell(p), width)).join('')}`);
  for (const [h, p] of columns) {
    for (const [name, w] of p) for (const m of w.messages) lines.push(`  ${h}: ${name} Pending: ${m}`);
  }
  if (v.problems.length > 0) {
    lines.push('problems:');
    for (const p of v.problems) lines.push(`  - ${p}`);
  }
  return lines.join('\n');
}

export interface BulkVerdict {
  seed: number;
  agree: boolean;
  pods: number;
  real: { scheduled: number; pending: number };
  embedded: { scheduled: number; pending: number };
  /** Nodes whose pod count had to be (and was) exactly their capacity, i.e. with Pending pods left over. */
  saturatedNodes: number;
  problems: string[];
  report: string;
}

/**
 * The comparison for a bulk case (one pod shape, see bulkCase): the numbers of scheduled and Pending pods must be
 * equal; no node may hold more pods than fit; and when pods are left Pending, every node must be full (hold exactly
 * its capacity) in both, which is then the whole placement up to which pod is where. Pending pods must be Pending
 * for resources or pod count on every node.
 */
export function compareBulk(
  c: FidelityCase & { capacity: readonly number[] },
  realPods: readonly RealPod[],
  sim: SimResult,
  wholeCluster = true,
): BulkVerdict {
  const problems: string[] = [];
  const poolSize = c.nodes.length;
  const tally = (pods: Iterable<{ node: string | null }>) => {
    const byNode = new Map<string, number>();
    let scheduled = 0;
    let pending = 0;
    for (const p of pods) {
      if (p.node === null) pending++;
      else {
        scheduled++;
        byNode.set(p.node, (byNode.get(p.node) ?? 0) + 1);
      }
    }
    return { scheduled, pending, byNode };
  };
  const real = tally(realPods);
  const emb = tally(sim.pods);
  let realMsgProblems = 0;
  for (const p of realPods) {
    if (p.node !== null) continue;
    const why = pendingReasonProblem(p.message, poolSize, wholeCluster);
    if (why && realMsgProblems++ < 5) problems.push(`real pod ${p.name}: ${why}`);
  }
  let embMsgProblems = 0;
  for (const p of sim.pods) {
    if (p.node !== null) continue;
    const why = pendingReasonProblem(p.message, poolSize, false);
    if (why && embMsgProblems++ < 5) problems.push(`embedded pod ${p.name}: ${why}`);
  }
  if (real.scheduled + real.pending !== c.workloads.length)
    problems.push(`the real cluster has ${real.scheduled + real.pending} pods, expected ${c.workloads.length}`);
  if (real.scheduled !== emb.scheduled || real.pending !== emb.pending)
    problems.push(
      `scheduled/pending differ: real ${real.scheduled}/${real.pending}, embedded ${emb.scheduled}/${emb.pending}`,
    );
  let saturated = 0;
  c.nodes.forEach((n, i) => {
    const cap = c.capacity[i]!;
    for (const [side, t] of [
      ['real', real],
      ['embedded', emb],
    ] as const) {
      const got = t.byNode.get(n.name) ?? 0;
      if (got > cap) problems.push(`${side}: ${n.name} (${nodeKey(n)}) holds ${got} pods, only ${cap} fit`);
      else if (t.pending > 0 && got !== cap)
        problems.push(`${side}: ${n.name} (${nodeKey(n)}) holds ${got} pods while pods are Pending, ${cap} fit`);
    }
    if (real.pending > 0) saturated++;
  });
  const agree = problems.length === 0;
  const report = [
    `bulk case seed ${c.seed}: ${agree ? 'AGREE' : 'DISAGREE'}  (reproduce: bulkCase(${c.seed}, ${c.workloads.length}, ${poolSize}))`,
    `  ${c.workloads.length} pods over ${poolSize} nodes (capacity ${c.capacity.reduce((a, b) => a + b, 0)} pods)`,
    `  real kube-scheduler: ${real.scheduled} scheduled, ${real.pending} Pending; embedded: ${emb.scheduled} scheduled, ${emb.pending} Pending`,
    ...problems.slice(0, 20).map((p) => `  - ${p}`),
    ...(problems.length > 20 ? [`  … ${problems.length - 20} more`] : []),
  ].join('\n');
  return {
    seed: c.seed,
    agree,
    pods: c.workloads.length,
    real: { scheduled: real.scheduled, pending: real.pending },
    embedded: { scheduled: emb.scheduled, pending: emb.pending },
    saturatedNodes: saturated,
    problems,
    report,
  };
}
