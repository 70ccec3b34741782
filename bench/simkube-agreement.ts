// Three-backend agreement at length, on the real test cluster with SimKube 2.7 running (npm run simkube:up, which
// this script also runs): every canonical scenario along its fix, and the corpus traces on the default pool (start
// and one step), replayed on embedded, kwok and SimKube; prints every step with each backend's replay time.
//   npx tsx bench/simkube-agreement.ts [--corpus N] [--duration S]
// The last lines are machine-readable:
//   agreement: A/B steps
//   replay-ms-median: embedded=N kwok=N simkube=N
// Then the contended case (--contended N, default 6; 0 skips it; --only-contended skips everything else and needs
// no SimKube): SimKube's DeathStarBench trace on 4 nodes of 8 CPU / 16Gi, where 27 Deployments compete, replayed
// N times on kwok (the real kube-scheduler; racy) and with N seeds on embedded; the workload dsb/nginx-thrift's ready
// count is compared as a distribution (test/support/distribution.ts):
//   contended: embedded=<counts> kwok=<counts> tv=X range-gap=N agree=yes|no (tolerance T)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ActionType } from '../src/arena/actions.js';
import { canonicalScenario } from '../src/trace/generate.js';
import { decodeTrace } from '../src/trace/trace.js';
import {
  AgreementRig,
  CANONICAL_FIXES,
  formatStep,
  type AgreementCase,
  type StepResult,
} from '../test/support/agreement.js';
import { kubeConfig, REPO_ROOT, ensureCluster } from '../test/support/cluster.js';
import { Kube } from '../src/kube/client.js';
import { EmbeddedBackend } from '../src/sim/embedded/index.js';
import { createKwokBackend } from '../src/sim/kwok/index.js';
import { cloneValue } from '../src/trace/model.js';
import type { NodePool } from '../src/trace/nodepool.js';
import type { WorkloadRef } from '../src/trace/workload.js';
import { compareDistributions, formatCounts } from '../test/support/distribution.js';

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: '8' },
    duration: { type: 'string', default: '12' },
    contended: { type: 'string', default: '6' },
    'only-contended': { type: 'boolean', default: false },
    tolerance: { type: 'string', default: '0.5' },
  },
});

const DSB = path.join(REPO_ROOT, 'test', 'fixtures', 'simkube', 'dsb-scaling.sktrace');
const CONTENDED_POOL: NodePool = { count: 4, cpu: '8', memory: '16Gi', pods: 110 };
const NGINX: WorkloadRef = { kind: 'Deployment', namespace: 'dsb', name: 'nginx-thrift' };

/** The contended DeathStarBench replay, `n` times per backend: ready counts of nginx-thrift as distributions. */
async function contended(n: number, kubeconfig: string): Promise<void> {
  const trace = decodeTrace(new Uint8Array(readFileSync(DSB))).trace;
  const embedded = new EmbeddedBackend();
  const kwok = createKwokBackend({ kubeconfig });
  const ready: Record<'embedded' | 'kwok', number[]> = { embedded: [], kwok: [] };
  const t0 = Date.now();
  try {
    for (let seed = 0; seed < n; seed++) {
      for (const [name, backend] of [
        ['embedded', embedded],
        ['kwok', kwok],
      ] as const) {
        const t = Date.now();
        const o = await backend.run(cloneValue(trace), NGINX, {
          seed,
          nodePool: CONTENDED_POOL,
          runName: `contended-${name}-${seed}-${process.pid}`,
        });
        ready[name].push(o.ready);
        console.log(
          `contended ${name} seed ${seed}: ${o.ready}/${o.pending}/${o.total} ready/pending/total ${Date.now() - t}ms`,
        );
      }
    }
  } finally {
    await kwok.close();
  }
  const tolerance = Number(args.tolerance);
  const v = compareDistributions(ready.embedded, ready.kwok, tolerance);
  console.log(`contended: ${n} replays per backend in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(
    `contended: embedded=${formatCounts(ready.embedded)} kwok=${formatCounts(ready.kwok)} tv=${v.tv.toFixed(2)} range-gap=${v.rangeGap} agree=${v.agree ? 'yes' : 'no'} (tolerance ${tolerance})`,
  );
}

const FIRST_STEP: Record<string, ActionType> = {
  'cpu-over': 'reduce-cpu',
  'mem-over': 'reduce-mem',
  'both-over': 'reduce-cpu',
  capacity: 'reduce-cpu',
  composite: 'reduce-mem',
  'replicas-over': 'scale-down',
  'replicas-under': 'scale-up',
  healthy: 'noop',
};

interface IndexEntry {
  name: string;
  trace: string;
  description?: string;
  workload: { kind: string; namespace: string; name: string };
}

async function main(): Promise<void> {
  const kc = await kubeConfig();
  const clusterPath = await ensureCluster();
  if (args['only-contended']) return contended(Number(args.contended), clusterPath);
  const rig = await AgreementRig.start({ kc, path: clusterPath, kube: Kube.of(kc) }, Number(args.duration));
  const cases: AgreementCase[] = Object.entries(CANONICAL_FIXES).map(([name, actions]) => {
    const { trace, meta } = canonicalScenario(name);
    return { name, trace, workload: meta.workload, actions };
  });
  const corpusDir = path.join(REPO_ROOT, 'traces', 'corpus');
  const index = JSON.parse(readFileSync(path.join(corpusDir, 'index.json'), 'utf8')) as IndexEntry[];
  for (const e of index.filter((x) => x.description?.includes('(default pool)')).slice(0, Number(args.corpus))) {
    const kind = e.name.replace(/^gen-\d+-/, '');
    cases.push({
      name: e.name,
      trace: decodeTrace(readFileSync(path.join(corpusDir, e.trace))).trace,
      workload: e.workload,
      actions: [FIRST_STEP[kind] ?? 'noop'],
    });
  }
  const all: StepResult[] = [];
  const t0 = Date.now();
  try {
    for (const k of cases) {
      try {
        all.push(...(await rig.run(k, (r) => console.log(formatStep(k.name, r)))));
      } catch (e) {
        console.log(`${k.name}: ${(e as Error).message}`);
      }
    }
  } finally {
    await rig.close();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`${cases.length} cases, ${all.length} steps in ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
  console.log(`agreement: ${all.filter((r) => r.agree).length}/${all.length} steps`);
  console.log(
    `replay-ms-median: embedded=${median(all.map((r) => r.ms.embedded))} kwok=${median(all.map((r) => r.ms.kwok))} simkube=${median(all.map((r) => r.ms.simkube))}`,
  );
  if (Number(args.contended) > 0) await contended(Number(args.contended), clusterPath);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);
