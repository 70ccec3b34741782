// Reward modes, with the predecessor's formulas. The reward of step k is scored on the observation taken
// after action k (the predecessor scored the observation before it, crediting the previous action).
import { cpuMillis, quantityUnits } from '../trace/quantity.js';
import { atTarget, type Observation, type WorkloadResources } from './observation.js';
import { resolveLimits, type Safeguards, DEFAULT_SAFEGUARDS } from './safeguards.js';
import { DEFAULT_RIGHTSIZING, rightsizingReward, type RightsizingPrices } from './usage/reward.js';

export const REWARD_MODES = ['binary', 'shaped', 'scale', 'cost-aware', 'max-punish', 'rightsizing'] as const;
export type RewardMode = (typeof REWARD_MODES)[number];

export interface RewardInput {
  obs: Observation;
  target: number;
  resources: WorkloadResources;
  blocked: boolean;
}

export interface RewardSettings {
  mode: RewardMode;
  /** cost-aware only: subtracted every step, even at the goal. */
  stepPenalty?: number;
  /** cost-aware only: subtracted when the action was blocked. */
  blockedPenalty?: number;
  /** Caps used by max-punish and cost-aware (default: the safeguards' caps). */
  safeguards?: Safeguards;
  /** rightsizing only: prices and penalties (default DEFAULT_RIGHTSIZING). */
  prices?: Partial<RightsizingPrices>;
}

const MODE_ALIASES: Record<string, RewardMode> = {
  base: 'binary',
  cost_aware_v2: 'cost-aware',
  'cost-aware-v2': 'cost-aware',
  max_punish: 'max-punish',
};

export function parseRewardMode(s: string): RewardMode {
  const k = s.trim().toLowerCase();
  if ((REWARD_MODES as readonly string[]).includes(k)) return k as RewardMode;
  const alias = MODE_ALIASES[k];
  if (alias) return alias;
  throw new RangeError(`unknown reward mode "${s}" (use one of ${REWARD_MODES.join(', ')})`);
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function binaryReward({ obs, target }: RewardInput): number {
  return atTarget(obs, target) ? 1 : 0;
}

export function shapedReward({ obs, target }: RewardInput): number {
  if (atTarget(obs, target)) return 1;
  let r = -0.1 * Math.abs(obs.ready - target) - 0.05 * obs.pending;
  if (obs.total > target) r -= 0.15 * (obs.total - target);
  else if (obs.total < target) r -= 0.08 * (target - obs.total);
  return clamp(r, -1, 1);
}

export function scaleReward({ obs, target }: RewardInput): number {
  if (atTarget(obs, target)) return 1;
  const t = Math.max(1, target);
  let r = (-0.02 * obs.pending) / t;
  if (obs.total > target) r -= 0.07 * (obs.total - target);
  else if (obs.total < target) r -= (0.03 * (target - obs.total)) / t;
  return clamp(r, -1, 1);
}

export function maxPunishReward(input: RewardInput, safeguards: Safeguards = DEFAULT_SAFEGUARDS): number {
  const l = resolveLimits(safeguards);
  let r = binaryReward(input);
  if (cpuMillis(input.resources.cpu) > l.maxCpuMillis) r -= 0.5;
  if (quantityUnits(input.resources.memory) > l.maxMemoryBytes) r -= 0.5;
  if (input.resources.replicas > l.maxReplicas) r -= 0.5;
  return r;
}

const REF_CPU_M = 500;
const REF_MEM_B = 256 * 1024 * 1024;

/** All negative except the goal, which is worth 0 (the predecessor's cost_aware_v2). */
export function costAwareReward(
  input: RewardInput,
  settings: Pick<RewardSettings, 'stepPenalty' | 'blockedPenalty' | 'safeguards'> = {},
): number {
  const { obs, target, resources } = input;
  const l = resolveLimits(settings.safeguards ?? DEFAULT_SAFEGUARDS);
  const T = Math.max(1, target);
  const readyFrac = clamp(obs.ready / T, 0, 1);
  const pendingFrac = clamp(obs.pending / T, 0, 1);
  const overshoot = Math.max(0, (obs.total - T) / T);
  const undershoot = Math.max(0, (T - obs.total) / T);
  const health = readyFrac ** 2 - 0.85 * pendingFrac - 0.75 * undershoot;

  const cpuM = Number(cpuMillis(resources.cpu));
  const memB = Number(quantityUnits(resources.memory));
  const capCpu = Math.max(REF_CPU_M + 1, Number(l.maxCpuMillis) / T);
  const capMem = Math.max(REF_MEM_B + 1, Number(l.maxMemoryBytes) / T);
  const cpuEx = Math.min(1, Math.max(0, cpuM - REF_CPU_M) / (capCpu - REF_CPU_M));
  const memEx = Math.min(1, Math.max(0, memB - REF_MEM_B) / (capMem - REF_MEM_B));
  const cost = 0.45 * cpuEx + 0.45 * memEx + 0.6 * Math.min(1, overshoot);

  const goal = atTarget(obs, target);
  const healthy = obs.ready >= T && obs.pending === 0;
  let r: number;
  if (goal) r = 0;
  else if (healthy) r = 0.9 - 0.6 * cost;
  else r = health - (obs.pending > 0 ? 0.08 : 0.12) * cost;
  if (!goal) r = Math.max(-1, r - 1);
  r = clamp(r, -1, 0);
  r -= settings.stepPenalty ?? 0;
  if (input.blocked) r -= settings.blockedPenalty ?? 0.12;
  return clamp(r, -1, 0);
}

export function computeReward(settings: RewardSettings, input: RewardInput): number {
  switch (settings.mode) {
    case 'binary':
      return binaryReward(input);
    case 'shaped':
      return shapedReward(input);
    case 'scale':
      return scaleReward(input);
    case 'max-punish':
      return maxPunishReward(input, settings.safeguards);
    case 'cost-aware':
      return costAwareReward(input, settings);
    case 'rightsizing':
      return rightsizingReward(input.obs, input.target, { ...DEFAULT_RIGHTSIZING, ...settings.prices });
  }
}
