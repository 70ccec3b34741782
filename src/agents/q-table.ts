// Tabular Q-learning with ε-greedy exploration over the discrete state of state.ts.
//
// The arena hands a learner (obs, action, reward, next obs, done) but not the requests after the action, and the
// state needs those (does the CPU request fit a node?). So the update for step k waits for the next decide(), whose
// context gives the exact next state: Q(s,a) += α·(r + γ·max Q(s') − Q(s,a)). A transition that ends the episode at
// the target is terminal (no bootstrap). One that ends it at maxSteps without reaching the target is truncated, not
// terminal: it bootstraps from the next state built from the next observation and the request-vs-node levels seen
// before the action (exact unless that action moved a request across a level boundary).
//
// ε decays once per finished episode: ε ← max(εmin, ε·decay) (defaults: from 1 to 0.05 in about 3000 episodes).
//
// Potential-based shaping (Ng, Harada & Russell 1999). The state buckets how far a request is above the largest
// node, so a long run of reductions mostly stays in one state, where "reduce" and "do nothing" look alike to plain
// Q-learning and a 32-step fix is never found by exploring. The learner therefore adds F = γΦ(s′) − Φ(s) to the
// arena's reward, with Φ = −shaping × (steps by which the CPU and memory requests exceed the largest node). Shaping
// of this form leaves the optimal policy unchanged; it only makes progress visible. shaping=0 turns it off.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ACTIONS, actionIndex, type ActionType } from '../arena/actions.js';
import { atTarget } from '../arena/observation.js';
import type { Policy, PolicyContext, Transition } from '../arena/policies.js';
import { randomInt } from '../util/rng.js';
import { ParamReader, type Params } from './params.js';
import { discretize, excessSteps, isStateKey, observationState, STATE_FEATURES, stateKey, type Fit } from './state.js';
import { MANAGED_BY, MODEL_LABEL } from '../api/names.js';

export const Q_TABLE_KIND = 'sim-arena/q-table';
export const Q_TABLE_VERSION = 2;
export const Q_TABLE_CONFIGMAP_KEY = 'q-table.json';

export interface QTableHyperparameters {
  /** learning rate */
  alpha: number;
  /** discount */
  gamma: number;
  /** current exploration rate */
  epsilon: number;
  epsilonMin: number;
  /** multiplied into ε after each finished episode */
  epsilonDecay: number;
  /** weight of the potential-based shaping term (0: learn from the arena's reward alone) */
  shaping: number;
}

export const DEFAULT_Q_HYPERPARAMETERS: QTableHyperparameters = {
  alpha: 0.5,
  gamma: 0.9,
  epsilon: 1,
  epsilonMin: 0.05,
  epsilonDecay: 0.999,
  shaping: 0.1,
};

/** The saved form (a JSON file, or the value of a ConfigMap key). */
export interface QTableJson {
  kind: typeof Q_TABLE_KIND;
  version: number;
  actions: string[];
  features: string[];
  hyperparameters: QTableHyperparameters;
  episodes: number;
  updates: number;
  /** state key → one value per action, in ACTIONS order */
  table: Record<string, number[]>;
  /** state key → how often each action was updated there */
  visits: Record<string, number[]>;
}

interface Pending {
  key: string;
  action: number;
  reward: number;
  /** Φ of the state the action was taken in */
  phi: number;
  /** the step whose decide() completes this update */
  nextStep: number;
}

const N = ACTIONS.length;

export class QTablePolicy implements Policy {
  readonly name = 'q-table';
  readonly table = new Map<string, number[]>();
  readonly visits = new Map<string, number[]>();
  hp: QTableHyperparameters;
  /** When frozen the table is read, never written (evaluation). */
  frozen: boolean;
  episodes = 0;
  updates = 0;
  private last: { key: string; action: number; step: number; cpu: Fit; mem: Fit; phi: number } | undefined;
  private pending: Pending | undefined;

  constructor(hp: Partial<QTableHyperparameters> = {}, opts: { frozen?: boolean } = {}) {
    this.hp = { ...DEFAULT_Q_HYPERPARAMETERS, ...hp };
    // Decay never raises ε: a floor above the starting ε (e.g. epsilon 0 to act greedily) comes down to it.
    if (this.hp.epsilonMin > this.hp.epsilon) this.hp.epsilonMin = this.hp.epsilon;
    checkHyperparameters(this.hp);
    this.frozen = opts.frozen ?? false;
  }

  values(key: string): number[] {
    let v = this.table.get(key);
    if (!v) {
      v = new Array<number>(N).fill(0);
      this.table.set(key, v);
    }
    return v;
  }

  /** The greedy action's index for a state; ties go to `rng` when given, else to the lowest index. */
  greedy(key: string, rng?: () => number, blocked: readonly ActionType[] = []): number {
    const v = this.table.get(key) ?? new Array<number>(N).fill(0);
    // Actions blocked on this trace are never picked again (noop never is blocked).
    const open = (i: number) => !blocked.includes(ACTIONS[i]!);
    const best = Math.max(...v.filter((_, i) => open(i)));
    const ties = v.flatMap((q, i) => (q >= best - 1e-12 && open(i) ? [i] : []));
    return ties.length === 1 || !rng ? ties[0]! : ties[randomInt(rng, ties.length)]!;
  }

  decide(ctx: PolicyContext): ActionType {
    const s = discretize(ctx);
    const key = stateKey(s);
    const phi = this.potential(ctx);
    if (this.pending) {
      // Only the step right after the pending one may complete it; anything else is a new episode.
      const p = this.pending;
      if (p.nextStep === ctx.step && !this.frozen)
        this.update(p.key, p.action, p.reward + this.hp.gamma * phi - p.phi, key);
      this.pending = undefined;
    }
    const explore = this.hp.epsilon > 0 && ctx.rng() < this.hp.epsilon;
    const blocked = ctx.blocked ?? [];
    const allowed = ACTIONS.flatMap((x, i) => (blocked.includes(x) ? [] : [i]));
    const a = explore ? allowed[randomInt(ctx.rng, allowed.length)]! : this.greedy(key, ctx.rng, blocked);
    this.last = { key, action: a, step: ctx.step, cpu: s.cpu, mem: s.mem, phi };
    return ACTIONS[a]!;
  }

  learn(t: Transition): void {
    const last = this.last;
    this.last = undefined;
    if (!last) return;
    const a = actionIndex(t.action);
    if (!this.frozen) {
      if (!t.done)
        this.pending = { key: last.key, action: a, reward: t.reward, phi: last.phi, nextStep: last.step + 1 };
      else if (atTarget(t.next, t.target)) this.update(last.key, a, t.reward - last.phi, null);
      else
        this.update(
          last.key,
          a,
          t.reward + (this.hp.gamma - 1) * last.phi,
          stateKey(observationState(t.next, t.target, last.cpu, last.mem)),
        );
    }
    if (t.done) this.endEpisode();
  }

  /** The shaping potential Φ = −shaping × (steps by which CPU and memory requests exceed the largest node). */
  potential(ctx: Pick<PolicyContext, 'resources' | 'largestNode' | 'settings'>): number {
    if (!this.hp.shaping) return 0;
    const k = excessSteps(ctx);
    return -this.hp.shaping * (k.cpu + k.mem);
  }

  /** One Q-learning update (the reward already shaped); `next` null means terminal. */
  update(key: string, action: number, reward: number, next: string | null): void {
    const q = this.values(key);
    const future = next === null ? 0 : Math.max(...(this.table.get(next) ?? [0]));
    q[action] = q[action]! + this.hp.alpha * (reward + this.hp.gamma * future - q[action]!);
    const v = this.visits.get(key) ?? new Array<number>(N).fill(0);
    v[action] = v[action]! + 1;
    this.visits.set(key, v);
    this.updates++;
  }

  endEpisode(): void {
    this.pending = undefined;
    this.last = undefined;
    if (this.frozen) return;
    this.episodes++;
    this.hp.epsilon = Math.max(this.hp.epsilonMin, this.hp.epsilon * this.hp.epsilonDecay);
  }

  toJSON(): QTableJson {
    const sorted = [...this.table.keys()].sort();
    return {
      kind: Q_TABLE_KIND,
      version: Q_TABLE_VERSION,
      actions: [...ACTIONS],
      features: [...STATE_FEATURES],
      hyperparameters: { ...this.hp },
      episodes: this.episodes,
      updates: this.updates,
      table: Object.fromEntries(sorted.map((k) => [k, this.table.get(k)!.map(round6)])),
      visits: Object.fromEntries(sorted.filter((k) => this.visits.has(k)).map((k) => [k, [...this.visits.get(k)!]])),
    };
  }

  /** A table from its saved form; `overrides` replace saved hyperparameters (e.g. epsilon 0 to act greedily). */
  static fromJSON(
    json: unknown,
    overrides: Partial<QTableHyperparameters> = {},
    opts: { frozen?: boolean } = {},
  ): QTablePolicy {
    const j = validateQTableJson(json);
    const p = new QTablePolicy({ ...j.hyperparameters, ...overrides }, opts);
    for (const [k, v] of Object.entries(j.table)) p.table.set(k, [...v]);
    for (const [k, v] of Object.entries(j.visits ?? {})) p.visits.set(k, [...v]);
    p.episodes = j.episodes;
    p.updates = j.updates;
    return p;
  }
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function checkHyperparameters(hp: QTableHyperparameters): void {
  const bad = (what: string) => {
    throw new RangeError(`q-table: ${what}`);
  };
  if (!(hp.alpha > 0 && hp.alpha <= 1)) bad(`alpha must be in (0, 1], got ${hp.alpha}`);
  if (!(hp.gamma >= 0 && hp.gamma <= 1)) bad(`gamma must be in [0, 1], got ${hp.gamma}`);
  if (!(hp.epsilon >= 0 && hp.epsilon <= 1)) bad(`epsilon must be in [0, 1], got ${hp.epsilon}`);
  if (!(hp.epsilonMin >= 0 && hp.epsilonMin <= 1)) bad(`epsilonMin must be in [0, 1], got ${hp.epsilonMin}`);
  if (!(hp.epsilonDecay > 0 && hp.epsilonDecay <= 1)) bad(`epsilonDecay must be in (0, 1], got ${hp.epsilonDecay}`);
  if (!(hp.shaping >= 0 && Number.isFinite(hp.shaping))) bad(`shaping must be a number >= 0, got ${hp.shaping}`);
}

/** Check a parsed table, with an error that says what is wrong with it. */
export function validateQTableJson(json: unknown): QTableJson {
  const fail = (why: string): never => {
    throw new RangeError(`not a sim-arena q-table: ${why}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('expected a JSON object');
  const j = json as Partial<QTableJson>;
  if (j.kind !== Q_TABLE_KIND) fail(`kind is ${JSON.stringify(j.kind)}, expected "${Q_TABLE_KIND}"`);
  if (j.version !== Q_TABLE_VERSION)
    fail(`version ${String(j.version)} is not supported (this build reads version ${Q_TABLE_VERSION})`);
  if (JSON.stringify(j.actions) !== JSON.stringify(ACTIONS))
    fail(`its actions ${JSON.stringify(j.actions)} differ from this build's ${JSON.stringify(ACTIONS)}`);
  if (JSON.stringify(j.features) !== JSON.stringify(STATE_FEATURES))
    fail(`its state features ${JSON.stringify(j.features)} differ from this build's ${JSON.stringify(STATE_FEATURES)}`);
  if (typeof j.table !== 'object' || j.table === null) fail('no table');
  for (const [k, v] of Object.entries(j.table!)) {
    if (!isStateKey(k)) fail(`unknown state "${k}"`);
    if (!Array.isArray(v) || v.length !== N || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      fail(`state "${k}" needs ${N} finite numbers`);
  }
  for (const [k, v] of Object.entries(j.visits ?? {})) {
    if (!isStateKey(k) || !Array.isArray(v) || v.length !== N || !v.every((x) => Number.isInteger(x) && x >= 0))
      fail(`visits for "${k}" need ${N} counts`);
  }
  const hp = { ...DEFAULT_Q_HYPERPARAMETERS, ...(j.hyperparameters ?? {}) };
  return {
    ...(j as QTableJson),
    hyperparameters: hp,
    visits: j.visits ?? {},
    episodes: j.episodes ?? 0,
    updates: j.updates ?? 0,
  };
}

export function serializeQTable(p: QTablePolicy): string {
  return `${JSON.stringify(p.toJSON(), null, 2)}\n`;
}

export function parseQTable(
  text: string,
  overrides: Partial<QTableHyperparameters> = {},
  opts: { frozen?: boolean } = {},
): QTablePolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RangeError(`not a sim-arena q-table: invalid JSON (${(e as Error).message})`, { cause: e });
  }
  return QTablePolicy.fromJSON(json, overrides, opts);
}

export function saveQTable(path: string, p: QTablePolicy): void {
  writeFileAtomic(path, serializeQTable(p));
}

export function loadQTable(
  path: string,
  overrides: Partial<QTableHyperparameters> = {},
  opts: { frozen?: boolean } = {},
): QTablePolicy {
  const text = readFileSync(path, 'utf8');
  try {
    return parseQTable(text, overrides, opts);
  } catch (e) {
    throw new RangeError(`${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** A ConfigMap holding the table (apply it, then point an ArenaEpisode's policy parameters at it). */
export function qTableConfigMap(p: QTablePolicy, name: string, namespace = 'default', key = Q_TABLE_CONFIGMAP_KEY) {
  return {
    apiVersion: 'v1' as const,
    kind: 'ConfigMap' as const,
    metadata: { name, namespace, labels: { ...MANAGED_BY, [MODEL_LABEL]: 'q-table' } },
    data: { [key]: serializeQTable(p) },
  };
}

/** The table in a ConfigMap (as read from the API: `data[key]`). */
export function qTableFromConfigMap(
  cm: { data?: Record<string, string> | undefined; metadata?: { name?: string | undefined } },
  key = Q_TABLE_CONFIGMAP_KEY,
  overrides: Partial<QTableHyperparameters> = {},
): QTablePolicy {
  const text = cm.data?.[key];
  if (text === undefined) throw new RangeError(`ConfigMap ${cm.metadata?.name ?? '?'} has no data key "${key}"`);
  return parseQTable(text, overrides);
}

export const Q_TABLE_PARAMS = [
  'alpha',
  'gamma',
  'epsilon',
  'epsilonMin',
  'epsilonDecay',
  'shaping',
  'model',
  'table',
  'frozen',
] as const;

/**
 * The registry factory. Parameters: alpha, gamma, epsilon, epsilonMin, epsilonDecay (numbers), frozen (bool),
 * model (a table file to load) or table (the table's JSON inline, e.g. from a ConfigMap).
 * A loaded table acts greedily (epsilon 0) unless epsilon is given.
 */
export function qTableFromParams(params: Params): QTablePolicy {
  const r = new ParamReader('q-table', params);
  r.only(Q_TABLE_PARAMS);
  const model = r.str('model');
  const inline = r.str('table');
  if (model && inline) throw new RangeError('q-table: give parameter model (a file) or table (inline JSON), not both');
  const loaded = model !== undefined || inline !== undefined;
  const overrides: Partial<QTableHyperparameters> = {};
  if (r.has('alpha')) overrides.alpha = r.num('alpha', 0);
  if (r.has('gamma')) overrides.gamma = r.num('gamma', 0);
  if (r.has('epsilon') || loaded) overrides.epsilon = r.num('epsilon', 0);
  if (r.has('epsilonMin')) overrides.epsilonMin = r.num('epsilonMin', 0);
  if (r.has('epsilonDecay')) overrides.epsilonDecay = r.num('epsilonDecay', 0);
  if (r.has('shaping')) overrides.shaping = r.num('shaping', 0);
  const frozen = r.bool('frozen', false);
  if (model) return loadQTable(model, overrides, { frozen });
  if (inline) return parseQTable(inline, overrides, { frozen });
  return new QTablePolicy(overrides, { frozen });
}
