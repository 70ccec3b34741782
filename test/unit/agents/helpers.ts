// Helpers for the agent tests: policy contexts without a trace, and the embedded backend.
import { DEFAULT_ACTION_SETTINGS } from '../../../src/arena/actions.js';
import type { Observation, WorkloadResources } from '../../../src/arena/observation.js';
import type { PolicyContext } from '../../../src/arena/policies.js';
import { mulberry32 } from '../../../src/util/rng.js';
import { cpuMillis, quantityUnits } from '../../../src/trace/quantity.js';

export function ctx(p: {
  obs: Observation;
  target?: number;
  resources?: Partial<WorkloadResources>;
  step?: number;
  maxSteps?: number;
  node?: { cpu: string; memory: string };
  seed?: number;
}): PolicyContext {
  const node = p.node ?? { cpu: '16', memory: '32Gi' };
  return {
    obs: p.obs,
    target: p.target ?? 3,
    resources: { cpu: '500m', memory: '512Mi', replicas: 3, ...(p.resources ?? {}) },
    step: p.step ?? 1,
    maxSteps: p.maxSteps ?? 10,
    largestNode: { cpuMillis: cpuMillis(node.cpu), memoryBytes: quantityUnits(node.memory) },
    nodeCount: 3,
    settings: DEFAULT_ACTION_SETTINGS,
    rng: mulberry32(p.seed ?? 1),
  };
}

export const obs = (ready: number, pending: number, total: number): Observation => ({ ready, pending, total });
