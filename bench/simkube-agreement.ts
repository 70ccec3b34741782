// Three-backend agreement at length, on the real test cluster with SimKube 2.7 running (npm run simkube:up, which
// this script also runs): every canonical scenario along its fix, and the corpus traces on the default pool (start
// and one step), replayed on embedded, kwok and SimKube; prints every step with each backend's replay time.
//   npx tsx bench/simkube-agreement.ts [--corpus N] [--duration S]
// The last lines are machine-readable:
//   agreement: A/B steps
//   replay-ms-median: embedded=N kwok=N simkube=N
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ActionType } from '../src/arena/actions.js';
import { canonicalScenario } from '../src/trace/generate.js';
import { decodeTrace } from '../src/trace/trace.js';
import { AgreementRig, formatStep, type AgreementCase, type StepResult } from '../test/support/agreement.js';
import { kubeConfig, REPO_ROOT, ensureCluster } from '../test/support/cluster.js';
import { Kube } from '../src/kube/client.js';

const { values: args } = parseArgs({
  options: { corpus: { type: 'string', default: '8' }, duration: { type: 'string', default: '12' } },
});

const CANONICAL_FIXES: Record<string, ActionType[]> = {
  'cpu-slight': ['reduce-cpu', 'reduce-cpu'],
  'cpu-heavy': ['reduce-cpu', 'reduce-cpu'],
  'mem-slight': ['reduce-mem', 'reduce-mem'],
  'mem-heavy': ['reduce-mem'],
  'cpu-mem': ['reduce-cpu', 'reduce-cpu', 'reduce-mem'],
  'replicas-over': ['scale-down', 'scale-down'],
  'replicas-under': ['scale-up', 'scale-up'],
  composite: ['reduce-mem', 'scale-down'],
  healthy: ['noop'],
};
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
  const rig = await AgreementRig.start({ kc, path: await ensureCluster(), kube: Kube.of(kc) }, Number(args.duration));
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
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);
