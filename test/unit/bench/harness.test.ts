import { expect } from 'chai';
import { episodeSpec } from '../../../src/arena/episode.js';
import type { Policy, PolicyContext } from '../../../src/arena/policies.js';
import { heuristicPolicy } from '../../../src/arena/policies.js';
import { aggregate, episodeSeed, runBench, summarize, type EpisodeRecord } from '../../../src/bench/harness.js';
import { canonicalScenarios, type BenchScenario } from '../../../src/bench/scenarios.js';
import { createBackend } from '../../../src/sim/index.js';
import type { Backend } from '../../../src/arena/backend.js';

/** The heuristic, plus per-decision metadata that says what it saw (and a planted delay on chosen calls). */
class Reporting implements Policy {
  readonly name = 'reporting';
  calls = 0;
  private info: unknown;
  constructor(private readonly slowCall: number) {}
  async decide(ctx: PolicyContext) {
    this.calls++;
    if (this.calls === this.slowCall) await new Promise((r) => setTimeout(r, 40));
    this.info = { sawStep: ctx.step, sawObs: ctx.obs, call: this.calls };
    return heuristicPolicy.decide(ctx);
  }
  takeStepInfo() {
    const i = this.info;
    this.info = undefined;
    return i;
  }
}

const pick = (ids: string[]) =>
  canonicalScenarios()
    .filter((s) => ids.includes(s.name))
    .sort((a, b) => ids.indexOf(a.name) - ids.indexOf(b.name));
const spec = (s: BenchScenario, seed: number) =>
  episodeSpec({ workload: s.workload, target: s.target, maxSteps: 50, seed });

describe('bench: harness', () => {
  let backend: Backend;
  before(async () => {
    backend = await createBackend('embedded');
  });

  it("attributes every step's metrics to its own episode and step, across scenarios and an already-solved one", async () => {
    // One policy object shared by every episode, with a run-wide call counter, like the predecessor's LLM agent
    // (whose metadata list grew across the run while the index into it restarted each episode). Calls: cpu-slight
    // 1-2, healthy none (solved at the start, the policy is not asked), replicas-over 3-4, composite 5-10. Call 7
    // is slow: it must show up on composite's step 3 and nowhere else.
    const shared = new Reporting(7);
    const scenarios = pick(['cpu-slight', 'healthy', 'replicas-over', 'composite']);
    const eps = await runBench({
      policies: [{ name: 'reporting', make: () => shared }],
      scenarios,
      episodesPerScenario: 1,
      seed: 1,
      backend,
      spec,
    });
    expect(eps.map((e) => [e.name, e.stepsToSolve])).to.deep.equal([
      ['cpu-slight', 2],
      ['healthy', 0],
      ['replicas-over', 2],
      ['composite', 6],
    ]);
    const healthy = eps[1]!;
    expect(healthy.initiallySolved).to.equal(true);
    expect(healthy.history, 'the policy is never asked on a solved start').to.have.length(0);
    let call = 0;
    for (const e of eps) {
      for (const h of e.history) {
        call++;
        const info = h.info as { sawStep: number; sawObs: unknown; call: number };
        expect(info.sawStep, `${e.name} step ${h.step}`).to.equal(h.step);
        expect(info.sawObs, `${e.name} step ${h.step}`).to.deep.equal(h.observationBefore);
        expect(info.call).to.equal(call);
        if (call === 7) expect(h.decideMs, 'the slow call lands on its own step').to.be.at.least(35);
        else expect(h.decideMs, `${e.name} step ${h.step}`).to.be.below(30);
      }
    }
    expect(eps[3]!.history[2]!.decideMs).to.be.at.least(35); // composite step 3 = call 2 + 2 + 3
    // A step is solved on the observation after its action; the last step of each solved episode and no earlier.
    for (const e of eps.filter((x) => x.history.length))
      expect(e.history.map((h) => h.solved)).to.deep.equal(e.history.map((_, i) => i === e.history.length - 1));
  });

  it('records a failing episode with the steps it took, and carries on', async () => {
    let n = 0;
    const failing: Policy = {
      name: 'failing',
      decide(ctx) {
        if (ctx.step === 2) throw new Error(`agent unreachable (call ${++n})`);
        return heuristicPolicy.decide(ctx);
      },
    };
    const eps = await runBench({
      policies: [{ name: 'failing', make: () => failing }],
      scenarios: pick(['cpu-heavy', 'replicas-under']),
      episodesPerScenario: 1,
      seed: 1,
      backend,
      spec,
    });
    expect(eps).to.have.length(2);
    expect(eps[0]).to.deep.include({
      solved: false,
      steps: 1,
      error: 'agent unreachable (call 1)',
      stepsToSolve: null,
    });
    expect(eps[0]!.history.map((h) => h.action)).to.deep.equal(['reduce-cpu']);
    expect(eps[1]!.error).to.equal('agent unreachable (call 2)');
    expect(aggregate(eps)).to.deep.include({ episodes: 2, errors: 2, solved: 0, solveRate: 0 });
  });

  it('gives every policy the same episode seeds, independent of the other scenarios picked', () => {
    expect(episodeSeed(3, 'legacy:cpu-slight', 1)).to.equal(episodeSeed(3, 'legacy:cpu-slight', 1));
    expect(episodeSeed(3, 'legacy:cpu-slight', 1)).to.not.equal(episodeSeed(3, 'legacy:cpu-slight', 2));
    expect(episodeSeed(3, 'legacy:cpu-slight', 1)).to.not.equal(episodeSeed(3, 'canonical:cpu-slight', 1));
    expect(episodeSeed(3, 'legacy:cpu-slight', 1)).to.not.equal(episodeSeed(4, 'legacy:cpu-slight', 1));
  });

  it('aggregates per policy, problem type and scenario, and ranks by solve rate then steps then return', () => {
    const ep = (
      policy: string,
      scenario: string,
      problemType: EpisodeRecord['problemType'],
      solved: boolean,
      steps: number,
      ret: number,
      blocked = 0,
    ): EpisodeRecord => ({
      policy,
      scenario,
      name: scenario,
      source: 'canonical',
      problemType,
      target: 3,
      episode: 1,
      seed: 0,
      runSeed: 0,
      solved,
      initiallySolved: false,
      stepsToSolve: solved ? steps : null,
      steps,
      return: ret,
      blockedActions: blocked,
      actionCounts: {},
      initial: { observation: null, resources: null },
      final: { observation: null, resources: null },
      seconds: 0,
      history: [],
    });
    const eps = [
      ep('a', 's1', 'resource', true, 2, 0.5),
      ep('a', 's2', 'replicas', false, 10, -5, 3),
      ep('b', 's1', 'resource', true, 4, 0.1),
      ep('b', 's2', 'replicas', false, 10, -4),
      ep('c', 's1', 'resource', true, 2, 0.2),
      ep('c', 's2', 'replicas', true, 3, 0.4),
    ];
    const s = summarize(eps);
    expect(s.ranking).to.deep.equal(['c', 'a', 'b']);
    const { ci95, ...rest } = s.byPolicy.a!;
    expect(rest).to.deep.equal({
      episodes: 2,
      errors: 0,
      solved: 1,
      solveRate: 0.5,
      meanStepsToSolve: 2,
      meanSteps: 6,
      meanReturn: -2.25,
      scenarios: 2,
      seeds: 1,
      seedSd: 0,
      split: null,
      blockedActions: 3,
      meanBlocked: 1.5,
    });
    // t(1) × sd(0.5, -5) / √2
    expect(ci95).to.be.closeTo((12.706 * Math.sqrt(((0.5 + 2.25) ** 2 + (-5 + 2.25) ** 2) / 1)) / Math.SQRT2, 1e-9);
    expect(s.byPolicyAndProblem.a!.replicas).to.deep.include({ episodes: 1, solved: 0, meanStepsToSolve: null });
    expect(s.byPolicyAndScenario.c!.s2).to.deep.include({ solveRate: 1, meanStepsToSolve: 3 });
  });
});
