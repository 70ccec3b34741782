// The evaluation protocol: official splits (fixed, disjoint, test shifted as documented), the CI estimator, and
// `bench --split S --seeds N` end to end.
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand } from '../../../src/cli/bench.js';
import { ci95HalfWidth, groupMeans, sampleSd, tQuantile975 } from '../../../src/bench/stats.js';
import { describeSplits, findSplitScenario, parseSplit, splitScenarios, SPLITS } from '../../../src/trace/splits.js';
import { clusterCapacity } from '../../../src/arena/capacity.js';
import { DEFAULT_NODE_POOL } from '../../../src/arena/backend.js';
import type { BenchReport } from '../../../src/bench/report.js';
import { encodeTrace } from '../../../src/trace/trace.js';

async function quiet(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const w = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await f(), out, err };
  } finally {
    process.stdout.write = w.out;
    process.stderr.write = w.err;
  }
}

describe('evaluation protocol', () => {
  describe('splits', () => {
    it('have fixed sizes, unique ids, and no trace shared between train and test', () => {
      const sizes = Object.fromEntries(SPLITS.map((s) => [s, splitScenarios(s).length]));
      expect(sizes).to.deep.equal({ train: 69, val: 30, test: 40, real: 11 });
      const bytes = (s: (typeof SPLITS)[number]) =>
        new Set(splitScenarios(s).map((x) => Buffer.from(encodeTrace(x.trace())).toString('base64')));
      const train = bytes('train');
      for (const t of bytes('test')) expect(train.has(t)).to.equal(false);
      for (const s of SPLITS)
        expect(new Set(splitScenarios(s).map((x) => x.id)).size).to.equal(splitScenarios(s).length);
    });

    it('test differs from train as documented: other node sizes, and the capacity mode only in test', () => {
      const largest = (s: ReturnType<typeof splitScenarios>[number]) =>
        clusterCapacity(s.trace(), s.nodePool ?? DEFAULT_NODE_POOL).largestNode;
      for (const s of [...splitScenarios('train'), ...splitScenarios('val')]) {
        expect(largest(s), s.id).to.deep.equal({ cpuMillis: 16000n, memoryBytes: 32n * 1024n ** 3n });
        expect(s.problem, s.id).to.not.equal('capacity');
      }
      for (const s of splitScenarios('test')) {
        const l = largest(s);
        expect(l.cpuMillis === 16000n || l.memoryBytes === 32n * 1024n ** 3n, s.id).to.equal(false);
      }
      expect(splitScenarios('test').some((s) => s.problem === 'capacity')).to.equal(true);
      expect(describeSplits().test.join(' ')).to.match(/8 or 32 CPU/);
    });

    it('are the same on every call (deterministic) and findable by id; an unknown split is a clear error', () => {
      const a = splitScenarios('val').map((s) => s.id);
      expect(a[0]).to.match(/^gen-val:gen-\d{4}-/);
      expect(findSplitScenario(a[3]!)?.split).to.equal('val');
      expect(findSplitScenario('nope')).to.equal(undefined);
      expect(() => parseSplit('dev')).to.throw(RangeError, /unknown split "dev" \(use train, val, test, real\)/);
      expect(parseSplit(' TEST ')).to.equal('test');
    });
  });

  describe('ci95', () => {
    it("is Student's t over the values: known quantiles and a worked example", () => {
      expect(tQuantile975(1)).to.equal(12.706);
      expect(tQuantile975(2)).to.equal(4.303);
      expect(tQuantile975(60)).to.be.closeTo(2.0003, 0.003);
      expect(tQuantile975(1e6)).to.be.closeTo(1.96, 0.001);
      // values 1, 2, 3, 4: sd = 1.2910, t(3) = 3.182 → 3.182 × 1.2910 / 2 = 2.054
      expect(sampleSd([1, 2, 3, 4])).to.be.closeTo(1.291, 0.001);
      expect(ci95HalfWidth([1, 2, 3, 4])).to.be.closeTo(2.054, 0.001);
      expect(ci95HalfWidth([5])).to.equal(null);
      expect(ci95HalfWidth([2, 2, 2])).to.equal(0);
    });
    it('groups by scenario before the interval (seeds of one scenario are not independent samples)', () => {
      const eps = [
        { s: 'a', r: 1 },
        { s: 'a', r: 3 },
        { s: 'b', r: 10 },
      ];
      expect(
        groupMeans(
          eps,
          (e) => e.s,
          (e) => e.r,
        ),
      ).to.deep.equal([2, 10]);
    });
  });

  describe('sim-arena bench --split --seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-protocol-'));
    it('runs every policy over N seeds of the split and reports solveRate, meanReturn, ci95 and split per policy', async function () {
      this.timeout(120_000);
      const out = join(dir, 'test');
      const r = await quiet(() =>
        benchCommand(['--split', 'test', '--seeds', '2', '--policies', 'blind,random', '--out', out]),
      );
      expect(r.code, r.err).to.equal(0);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
      expect(report.meta.split).to.equal('test');
      expect(report.meta.seeds).to.equal(2);
      expect(report.episodes).to.have.length(2 * 40 * 2);
      expect(new Set(report.episodes.map((e) => e.runSeed))).to.deep.equal(new Set([0, 1]));
      for (const p of ['blind', 'random']) {
        const a = report.summary.byPolicy[p]!;
        expect(a.split).to.equal('test');
        expect(a.scenarios).to.equal(40);
        expect(a.seeds).to.equal(2);
        expect(a.solveRate).to.be.within(0, 1);
        expect(a.ci95).to.be.a('number').and.greaterThan(0);
        // recompute from the episodes
        const eps = report.episodes.filter((e) => e.policy === p);
        expect(a.meanReturn).to.be.closeTo(eps.reduce((s, e) => s + e.return, 0) / eps.length, 1e-9);
        expect(a.ci95).to.be.closeTo(
          ci95HalfWidth(
            groupMeans(
              eps,
              (e) => e.scenario,
              (e) => e.return,
            ),
          )!,
          1e-9,
        );
      }
      // random draws differ between seeds; blind never draws
      expect(report.summary.byPolicy.random!.seedSd).to.be.greaterThan(0);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).to.match(/split \*\*test\*\*, seeds 0–1/);
      expect(md).to.match(/\| blind \| test \| [\d.]+% \| \d+\/80 \| -?[\d.]+ ± [\d.]+ \|/);
      const svg = readFileSync(join(out, 'solve-rate.svg'), 'utf8');
      expect(svg).to.match(/test split, 2 seeds/);
      expect(svg).to.match(/return -?[\d.]+ ± [\d.]+/);
    });

    it('refuses --split with --scenarios, an unknown split, and --seeds 0 (usage errors)', async () => {
      for (const args of [
        ['--split', 'test', '--scenarios', 'canonical'],
        ['--split', 'dev'],
        ['--split', 'test', '--seeds', '0'],
      ]) {
        const r = await quiet(() =>
          benchCommand([...args, '--policies', 'noop', '--out', join(dir, 'x')]).catch(
            (e: Error) => (process.stderr.write(e.message), 2),
          ),
        );
        expect(r.code, args.join(' ')).to.equal(2);
        expect(r.err).to.match(/--split|--seeds|seeds/);
      }
    });
  });
});
