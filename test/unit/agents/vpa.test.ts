import { expect } from 'chai';
import { CPU_HISTOGRAM, DecayingHistogram, MEMORY_HISTOGRAM, recommend } from '../../../src/agents/vpa.js';
import { usageHistory, VpaLikePolicy, VPA_LIKE_DEFAULTS, vpaLikeFromParams } from '../../../src/agents/vpa-like.js';
import { runEpisode, episodeSpec } from '../../../src/arena/episode.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { createBackend } from '../../../src/sim/index.js';
import { ctx, obs } from './helpers.js';

describe('agents: vpa-like', () => {
  describe('the recommender (field-anchors §2.1)', () => {
    it("uses exponential buckets 5% wider each and returns the upper edge of the percentile's bucket", () => {
      const h = new DecayingHistogram(CPU_HISTOGRAM, 86_400);
      expect(h.bucketStart(0)).to.equal(0);
      expect(h.bucketStart(1)).to.be.closeTo(0.01, 1e-12);
      expect(h.bucketStart(2)).to.be.closeTo(0.01 * 2.05, 1e-12);
      expect(h.bucketStart(h.buckets - 1)).to.be.at.least(1000);
      for (const v of [0.005, 0.01, 0.5, 1, 3.3, 999]) {
        const b = h.findBucket(v);
        expect(h.bucketStart(b)).to.be.at.most(v);
        expect(h.bucketStart(b + 1)).to.be.greaterThan(v);
      }
      h.add(1, 1, 0);
      const b = h.findBucket(1);
      expect(h.percentile(0.9)).to.equal(h.bucketStart(b + 1));
      expect(h.percentile(0.9)).to.be.within(1, 1.06);
    });

    it('weights newer samples more (half-life) when taking a percentile', () => {
      const h = new DecayingHistogram(CPU_HISTOGRAM, 100);
      h.add(1, 1, 0); // weight 1
      h.add(4, 1, 300); // weight 2^3 = 8
      expect(h.percentile(0.5)).to.be.within(4, 4.3);
      expect(h.total).to.equal(9);
    });

    it('adds the 15% margin, scales bounds by confidence and applies the 25m / 250Mi pod floor', () => {
      const cpu = new DecayingHistogram(CPU_HISTOGRAM, 86_400);
      const mem = new DecayingHistogram(MEMORY_HISTOGRAM, 86_400);
      cpu.add(2, 1, 0);
      mem.add(4 * 2 ** 30, 1, 0);
      const r = recommend(cpu, mem, 1);
      const p = cpu.percentile(0.9);
      expect(Number(r.target.cpuMillis)).to.equal(Math.ceil(p * 1.15 * 1000));
      expect(Number(r.upper.cpuMillis)).to.equal(Math.ceil(cpu.percentile(0.95) * 1.15 * 2 * 1000)); // (1 + 1/conf), conf 1 day
      expect(Number(r.lower.cpuMillis)).to.equal(Math.ceil(cpu.percentile(0.5) * 1.15 * (1 + 0.001) ** -2 * 1000));
      expect(Number(r.target.memoryBytes)).to.equal(Math.ceil(mem.percentile(0.9) * 1.15));
      const tiny = new DecayingHistogram(CPU_HISTOGRAM, 86_400);
      const tinyMem = new DecayingHistogram(MEMORY_HISTOGRAM, 86_400);
      tiny.add(0.001, 1, 0);
      tinyMem.add(1e6, 1, 0);
      const f = recommend(tiny, tinyMem, 8);
      expect(f.target.cpuMillis).to.equal(25n);
      expect(f.target.memoryBytes).to.equal(BigInt(250 * 2 ** 20));
      expect(recommend(tiny, tinyMem, 8, 2).target.cpuMillis, 'split across containers').to.equal(13n);
      expect(recommend(cpu, mem, 0).upper.cpuMillis > 10n ** 15n, 'no history: unbounded').to.equal(true);
    });

    it('builds a reproducible usage history around the assumed means', () => {
      const a = usageHistory(1000, 2 ** 30, 42, VPA_LIKE_DEFAULTS);
      const b = usageHistory(1000, 2 ** 30, 42, VPA_LIKE_DEFAULTS);
      expect(a.cpu.weights).to.deep.equal(b.cpu.weights);
      expect(a.confidenceDays).to.equal(8);
      expect(a.cpu.percentile(0.5)).to.be.within(0.85, 1.15);
      expect(usageHistory(1000, 2 ** 30, 42, { ...VPA_LIKE_DEFAULTS, mode: 'defaults' }).confidenceDays).to.equal(
        480 / 1440,
      );
    });
  });

  describe('the policy', () => {
    it('walks replicas to the target first, then moves a request outside the bounds toward the recommendation', () => {
      // Memory usage chosen so 1400Mi lies within the memory bounds: only CPU is off.
      const p = new VpaLikePolicy({ cpuUsageMillis: 4000, memoryUsageBytes: 2 ** 30 });
      expect(
        p.decide(ctx({ obs: obs(0, 5, 5), resources: { cpu: '17', memory: '1400Mi', replicas: 5 }, step: 1 })),
      ).to.equal('scale-down');
      expect(
        p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17', memory: '1400Mi', replicas: 3 }, step: 2 })),
      ).to.equal('reduce-cpu');
      expect(p.last!.reason).to.match(/^CPU 17 is outside \[.*\]; target/);
      const target = Number(p.recommendation()!.target.cpuMillis);
      expect(target).to.be.within(4000, 8000);
      // Once moving it keeps going to the target, then stops (the bounds no longer matter).
      expect(
        p.decide(
          ctx({ obs: obs(0, 3, 3), resources: { cpu: `${target + 600}m`, memory: '1400Mi', replicas: 3 }, step: 3 }),
        ),
      ).to.equal('reduce-cpu');
      expect(
        p.decide(
          ctx({ obs: obs(0, 3, 3), resources: { cpu: `${target + 200}m`, memory: '1400Mi', replicas: 3 }, step: 4 }),
        ),
      ).to.equal('noop');
      expect(
        p.decide(ctx({ obs: obs(3, 0, 3), resources: { cpu: '17', replicas: 3 }, step: 5 })),
        'at target: leave it',
      ).to.equal('noop');
    });

    it('never looks at node size: a recommendation above every node leaves the pods Pending (its known blind spot)', () => {
      const p = new VpaLikePolicy({ cpuUsageMillis: 15_000 });
      const a = p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17', replicas: 3 }, step: 1 }));
      expect(Number(p.recommendation()!.target.cpuMillis)).to.be.greaterThan(16_000);
      expect(a).to.not.equal('reduce-cpu');
    });

    it('solves the canonical resource, replica and composite scenarios on the embedded simulator', async () => {
      const backend = await createBackend('embedded');
      for (const name of ['cpu-slight', 'mem-slight', 'replicas-over', 'replicas-under', 'composite']) {
        const s = canonicalScenario(name);
        const r = await runEpisode(
          episodeSpec({ workload: s.meta.workload, target: s.meta.target, maxSteps: 50, seed: 2 }),
          s.trace,
          vpaLikeFromParams({}),
          backend,
        );
        expect(r.solved, `${name}: ${r.history.map((h) => h.action).join(',')}`).to.equal(true);
      }
    });

    it('reads its parameters, and refuses unknown ones', () => {
      const p = vpaLikeFromParams({ mode: 'defaults', cpuUsage: '250m', memoryUsage: '1Gi', samples: '60' });
      expect(p.opts).to.deep.include({ mode: 'defaults', cpuUsageMillis: 250, memoryUsageBytes: 2 ** 30, samples: 60 });
      expect(() => vpaLikeFromParams({ mode: 'fast' })).to.throw(/mode must be one of time-scaled, defaults/);
      expect(() => vpaLikeFromParams({ percentile: '0.9' })).to.throw(/unknown parameter percentile/);
    });
  });
});
