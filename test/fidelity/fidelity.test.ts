// Differential fidelity: seeded random traces replayed on the real control plane (the kube-scheduler places the pods
// on per-trace KWOK node pools) and in the embedded simulator; per workload the scheduled and Pending pods must
// match exactly, per node the placement must match up to ties, and Pending pods must be Pending for resources or
// pod count on every node (test/fidelity/harness/compare.ts says exactly what is compared and why it is sound).
//
// Runs SIM_ARENA_FIDELITY_TRACES traces (default 200) from seed SIM_ARENA_FIDELITY_SEED (default 1),
// SIM_ARENA_FIDELITY_CONCURRENCY at a time (default 16). A failing trace prints its seed, pool and both placements;
// reproduce it alone with SIM_ARENA_FIDELITY_SEED=<seed> SIM_ARENA_FIDELITY_TRACES=1.
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { failureText, fidelityCase, FidelityCluster, runCases, summarize, type CaseResult } from './harness/index.js';
import { kubeConfig } from '../support/cluster.js';

const COUNT = Number(process.env.SIM_ARENA_FIDELITY_TRACES ?? 200);
const FIRST = Number(process.env.SIM_ARENA_FIDELITY_SEED ?? 1);
const CONCURRENCY = Number(process.env.SIM_ARENA_FIDELITY_CONCURRENCY ?? 16);
const SEEDS = Array.from({ length: COUNT }, (_, i) => FIRST + i);

interface Deferred {
  promise: Promise<CaseResult>;
  resolve(r: CaseResult): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (r: CaseResult) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<CaseResult>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a seed whose test never runs must not become an unhandled rejection
  return { promise, resolve, reject };
}

function describeCase(seed: number): string {
  const c = fidelityCase(seed);
  const kinds = c.workloads.map((w) => `${w.kind}×${w.pods}`).join(', ');
  return `seed ${seed}: ${kinds} on ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}`;
}

describe('fidelity: embedded simulator vs the real kube-scheduler', function () {
  this.timeout(20 * 60_000);
  const pending = new Map(SEEDS.map((s) => [s, deferred()]));
  let kc: KubeConfig;
  let fc: FidelityCluster | undefined;
  let all: Promise<CaseResult[]> | undefined;
  let t0 = 0;
  let elapsedMs = 0;

  before(async function () {
    this.timeout(300_000);
    kc = await kubeConfig();
    fc = await FidelityCluster.open(kc);
    t0 = Date.now();
    // Every trace runs in the background, CONCURRENCY at a time; each test below waits for its own.
    all = runCases(kc, SEEDS, {
      cluster: fc,
      concurrency: CONCURRENCY,
      onResult: (r) => pending.get(r.case.seed)!.resolve(r),
    }).then(
      (rs) => ((elapsedMs = Date.now() - t0), rs),
      (e: unknown) => {
        for (const d of pending.values()) d.reject(e);
        throw e;
      },
    );
    all.catch(() => undefined);
  });

  after(async function () {
    this.timeout(300_000);
    await all?.catch(() => undefined);
    await fc?.close();
  });

  for (const seed of SEEDS) {
    it(describeCase(seed), async function () {
      const r = await pending.get(seed)!.promise;
      if (!r.verdict?.agree) expect.fail(`\n${failureText(r)}\n`);
    });
  }

  it(`agrees with the real scheduler on 100% of ${COUNT} traces`, async function () {
    const results = await all!;
    const s = summarize(results);
    const embeddedMs = results.reduce((a, r) => a + r.embeddedMs, 0);
    process.stdout.write(
      `      fidelity: ${s.agreed}/${s.cases} traces agree (${(s.rate * 100).toFixed(1)}%), ${s.tieResolved} through another tie-break seed; ` +
        `${s.pods} pods, ${s.pending} Pending; ${s.errors} replay errors; real replay ${(elapsedMs / 1000).toFixed(1)} s at ${CONCURRENCY} in parallel, ` +
        `embedded compare ${(embeddedMs / Math.max(1, s.cases)).toFixed(2)} ms/trace\n`,
    );
    expect(s.cases).to.equal(COUNT);
    const failed = results.filter((r) => !r.verdict?.agree).map((r) => r.case.seed);
    expect(failed, `disagreeing seeds: ${failed.join(', ')}`).to.deep.equal([]);
    expect(s.rate).to.equal(1);
  });
});
