import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResources } from '../../../src/arena/actions.js';
import {
  defaultLegacyDir,
  generatedScenarios,
  legacyScenarios,
  loadRegistry,
  selectScenarios,
} from '../../../src/bench/scenarios.js';
import { encodeTrace } from '../../../src/trace/trace.js';

const legacyDir = defaultLegacyDir();

describe('bench: scenario registry', () => {
  before(function () {
    if (!legacyDir) {
      console.log(
        "      (skipped: the predecessor's fixtures are not at ../shared/fixtures/legacy-sim-arena; set SIM_ARENA_LEGACY_DIR)",
      );
      this.skip();
    }
  });

  it("holds the predecessor's 12 scenarios, traces mapped to the fixture files, targets from its index", () => {
    const index = JSON.parse(readFileSync(join(legacyDir!, 'scenarios-index.json'), 'utf8')) as {
      scenarios: Array<{ name: string; trace: string; target: number; problem_type: string }>;
    };
    const legacy = legacyScenarios(legacyDir!);
    expect(legacy.map((s) => s.name)).to.deep.equal(index.scenarios.map((s) => s.name));
    expect(legacy).to.have.length(12);
    for (const [i, s] of legacy.entries()) {
      const e = index.scenarios[i]!;
      expect(s.id).to.equal(`legacy:${e.name}`);
      expect(s.target).to.equal(e.target);
      expect(s.legacyProblemType).to.equal(e.problem_type);
      expect(s.origin).to.equal(join(legacyDir!, e.trace.replace(/^demo\//, '')));
    }
    const byName = Object.fromEntries(legacy.map((s) => [s.name, s]));
    // Three scenarios share trace-0001 with different targets.
    expect([
      byName['replica-tiny-scale']!.target,
      byName['replica-small-scale']!.target,
      byName['replica-medium-scale']!.target,
    ]).to.deep.equal([3, 5, 10]);
    expect(readResources(byName['cpu-mem-both']!.trace(), byName['cpu-mem-both']!.workload)).to.deep.equal({
      cpu: '17',
      memory: '33Gi',
      replicas: 3,
      effectiveCpu: '17',
      effectiveMemory: '33Gi',
    });
    expect(byName['mem-slight']!.problemType).to.equal('resource');
    expect(byName['scale-up']!.problemType).to.equal('replicas');
    expect(byName['baseline-dev']!.problemType).to.equal('baseline');
  });

  it('hands out independent copies of each trace (episodes change traces in place)', () => {
    const s = legacyScenarios(legacyDir!).find((x) => x.name === 'cpu-slight')!;
    const a = s.trace();
    const b = s.trace();
    expect(a).to.not.equal(b);
    (a.get('events') as unknown[]).length = 0;
    expect(Buffer.from(encodeTrace(b))).to.deep.equal(Buffer.from(encodeTrace(s.trace())));
  });

  it('has 21 scenarios with the canonical ones, and selects by set, id or bare name', () => {
    const reg = loadRegistry({ generated: 4, generatedSeed: 3 });
    expect(reg.legacyDir).to.equal(legacyDir);
    const all = selectScenarios(reg.scenarios, 'all');
    expect(all).to.have.length(21);
    expect(all.filter((s) => s.source === 'canonical')).to.have.length(9);
    expect(selectScenarios(reg.scenarios, 'generated')).to.have.length(4);
    expect(selectScenarios(reg.scenarios, 'cpu-slight').map((s) => s.id)).to.deep.equal([
      'legacy:cpu-slight',
      'canonical:cpu-slight',
    ]);
    expect(selectScenarios(reg.scenarios, 'canonical:composite,legacy:scale-up').map((s) => s.id)).to.deep.equal([
      'canonical:composite',
      'legacy:scale-up',
    ]);
    expect(selectScenarios(reg.scenarios, 'all', ['canonical'])).to.have.length(9);
    expect(() => selectScenarios(reg.scenarios, 'nope')).to.throw(/no scenario "nope" \(known: all, legacy, canonical/);
    expect(generatedScenarios(2, 3).map((s) => s.id)).to.deep.equal(
      reg.scenarios
        .filter((s) => s.source === 'generated')
        .slice(0, 2)
        .map((s) => s.id),
    );
    expect(() => loadRegistry({ legacyDir: '/nonexistent' })).to.throw(/has no scenarios-index.json/);
    expect(loadRegistry({ legacyDir: null }).scenarios).to.have.length(9);
  });
});
