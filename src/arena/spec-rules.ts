// The one set of rules every surface applies to an episode's settings: the CLI flags, the env server's create body,
// the ArenaEpisode spec (the CRD schema and CEL rules say the same, the operator checks again) and the Python client.
// Each rule names the field in the API's spelling; surfaces translate the name (the CLI to its flag).
import type { EpisodeSpec } from './episode.js';
import { cpuMillis, quantityUnits } from '../trace/quantity.js';

/** Seeds are JSON-safe integers (JavaScript numbers are exact up to 2^53 - 1). */
export const SEED_MIN = -Number.MAX_SAFE_INTEGER;
export const SEED_MAX = Number.MAX_SAFE_INTEGER;

/** Whole-number ranges, inclusive. */
export const INT_RANGES = {
  target: [0, 10_000],
  maxSteps: [1, 1_000_000],
  seed: [SEED_MIN, SEED_MAX],
  'actions.replicaStep': [1, 1000],
  'safeguards.maxReplicas': [0, 10_000],
  'safeguards.minReplicas': [0, 10_000],
  'nodePool.count': [1, 10_000],
  'nodePool.pods': [1, 10_000],
  durationSeconds: [1, 7 * 24 * 3600],
} as const;

export type SpecField =
  | keyof typeof INT_RANGES
  | 'reward.stepPenalty'
  | 'actions.cpuStep'
  | 'actions.memoryStep'
  | 'safeguards.maxCpu'
  | 'safeguards.minCpu'
  | 'safeguards.maxMemory'
  | 'safeguards.minMemory'
  | 'nodePool.cpu'
  | 'nodePool.memory';

/** The CLI flag for each field. */
export const FLAG_OF: Record<SpecField, string> = {
  target: '--target',
  maxSteps: '--steps',
  seed: '--seed',
  durationSeconds: '--duration',
  'reward.stepPenalty': '--step-penalty',
  'actions.cpuStep': '--cpu-step',
  'actions.memoryStep': '--mem-step',
  'actions.replicaStep': '--replica-step',
  'safeguards.maxCpu': '--max-cpu',
  'safeguards.minCpu': '--min-cpu',
  'safeguards.maxMemory': '--max-mem',
  'safeguards.minMemory': '--min-mem',
  'safeguards.maxReplicas': '--max-replicas',
  'safeguards.minReplicas': '--min-replicas',
  'nodePool.count': '--nodes',
  'nodePool.cpu': '--node-cpu',
  'nodePool.memory': '--node-mem',
  'nodePool.pods': '--node-pods',
};

export const STEP_PENALTY_MAX = 1000;

export interface SpecProblem {
  field: SpecField;
  /** What is wrong and what is allowed, without the field name ("must be above 0, got 0"). */
  problem: string;
}

/** A spec that breaks a rule. `field` is the first broken field; the message names it as the surface spells it. */
export class SpecRuleError extends RangeError {
  override name = 'SpecRuleError';
  constructor(
    readonly field: SpecField,
    message: string,
  ) {
    super(message);
  }
}

function intProblem(field: keyof typeof INT_RANGES, v: number | undefined): SpecProblem | undefined {
  if (v === undefined) return undefined;
  const [min, max] = INT_RANGES[field];
  if (!Number.isSafeInteger(v) || v < min || v > max)
    return { field, problem: `must be a whole number from ${min} to ${max}, got ${String(v)}` };
  return undefined;
}

/** Every rule the spec breaks (empty when it is valid). Quantities are already canonical (parsed) strings. */
export function specProblems(spec: EpisodeSpec): SpecProblem[] {
  const out: SpecProblem[] = [];
  const push = (p: SpecProblem | undefined) => p && out.push(p);
  push(intProblem('target', spec.target));
  push(intProblem('maxSteps', spec.maxSteps));
  push(intProblem('seed', spec.seed));
  const d = spec.durationSeconds;
  // Fractions are fine here (the operator's stepDuration may be "500ms"); surfaces that take whole seconds say so.
  if (d !== undefined && (!Number.isFinite(d) || d <= 0 || d > INT_RANGES.durationSeconds[1]))
    out.push({
      field: 'durationSeconds',
      problem: `must be above 0 and at most ${INT_RANGES.durationSeconds[1]} seconds, got ${String(d)}`,
    });
  const pen = spec.reward.stepPenalty;
  if (pen !== undefined && (!Number.isFinite(pen) || pen < 0 || pen > STEP_PENALTY_MAX))
    out.push({
      field: 'reward.stepPenalty',
      problem: `must be a number from 0 to ${STEP_PENALTY_MAX}, got ${String(pen)}`,
    });
  const { steps, safeguards: sg } = spec.actions;
  const positiveCpu = (field: SpecField, q: string) => {
    if (cpuMillis(q) <= 0n) out.push({ field, problem: `must be above 0 (at least 1m), got ${q}` });
  };
  const positiveBytes = (field: SpecField, q: string) => {
    if (quantityUnits(q) <= 0n) out.push({ field, problem: `must be above 0 (at least 1 byte), got ${q}` });
  };
  const notNegativeCpu = (field: SpecField, q: string) => {
    if (cpuMillis(q) < 0n) out.push({ field, problem: `must not be negative, got ${q}` });
  };
  const notNegativeBytes = (field: SpecField, q: string) => {
    if (quantityUnits(q) < 0n) out.push({ field, problem: `must not be negative, got ${q}` });
  };
  positiveCpu('actions.cpuStep', steps.cpu);
  positiveBytes('actions.memoryStep', steps.memory);
  push(intProblem('actions.replicaStep', steps.replicas));
  positiveCpu('safeguards.maxCpu', sg.maxCpu);
  positiveBytes('safeguards.maxMemory', sg.maxMemory);
  notNegativeCpu('safeguards.minCpu', sg.minCpu);
  notNegativeBytes('safeguards.minMemory', sg.minMemory);
  push(intProblem('safeguards.maxReplicas', sg.maxReplicas));
  push(intProblem('safeguards.minReplicas', sg.minReplicas));
  if (cpuMillis(sg.minCpu) > cpuMillis(sg.maxCpu))
    out.push({
      field: 'safeguards.minCpu',
      problem: `(${sg.minCpu}) must not be above safeguards.maxCpu (${sg.maxCpu})`,
    });
  if (quantityUnits(sg.minMemory) > quantityUnits(sg.maxMemory))
    out.push({
      field: 'safeguards.minMemory',
      problem: `(${sg.minMemory}) must not be above safeguards.maxMemory (${sg.maxMemory})`,
    });
  if (sg.minReplicas > sg.maxReplicas)
    out.push({
      field: 'safeguards.minReplicas',
      problem: `(${sg.minReplicas}) must not be above safeguards.maxReplicas (${sg.maxReplicas})`,
    });
  const np = spec.nodePool;
  push(intProblem('nodePool.count', np.count));
  positiveCpu('nodePool.cpu', np.cpu);
  positiveBytes('nodePool.memory', np.memory);
  push(intProblem('nodePool.pods', np.pods));
  return out;
}

/**
 * Throw a SpecRuleError for the first broken rule. `name` spells a field for the surface (default: the API field,
 * prefixed by `prefix`, e.g. "spec." for the operator).
 */
export function checkEpisodeSpec(spec: EpisodeSpec, name: (field: SpecField) => string = (f) => f): EpisodeSpec {
  const [first] = specProblems(spec);
  if (first) {
    // Rules comparing two fields name the other one in the API's spelling; translate it too.
    const problem = first.problem.replace(/safeguards\.max(Cpu|Memory|Replicas)/, (m) => name(m as SpecField));
    throw new SpecRuleError(first.field, `${name(first.field)} ${problem}`);
  }
  return spec;
}

/** The CLI's spelling of a field (its flag). */
export const flagName = (field: SpecField) => FLAG_OF[field];
