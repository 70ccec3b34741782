import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EpsilonGreedyPolicy,
  epsilonGreedyFromParams,
  loadEpsilonGreedy,
  saveEpsilonGreedy,
} from '../../../src/agents/epsilon-greedy.js';
import { ctx, obs } from './helpers.js';

describe('agents: epsilon-greedy bandit', () => {
  it('keeps an incremental mean reward per action and exploits the best one', () => {
    const p = new EpsilonGreedyPolicy(0);
    const t = (action: 'scale-up' | 'reduce-cpu', reward: number) =>
      p.learn({ obs: obs(0, 0, 0), action, reward, next: obs(0, 0, 0), done: false, target: 3 });
    t('scale-up', 0.5);
    t('scale-up', -0.5);
    t('reduce-cpu', 0.25);
    expect(p.values[3]).to.equal(0);
    expect(p.counts[3]).to.equal(2);
    expect(p.values[4]).to.equal(0.25);
    // It ignores what it observes: the same action in any state.
    for (const o of [obs(0, 3, 3), obs(5, 0, 5), obs(1, 0, 1)])
      expect(p.decide(ctx({ obs: o }))).to.equal('reduce-cpu');
  });

  it('explores with probability ε using the step rng (reproducible)', () => {
    const p = new EpsilonGreedyPolicy(1);
    const a = Array.from({ length: 30 }, (_, seed) => p.decide(ctx({ obs: obs(0, 3, 3), seed })));
    const b = Array.from({ length: 30 }, (_, seed) => p.decide(ctx({ obs: obs(0, 3, 3), seed })));
    expect(a).to.deep.equal(b);
    expect(new Set(a).size).to.be.greaterThan(3);
  });

  it("saves the predecessor's checkpoint shape and loads it back", () => {
    const p = new EpsilonGreedyPolicy(0.2);
    p.learn({ obs: obs(0, 3, 3), action: 'reduce-mem', reward: 1, next: obs(3, 0, 3), done: true, target: 3 });
    expect(Object.keys(p.toJSON())).to.deep.equal(['n_actions', 'epsilon', 'counts', 'values', 'reward_history']);
    const file = join(mkdtempSync(join(tmpdir(), 'eg-')), 'eg.json');
    saveEpsilonGreedy(file, p);
    const back = loadEpsilonGreedy(file);
    expect(back.toJSON()).to.deep.equal({ ...p.toJSON() });
    expect(epsilonGreedyFromParams({ model: file }).epsilon, 'a loaded model is greedy').to.equal(0);
    expect(() => EpsilonGreedyPolicy.fromJSON({ n_actions: 4, counts: [], values: [] })).to.throw(
      /not an epsilon-greedy checkpoint/,
    );
    expect(() => epsilonGreedyFromParams({ epsilon: '2' })).to.throw(/epsilon must be a number from 0 to 1/);
  });
});
