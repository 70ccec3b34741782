// Replay time, embedded vs the kwok backend (the real kube-scheduler over per-run KWOK nodes on the test cluster),
// on the same episode steps: every canonical scenario along its fix (test/support/agreement.ts), each step's trace
// replayed once on kwok (wall time: what an episode step waits for) and --reps times on embedded (CPU time of one
// thread). Both must observe the same ready/pending/total at every step.
//   npx tsx bench/kwok-replay.ts [--reps 200]
// The last lines are machine-readable:
//   kwok-replay-ms-median: N
//   embedded-replay-ms-median: N
//   embedded-to-kwok-replay-ratio: X      (kwok median / embedded median)
import { parseArgs } from 'node:util';
import { applyAction } from '../src/arena/actions.js';
import type { Observation } from '../src/arena/observation.js';
import { EmbeddedBackend } from '../src/sim/embedded/index.js';
import { createKwokBackend } from '../src/sim/kwok/index.js';
import { canonicalScenario } from '../src/trace/generate.js';
import { cloneValue } from '../src/trace/model.js';
import { CANONICAL_FIXES } from '../test/support/agreement.js';
import { ensureCluster } from '../test/support/cluster.js';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '200' } } });
const REPS = Number(args.reps);
if (!Number.isInteger(REPS) || REPS < 1) throw new RangeError(`--reps must be a positive integer (got "${args.reps}")`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (o: Observation) => `${o.ready}/${o.pending}/${o.total}`;

const kwok = createKwokBackend({ kubeconfig: await ensureCluster() });
const embedded = new EmbeddedBackend();
const kwokMs: number[] = [];
const embMs: number[] = [];
let disagree = 0;
const t0 = Date.now();
try {
  for (const [name, actions] of Object.entries(CANONICAL_FIXES)) {
    const { trace, meta } = canonicalScenario(name);
    for (const [step, action] of ['start' as const, ...actions].entries()) {
      if (action !== 'start') applyAction(trace, meta.workload, action);
      const u0 = process.cpuUsage();
      let e: Observation | undefined;
      for (let i = 0; i < REPS; i++) e = embedded.runSync(cloneValue(trace), meta.workload, { seed: step });
      const u = process.cpuUsage(u0);
      const eMs = (u.user + u.system) / 1000 / REPS;
      const w0 = Date.now();
      const k = await kwok.run(cloneValue(trace), meta.workload, {
        seed: step,
        runName: `kwokbench-${name}-s${step}`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
      });
      const kMs = Date.now() - w0;
      embMs.push(eMs);
      kwokMs.push(kMs);
      const same = show(e!) === show(k);
      if (!same) disagree++;
      console.log(
        `${name} step ${step} (${action}): embedded ${show(e!)} ${eMs.toFixed(3)} ms CPU, kwok ${show(k)} ${kMs} ms${same ? '' : '  DISAGREE'}`,
      );
    }
  }
} finally {
  await kwok.close();
}
const k = median(kwokMs);
const e = median(embMs);
console.log(`${kwokMs.length} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${disagree} disagreeing`);
console.log(`kwok-replay-ms-median: ${k}`);
console.log(`embedded-replay-ms-median: ${e.toFixed(3)}`);
console.log(`embedded-to-kwok-replay-ratio: ${Math.round(k / e)}`);
process.exit(disagree === 0 ? 0 : 1);
