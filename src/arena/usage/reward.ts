// The rightsizing reward: what a step of the workload costs, negated and divided by the target replica count.
//   cost = cpuPrice · slack cores + memoryPrice · slack GiB          (requests above mean usage, running pods)
//        + oomPenalty · OOM kills in the step's window
//        + throttlePenalty · throttled fraction · pods
//        + unreadyPenalty · (pods not Ready + replicas missing below the target)
// Scored at every step, the goal included. A worked example is in README "Usage and right-sizing".
import type { Observation } from '../observation.js';

export interface RightsizingPrices {
  /** Per slack core per step. */
  cpuPrice: number;
  /** Per slack GiB per step. */
  memoryPrice: number;
  oomPenalty: number;
  throttlePenalty: number;
  unreadyPenalty: number;
}

export const DEFAULT_RIGHTSIZING: RightsizingPrices = {
  cpuPrice: 0.02,
  memoryPrice: 0.01,
  oomPenalty: 0.5,
  throttlePenalty: 1,
  unreadyPenalty: 1,
};

const GIB = 1024 ** 3;

export function rightsizingCost(obs: Observation, target: number, p: RightsizingPrices = DEFAULT_RIGHTSIZING) {
  const slack = p.cpuPrice * (obs.slack?.cpu ?? 0) + (p.memoryPrice * (obs.slack?.memory ?? 0)) / GIB;
  const oom = p.oomPenalty * (obs.oomKills ?? 0);
  const throttle = p.throttlePenalty * (obs.throttling ?? 0) * obs.total;
  const unready = p.unreadyPenalty * (obs.total - obs.ready + Math.max(0, target - obs.total));
  return { slack, oom, throttle, unready, total: slack + oom + throttle + unready };
}

export function rightsizingReward(
  obs: Observation,
  target: number,
  p: RightsizingPrices = DEFAULT_RIGHTSIZING,
): number {
  return -rightsizingCost(obs, target, p).total / Math.max(1, target) || 0;
}
