// Reward modes against the predecessor's formulas and worked examples (sim-arena-reference.md §4).
import { expect } from 'chai';
import type { Observation, WorkloadResources } from '../../../src/arena/observation.js';
import { atTarget, formatObservation } from '../../../src/arena/observation.js';
import {
  binaryReward,
  computeReward,
  costAwareReward,
  maxPunishReward,
  parseRewardMode,
  REWARD_MODES,
  scaleReward,
  shapedReward,
  type RewardInput,
  type RewardMode,
} from '../../../src/arena/reward.js';
import { DEFAULT_SAFEGUARDS } from '../../../src/arena/safeguards.js';

const obs = (ready: number, pending: number, total: number): Observation => ({ ready, pending, total });
const std: WorkloadResources = { cpu: '500m', memory: '512Mi', replicas: 3 };
const input = (o: Observation, target = 3, resources: WorkloadResources = std, blocked = false): RewardInput => ({
  obs: o,
  target,
  resources,
  blocked,
});
const r4 = (x: number) => Math.round(x * 10000) / 10000;

describe('rewards', () => {
  it('goal means ready == total == target and nothing pending', () => {
    expect(atTarget(obs(3, 0, 3), 3)).to.equal(true);
    expect(atTarget(obs(3, 1, 4), 3)).to.equal(false);
    expect(atTarget(obs(3, 0, 4), 3)).to.equal(false);
    expect(atTarget(obs(2, 0, 3), 3)).to.equal(false);
    expect(atTarget(obs(0, 0, 0), 0)).to.equal(true);
    expect(formatObservation(obs(1, 2, 3))).to.equal('1 ready / 2 pending / 3 total');
  });

  describe('binary (base)', () => {
    it('1 at the goal, 0 otherwise', () => {
      expect(binaryReward(input(obs(3, 0, 3)))).to.equal(1);
      expect(binaryReward(input(obs(0, 3, 3)))).to.equal(0);
      expect(binaryReward(input(obs(5, 0, 5)))).to.equal(0);
    });
  });

  describe('shaped', () => {
    it('worked examples with T=3: 0/3/3 → -0.45, 0/0/0 → -0.54, 5/0/5 → -0.5', () => {
      expect(r4(shapedReward(input(obs(0, 3, 3))))).to.equal(-0.45);
      expect(r4(shapedReward(input(obs(0, 0, 0))))).to.equal(-0.54);
      expect(r4(shapedReward(input(obs(5, 0, 5))))).to.equal(-0.5);
    });

    it('1 at the goal', () => {
      expect(shapedReward(input(obs(3, 0, 3)))).to.equal(1);
    });

    it('other points of the formula', () => {
      // 2/0/2: -0.1*1 - 0.08*1 = -0.18; 3/1/4: -0 - 0.05 - 0.15 = -0.2
      expect(r4(shapedReward(input(obs(2, 0, 2))))).to.equal(-0.18);
      expect(r4(shapedReward(input(obs(3, 1, 4))))).to.equal(-0.2);
    });

    it('is clamped to -1', () => {
      // 0/20/20 with T=3: -0.3 - 1.0 - 2.55 = -3.85 → -1
      expect(shapedReward(input(obs(0, 20, 20)))).to.equal(-1);
    });
  });

  describe('scale', () => {
    it('follows −0.02·pending/T, −0.07·over, −0.03·under/T', () => {
      expect(r4(scaleReward(input(obs(0, 0, 0))))).to.equal(-0.03);
      expect(r4(scaleReward(input(obs(5, 0, 5))))).to.equal(-0.14);
      expect(r4(scaleReward(input(obs(0, 3, 3))))).to.equal(-0.02);
      expect(r4(scaleReward(input(obs(2, 2, 4), 4)))).to.equal(-0.01);
      expect(scaleReward(input(obs(3, 0, 3)))).to.equal(1);
    });

    it('is clamped to -1', () => {
      expect(scaleReward(input(obs(0, 0, 50)))).to.equal(-1);
    });

    it('T=0 divides by 1', () => {
      expect(r4(scaleReward(input(obs(0, 2, 2), 0)))).to.equal(r4(-0.04 - 0.14));
    });
  });

  describe('max-punish', () => {
    it('33Gi memory not at the goal → -0.5', () => {
      expect(maxPunishReward(input(obs(0, 3, 3), 3, { cpu: '500m', memory: '33Gi', replicas: 3 }))).to.equal(-0.5);
    });

    it('33Gi at the goal → 0.5; every cap exceeded → -1.5', () => {
      expect(maxPunishReward(input(obs(3, 0, 3), 3, { cpu: '500m', memory: '33Gi', replicas: 3 }))).to.equal(0.5);
      expect(maxPunishReward(input(obs(0, 3, 3), 3, { cpu: '17000m', memory: '33Gi', replicas: 101 }))).to.equal(-1.5);
    });

    it('exactly at the caps is not punished', () => {
      expect(maxPunishReward(input(obs(3, 0, 3), 3, { cpu: '16', memory: '32Gi', replicas: 100 }))).to.equal(1);
      expect(maxPunishReward(input(obs(3, 0, 3), 3, { cpu: '16001m', memory: '32Gi', replicas: 100 }))).to.equal(0.5);
    });

    it('uses custom caps when given', () => {
      expect(
        maxPunishReward(input(obs(3, 0, 3), 3, { cpu: '5', memory: '1Gi', replicas: 3 }), {
          ...DEFAULT_SAFEGUARDS,
          maxCpu: '4',
        }),
      ).to.equal(0.5);
    });
  });

  describe('cost-aware (cost_aware_v2)', () => {
    it('worked examples with T=3: 0/3/3 → -1.0, 5/0/5 at 500m/512Mi → -0.3465, 2/0/2 → -0.8069', () => {
      expect(r4(costAwareReward(input(obs(0, 3, 3))))).to.equal(-1);
      expect(r4(costAwareReward(input(obs(5, 0, 5), 3, { cpu: '500m', memory: '512Mi', replicas: 5 })))).to.equal(
        -0.3465,
      );
      expect(r4(costAwareReward(input(obs(2, 0, 2), 3, { cpu: '500m', memory: '512Mi', replicas: 2 })))).to.equal(
        -0.8069,
      );
    });

    it('the goal is worth 0 and everything else is negative', () => {
      expect(costAwareReward(input(obs(3, 0, 3)))).to.equal(0);
      for (const o of [obs(0, 0, 0), obs(3, 0, 4), obs(2, 1, 3), obs(3, 0, 3 + 100)])
        expect(costAwareReward(input(o))).to.be.lessThan(0);
    });

    it('the goal ignores cost (requests far above the reference still give 0)', () => {
      expect(costAwareReward(input(obs(3, 0, 3), 3, { cpu: '16', memory: '32Gi', replicas: 3 }))).to.equal(0);
    });

    it('a healthy state with overshoot: 0.9 - 0.6·cost - 1', () => {
      // 4/0/4, T=3, at the reference sizes: cost = 0.6 * 1/3 = 0.2 → 0.9 - 0.12 - 1 = -0.22
      expect(r4(costAwareReward(input(obs(4, 0, 4), 3, { cpu: '500m', memory: '256Mi', replicas: 4 })))).to.equal(
        -0.22,
      );
      // bigger requests cost more: cpu at cap_cpu = 16000/3 → cpu_ex = 1 → cost = 0.45 + 0.2 → -0.49
      expect(r4(costAwareReward(input(obs(4, 0, 4), 3, { cpu: '16', memory: '256Mi', replicas: 4 })))).to.equal(-0.49);
    });

    it('stepPenalty is subtracted every step, even at the goal, and the result is clamped to -1', () => {
      expect(costAwareReward(input(obs(3, 0, 3)), { stepPenalty: 0.05 })).to.equal(-0.05);
      expect(costAwareReward(input(obs(3, 0, 3)), { stepPenalty: 2 })).to.equal(-1);
      expect(
        r4(
          costAwareReward(input(obs(4, 0, 4), 3, { cpu: '500m', memory: '256Mi', replicas: 4 }), { stepPenalty: 0.1 }),
        ),
      ).to.equal(-0.32);
    });

    it('a blocked action costs 0.12 by default, or the configured blockedPenalty', () => {
      expect(r4(costAwareReward(input(obs(3, 0, 3), 3, std, true)))).to.equal(-0.12);
      expect(r4(costAwareReward(input(obs(3, 0, 3), 3, std, true), { blockedPenalty: 0.3 }))).to.equal(-0.3);
      expect(r4(costAwareReward(input(obs(4, 0, 4), 3, { cpu: '500m', memory: '256Mi', replicas: 4 }, true)))).to.equal(
        -0.34,
      );
      expect(costAwareReward(input(obs(0, 3, 3), 3, std, true))).to.equal(-1);
    });

    it('T=0 uses T′=1', () => {
      // 0/0/0 with target 0 is the goal.
      expect(costAwareReward(input(obs(0, 0, 0), 0))).to.equal(0);
      // 1/0/1 with target 0: healthy (ready 1 ≥ T′ = 1), overshoot 0 → cost 0 (reference sizes) → 0.9 - 1 = -0.1
      expect(r4(costAwareReward(input(obs(1, 0, 1), 0, { cpu: '500m', memory: '256Mi', replicas: 1 })))).to.equal(-0.1);
    });
  });

  describe('computeReward and mode names', () => {
    it('dispatches every mode', () => {
      const o = input(obs(5, 0, 5), 3, { cpu: '500m', memory: '512Mi', replicas: 5 });
      const expected: Record<RewardMode, number> = {
        binary: 0,
        shaped: -0.5,
        scale: -0.14,
        'cost-aware': -0.3465,
        'max-punish': 0,
        rightsizing: 0,
      };
      for (const mode of REWARD_MODES) expect(r4(computeReward({ mode }, o)), mode).to.equal(expected[mode]);
    });

    it('goal values: 1 for binary, shaped, scale and max-punish; 0 for cost-aware and rightsizing without usage', () => {
      const g = input(obs(3, 0, 3));
      expect(REWARD_MODES.map((mode) => computeReward({ mode }, g))).to.deep.equal([1, 1, 1, 0, 1, 0]);
    });

    it('computeReward passes stepPenalty and safeguards through', () => {
      expect(computeReward({ mode: 'cost-aware', stepPenalty: 0.25 }, input(obs(3, 0, 3)))).to.equal(-0.25);
      expect(
        computeReward(
          { mode: 'max-punish', safeguards: { ...DEFAULT_SAFEGUARDS, maxReplicas: 2 } },
          input(obs(3, 0, 3)),
        ),
      ).to.equal(0.5);
    });

    it('parseRewardMode accepts our names and the predecessor registry names', () => {
      for (const m of REWARD_MODES) expect(parseRewardMode(m)).to.equal(m);
      expect(parseRewardMode('base')).to.equal('binary');
      expect(parseRewardMode('cost_aware_v2')).to.equal('cost-aware');
      expect(parseRewardMode('max_punish')).to.equal('max-punish');
      expect(parseRewardMode(' Shaped ')).to.equal('shaped');
      expect(() => parseRewardMode('nope')).to.throw(RangeError, /binary, shaped, scale, cost-aware, max-punish/);
    });
  });
});
