// The fidelity comparison at scale, on the real test control plane (test/cluster; started or reused like the tests do):
//   npx tsx bench/fidelity.ts [--pods 10000] [--nodes 1000] [--agree-pods 3000] [--room 3] [--qps 5000] [--burst 10000]
//                             [--parallelism 16] [--default-qps] [--traces 200] [--seed 100001] [--concurrency 16]
//                             [--no-big] [--no-agree]
// Every big run starts its OWN kube-scheduler (the cluster build's binary, test/fidelity/harness/scheduler.ts) against
// the shared API server: schedulerName sim-arena-bench (the bench's pods name it; the shared cluster's scheduler never
// sees them), clientConnection qps/burst --qps/--burst (kube-scheduler's default is 50/100, which limits it to one
// Binding per 20 ms), no leader election, -v=3 log to a file. All pods are created first, the scheduler only then:
// its rate is pods / (first bind → last pod bound or found unschedulable), both from its own log, so pod creation
// is not measured.
// 1. Rate: --pods identical bare Pods over --nodes heterogeneous KWOK nodes that hold ~92 % of them (bulkCase).
// 2. Agreement: --agree-pods pods over --nodes nodes with room for --room times as many, so nodes do not fill and
//    scoring decides. On both runs each real binding is replayed, in the scheduler's cycle order, into the embedded
//    scheduler's node state and checked (harness/placement.ts): placement-agreement = scheduled pods whose real node
//    the model allows (feasible, and no feasible node scores higher in the node window the real filter pass
//    processed) / scheduled pods; also against the model's own one-worker window and against all nodes. And one
//    embedded simulate() of the same pods on the nodes in the scheduler's node order: per-node count differences.
// 3. --traces random fidelity cases (the test's generator, other seeds) through the shared scheduler, 16 at a time.
// --default-qps also runs the rate case with the bench scheduler at 50/100 QPS (the default-limit figure).
// The last lines are machine-readable:
//   kube-scheduler-pods-per-second-raised-qps: N
//   kube-scheduler-pods-per-second-default-qps: N      (with --default-qps)
//   embedded-pods-per-second: N                        (per CPU-second of one simulate() of the rate case)
//   embedded-to-kube-scheduler-ratio: X                (the two above, same run)
//   placement-agreement: X
//   agreement-rate: X                                  (random traces + bulk count checks)
//
// Measured: see README (Benchmarks).
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { simulate } from '../src/sim/embedded/index.js';
import { buildTrace, START_TS } from '../src/trace/generate.js';
import {
  bulkCase,
  checkPlacements,
  compareBulk,
  failureText,
  FidelityCluster,
  fidelityCase,
  nodeCountDiff,
  nodesInRealOrder,
  parseSchedulerLog,
  realPodsFromLog,
  runFromNodeOrder,
  runCases,
  SchedulerProcess,
  shapeOf,
  summarize,
  type BulkCase,
  type PlacementCheck,
} from '../test/fidelity/harness/index.js';
import { ensureCluster, kubeConfig } from '../test/support/cluster.js';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '1000' },
    'agree-pods': { type: 'string', default: '3000' },
    room: { type: 'string', default: '3' },
    qps: { type: 'string', default: '5000' },
    burst: { type: 'string', default: '10000' },
    parallelism: { type: 'string', default: '16' },
    'agree-parallelism': { type: 'string', default: '1' },
    'default-qps': { type: 'boolean', default: false },
    traces: { type: 'string', default: '200' },
    seed: { type: 'string', default: '100001' },
    concurrency: { type: 'string', default: '16' },
    'no-big': { type: 'boolean', default: false },
    'no-agree': { type: 'boolean', default: false },
    'from-log': { type: 'string' },
    'agree-log': { type: 'string' },
  },
});
const num = (k: keyof typeof args): number => {
  const v = Number(args[k]);
  if (!Number.isFinite(v) || v < 0)
    throw new RangeError(`--${k} must be a non-negative number (got "${String(args[k])}")`);
  return v;
};
const PODS = num('pods');
const NODES = num('nodes');
const AGREE_PODS = num('agree-pods');
const ROOM = num('room');
const TRACES = num('traces');
const SEED = num('seed');
const CONCURRENCY = num('concurrency');
const SCHEDULER_NAME = 'sim-arena-bench';

const log = (m: string) => process.stderr.write(`[fidelity-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const kc = args['from-log'] === undefined && args['agree-log'] === undefined ? await kubeConfig() : undefined;
const kubeconfig = kc === undefined ? '' : resolve(await ensureCluster());
const fromLog = args['from-log'];
const agreeLog = args['agree-log'];
// --from-log / --agree-log: the rate / agreement case from an earlier run's scheduler log, no cluster (same
// --pods/--agree-pods/--nodes/--seed/--room).
const offline = fromLog !== undefined || agreeLog !== undefined;
const fc = !offline ? await FidelityCluster.open(kc!, { progress: log }) : undefined;
const lines: string[] = [];
let agreed = 0;
let total = 0;
const rates = new Map<string, number>();
let embPps = 0;
let placed = 0;
let allowed = 0;
let placedParallel = 0;
let allowedParallel = 0;
const t0 = Date.now();

interface OwnRun {
  pps: number;
  check: PlacementCheck;
}

/**
 * Run `c` through a bench scheduler at qps/burst (or read the log of an earlier run: --from-log), check every
 * placement, compare per-node counts with embedded.
 */
async function ownRun(
  c: BulkCase,
  label: string,
  qps: number,
  burst: number,
  parallelism: number,
  timeEmbedded: boolean,
  fromLog?: string,
): Promise<OwnRun> {
  const cap = c.capacity.reduce((a, b) => a + b, 0);
  log(
    `${label}: ${c.workloads.length} pods (${c.shape.cpu}/${c.shape.memory}) over ${c.nodes.length} nodes with room for ${cap}; scheduler qps ${qps}/burst ${burst}`,
  );
  let sched: SchedulerProcess | undefined;
  let logFile = fromLog;
  if (logFile === undefined) {
    await fc!.runBulk(c, 0, {
      schedulerName: SCHEDULER_NAME,
      start: async () => {
        const sp = SchedulerProcess.start({
          kubeconfig,
          schedulerName: SCHEDULER_NAME,
          qps,
          burst,
          parallelism,
        });
        sched = sp;
        await new Promise((r) => setTimeout(r, 500));
        if (!sp.running)
          throw new Error(`kube-scheduler exited at once; its log (${sp.logFile}):\n${sp.log().slice(-3000)}`);
        return () => sp.stop();
      },
    });
    logFile = sched!.logFile;
  }
  const slog = parseSchedulerLog(readFileSync(logFile, 'utf8'));
  const run = runFromNodeOrder(slog.nodeOrder);
  const realPods = realPodsFromLog(slog, run);
  log(`${label}: scheduler log ${logFile} (${slog.cycles.length} cycles, ${slog.nodeOrder.length} nodes)`);
  if (slog.firstBind === null || slog.lastSettle === null)
    throw new Error(`${label}: no bind in the scheduler log ${logFile}`);
  if (realPods.length !== c.workloads.length)
    throw new Error(`${label}: the scheduler log has ${realPods.length} pods, the case ${c.workloads.length}`);
  const secs = (slog.lastSettle - slog.firstBind) / 1000;
  const pps = c.workloads.length / secs;
  const bindSecs = (slog.lastBind! - slog.firstBind) / 1000;
  const bound = [...slog.pods.values()].filter((x) => x.node !== null).length;
  log(
    `${label}: kube-scheduler ${c.workloads.length} pods from first bind to last settled in ${secs.toFixed(2)} s = ${pps.toFixed(0)} pods/s`,
  );
  // Count check (scheduled/pending and saturation), as before.
  const v = compareBulk(c, realPods, simulate(c.trace, { seed: 0 }));
  total++;
  if (v.agree) agreed++;
  lines.push(v.report);
  // Pod-by-pod placement check in the scheduler's cycle order.
  const { nodes, poolName, objects } = nodesInRealOrder(c, run, slog.nodeOrder);
  const index = new Map(slog.nodeOrder.map((n, i) => [n, i]));
  const podSpec = c.workloads[0]!.object.spec as Record<string, unknown>;
  const check = checkPlacements(shapeOf(podSpec), nodes, poolName, index, slog.events, parallelism, slog.pods);
  // One embedded run on the same nodes in the scheduler's node order (stand-ins for the cluster's other nodes).
  const ordered = buildTrace(objects, [{ ts: START_TS + 1, applied: c.workloads.map((w) => w.object) }]);
  let best = Infinity;
  let sim = simulate(ordered, { seed: 0 });
  for (let i = 0; i < (timeEmbedded ? 5 : 1); i++) {
    const u0 = process.cpuUsage();
    sim = simulate(ordered, { seed: i });
    const u = process.cpuUsage(u0);
    best = Math.min(best, (u.user + u.system) / 1e6);
  }
  if (timeEmbedded) embPps = c.workloads.length / best;
  const realByNode = new Map<string, number>();
  for (const p of realPods) if (p.node !== null) realByNode.set(p.node, (realByNode.get(p.node) ?? 0) + 1);
  const embByNode = new Map<string, number>();
  for (const p of sim.pods) if (p.node !== null) embByNode.set(p.node, (embByNode.get(p.node) ?? 0) + 1);
  const diff = nodeCountDiff(
    c.nodes.map((n) => n.name),
    realByNode,
    embByNode,
  );
  const s = check.scheduled;
  const pct = (x: number) => (s === 0 ? '-' : `${((100 * x) / s).toFixed(2)} %`);
  lines.push(
    `${label}: kube-scheduler (own, qps ${qps}/burst ${burst}, parallelism ${parallelism}) ${pps.toFixed(0)} pods/s (${secs.toFixed(2)} s first bind → last settled; ${bound} binds in ${bindSecs.toFixed(2)} s = ${(bound / bindSecs).toFixed(0)} binds/s, the rest is finding ${c.workloads.length - bound} pods unschedulable, one status write each); ` +
      `log ${logFile}`,
    `  per scheduling cycle, ${s} that chose a node + ${check.unschedulable} that found none: feasible ${pct(check.feasible)}; best in the real window ${pct(check.windowBest)} ` +
      `(${check.tiedChoices} of them among tied nodes); best in the model's one-worker window ${pct(check.modelWindowBest)}; best over all nodes ${pct(check.allNodesBest)}; ` +
      `real window = model window size ${pct(check.windowExact)}; within the chunks the workers could reach ${pct(check.inReach)}; unschedulable while the model fits ${check.unschedulableButFits}; failed binds ${check.bindFailures}`,
    ...check.examples.map((e) => `    not allowed: ${e}`),
    `  per node, embedded (same node order, seed 0) vs real: ${diff.nodesDiffering}/${c.nodes.length} nodes differ, ${diff.moved} pods placed differently, max |diff| ${diff.maxDiff}`,
    timeEmbedded
      ? `  embedded: ${(best * 1000).toFixed(0)} ms CPU per simulate() (best of 5) = ${embPps.toFixed(0)} pods per CPU-second`
      : '',
  );
  // The headline figure comes from one-worker runs, where the real window is known exactly.
  if (parallelism <= 1) {
    placed += s;
    allowed += check.windowBest;
  } else {
    placedParallel += s;
    allowedParallel += check.windowBest;
  }
  return { pps, check };
}

try {
  // ---- 1. rate --------------------------------------------------------------------------------------------------
  if (!args['no-big'] && PODS > 0 && (fc !== undefined || fromLog !== undefined)) {
    const bc = bulkCase(SEED, PODS, NODES);
    const r = await ownRun(bc, 'rate case', num('qps'), num('burst'), num('parallelism'), true, fromLog);
    rates.set('raised', r.pps);
    if (args['default-qps']) {
      const d = await ownRun(
        bulkCase(SEED, PODS, NODES),
        'rate case at the default QPS',
        50,
        100,
        num('parallelism'),
        false,
      );
      rates.set('default', d.pps);
    }
  }
  // ---- 2. placement agreement -----------------------------------------------------------------------------------
  if (!args['no-agree'] && AGREE_PODS > 0 && (fc !== undefined || agreeLog !== undefined)) {
    const ac = bulkCase(SEED + 1, AGREE_PODS, NODES, ROOM);
    await ownRun(
      ac,
      'agreement case',
      num('qps'),
      num('burst'),
      num('agree-parallelism'),
      PODS === 0 || !!args['no-big'],
      agreeLog,
    );
  }

  // ---- 3. random traces ----------------------------------------------------------------------------------------
  if (TRACES > 0 && fc !== undefined && kc !== undefined) {
    const seeds = Array.from({ length: TRACES }, (_, i) => SEED + i);
    log(`${TRACES} random traces (seeds ${seeds[0]}..${seeds[seeds.length - 1]}), ${CONCURRENCY} at a time`);
    const r0 = Date.now();
    let done = 0;
    const results = await runCases(kc, seeds, {
      cluster: fc,
      concurrency: CONCURRENCY,
      onResult: (r) => {
        if (++done % 25 === 0) log(`${done}/${TRACES} traces replayed`);
        if (!r.verdict?.agree) log(`DISAGREEMENT\n${failureText(r)}`);
      },
    });
    const s = summarize(results);
    agreed += s.agreed;
    total += s.cases;
    // Embedded speed on the small traces: simulate() alone, every case once more.
    let simMs = 0;
    for (const r of results) {
      const s0 = performance.now();
      simulate(fidelityCase(r.case.seed).trace, { seed: 0 });
      simMs += performance.now() - s0;
    }
    lines.push(
      `random traces: ${s.agreed}/${s.cases} agree (${s.tieResolved} through another tie-break seed), ${s.errors} replay errors; ${s.pods} pods, ${s.pending} Pending; ` +
        `real replay ${((Date.now() - r0) / 1000).toFixed(1)} s; embedded ${(simMs / s.cases).toFixed(2)} ms per trace (${(s.pods / (simMs / 1000)).toFixed(0)} pods/s)`,
    );
    for (const r of results) if (!r.verdict?.agree) lines.push(failureText(r));
  }
} finally {
  await fc?.close();
}
lines.push(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
const raised = rates.get('raised') ?? 0;
const out = lines.filter((l) => l !== '');
out.push(`kube-scheduler-pods-per-second-raised-qps: ${Math.round(raised)}`);
if (rates.has('default')) out.push(`kube-scheduler-pods-per-second-default-qps: ${Math.round(rates.get('default')!)}`);
out.push(`embedded-pods-per-second: ${Math.round(embPps)}`);
out.push(`embedded-to-kube-scheduler-ratio: ${raised > 0 ? (embPps / raised).toFixed(1) : '-'}`);
out.push(`placement-agreement: ${placed === 0 ? '-' : (allowed / placed).toFixed(4)}`);
if (placedParallel > 0)
  out.push(`placement-agreement-parallel-filter: ${(allowedParallel / placedParallel).toFixed(4)}`);
out.push(`agreement-rate: ${total === 0 ? '1.0000' : (agreed / total).toFixed(4)}`);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(agreed === total && allowed === placed ? 0 : 1);
