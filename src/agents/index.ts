// The learned, baseline and external policies, registered into the arena's policy registry.
import { registerPolicy } from '../arena/policies.js';
import { epsilonGreedyFromParams } from './epsilon-greedy.js';
import { externalFromParams } from './external.js';
import { qTableFromParams } from './q-table.js';
import { vpaLikeFromParams } from './vpa-like.js';

export const AGENT_POLICIES = ['q-table', 'epsilon-greedy', 'vpa-like', 'external'] as const;

let registered = false;

/** Make q-table, epsilon-greedy, vpa-like and external available to getPolicy(). Safe to call more than once. */
export function registerAgents(): void {
  if (registered) return;
  registered = true;
  registerPolicy('q-table', qTableFromParams);
  registerPolicy('epsilon-greedy', epsilonGreedyFromParams);
  registerPolicy('vpa-like', vpaLikeFromParams);
  registerPolicy('external', externalFromParams);
}

export {
  QTablePolicy,
  loadQTable,
  saveQTable,
  serializeQTable,
  parseQTable,
  qTableConfigMap,
  qTableFromConfigMap,
} from './q-table.js';
export { EpsilonGreedyPolicy } from './epsilon-greedy.js';
export { VpaLikePolicy } from './vpa-like.js';
export { ExternalPolicy, ExternalPolicyError } from './external.js';
