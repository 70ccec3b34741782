// The defaults of an ArenaEpisode's spec, in one place. The CRD's OpenAPI defaults must equal these
// (test/unit/api/crd.test.ts checks it); toEpisodeSpec applies them to fields the API server did not default.
import { DEFAULT_STEPS } from '../arena/actions.js';
import { DEFAULT_NODE_POOL, type BackendName } from '../arena/backend.js';
import { DEFAULT_MAX_STEPS } from '../arena/episode.js';
import type { RewardMode } from '../arena/reward.js';
import { DEFAULT_SAFEGUARDS } from '../arena/safeguards.js';
import { TRACE_KEY } from './names.js';

export const EPISODE_DEFAULTS = {
  traceKey: TRACE_KEY,
  workloadKind: 'Deployment',
  workloadNamespace: 'default',
  policy: 'heuristic',
  seed: 0,
  rewardMode: 'shaped' satisfies RewardMode,
  stepPenalty: 0,
  maxSteps: DEFAULT_MAX_STEPS,
  stepDuration: '30s',
  backend: 'embedded' satisfies BackendName,
  cpuStep: DEFAULT_STEPS.cpu,
  memoryStep: DEFAULT_STEPS.memory,
  replicaStep: DEFAULT_STEPS.replicas,
  safeguards: DEFAULT_SAFEGUARDS,
  nodePool: DEFAULT_NODE_POOL,
} as const;
