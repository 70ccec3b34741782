// What a client asks for when it creates an env (the JSON body of POST /v1/envs), validated into an EpisodeSpec
// and a starting trace. Every problem is a 400 with a message that names the field.
import { DEFAULT_STEPS } from '../arena/actions.js';
import { DEFAULT_MAX_STEPS, episodeSpec, type EpisodeSpec } from '../arena/episode.js';
import { parseRewardMode, type RewardMode, type RewardSettings } from '../arena/reward.js';
import { parseActionSet, parseResourceMode } from '../arena/actions.js';
import { convertNodeObjects, parseNodePool } from '../trace/nodepool.js';
import { DEFAULT_USAGE_SETTINGS } from '../arena/usage/model.js';
import { episodeUsage, usageRun, type EpisodeUsage } from '../arena/usage/run.js';
import { loadUsage } from '../trace/usage/load.js';
import { DEFAULT_SAFEGUARDS, resolveLimits, type Safeguards } from '../arena/safeguards.js';
import { readResources } from '../arena/actions.js';
import { DEFAULT_NODE_POOL, type BackendName, type NodePool } from '../arena/backend.js';
import { BACKENDS } from '../sim/index.js';
import { canonicalScenario, CANONICAL, randomScenario } from '../trace/generate.js';
import { splitScenarios, SPLITS, type SplitName } from '../trace/splits.js';
import { mixSeed, mulberry32, randomInt } from '../util/rng.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { decodeTrace, type Trace } from '../trace/trace.js';
import { parseWorkloadArg, type WorkloadRef } from '../trace/workload.js';
import { badRequest, toHttpError } from './errors.js';
import { checkEpisodeSpec } from '../arena/spec-rules.js';

export const MAX_MAX_STEPS = 100_000;

export interface EnvConfig {
  spec: EpisodeSpec;
  /** The starting trace; every reset starts from a copy, so this is never changed. */
  trace: Trace;
  /** Where the trace came from: a scenario name, "random:SEED:INDEX" or "trace". */
  source: string;
  backend: BackendName;
}

type Json = Record<string, unknown>;

const CREATE_KEYS = new Set([
  'scenario',
  'random',
  'trace',
  'workload',
  'kind',
  'container',
  'target',
  'reward',
  'maxSteps',
  'seed',
  'backend',
  'durationSeconds',
  'actions',
  'safeguards',
  'nodePool',
  'usage',
  'usageOptions',
  'stopAtGoal',
]);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Json, allowed: readonly string[] | Set<string>, where: string): void {
  const set = allowed instanceof Set ? allowed : new Set(allowed);
  for (const k of Object.keys(o))
    if (!set.has(k)) throw badRequest(`${where}: unknown field "${k}" (known: ${[...set].join(', ')})`);
}

export function intField(
  o: Json,
  key: string,
  where: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const v = o[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw badRequest(`${where}${key} is required`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw badRequest(`${where}${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function strField(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0)
    throw badRequest(`${where}${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function quantityField(o: Json, key: string, where: string, fallback: string): string {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' && typeof v !== 'number')
    throw badRequest(`${where}${key} must be a quantity such as "500m" or "1Gi", got ${JSON.stringify(v)}`);
  try {
    return canonicalQuantity(v);
  } catch (e) {
    throw badRequest(`${where}${key}: ${(e as Error).message}`);
  }
}

function subObject(body: Json, key: string): Json {
  const v = body[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw badRequest(`${key} must be an object, got ${JSON.stringify(v)}`);
  return v;
}

function parseWorkload(body: Json, fallback: WorkloadRef | undefined): WorkloadRef {
  const kind = strField(body, 'kind', '');
  const w = body.workload;
  if (w === undefined || w === null) {
    const base = fallback ?? { kind: 'Deployment', namespace: 'default', name: 'web' };
    return kind ? { ...base, kind } : base;
  }
  if (typeof w === 'string') return parseWorkloadArg(w, kind ?? fallback?.kind ?? 'Deployment');
  if (!isObject(w))
    throw badRequest(`workload must be "NAMESPACE/NAME" or {kind, namespace, name}, got ${JSON.stringify(w)}`);
  checkKeys(w, ['kind', 'namespace', 'name'], 'workload');
  const name = strField(w, 'name', 'workload.');
  if (!name) throw badRequest('workload.name is required');
  return {
    kind: strField(w, 'kind', 'workload.') ?? kind ?? 'Deployment',
    namespace: strField(w, 'namespace', 'workload.') ?? 'default',
    name,
  };
}

function parseReward(body: Json, fallback: RewardMode): RewardSettings {
  const r = body.reward;
  if (r === undefined || r === null) return { mode: fallback };
  if (typeof r === 'string') return { mode: parseRewardMode(r) };
  if (!isObject(r))
    throw badRequest(`reward must be a mode name or {mode, stepPenalty, blockedPenalty}, got ${JSON.stringify(r)}`);
  checkKeys(r, ['mode', 'stepPenalty', 'blockedPenalty'], 'reward');
  const out: RewardSettings = { mode: parseRewardMode(strField(r, 'mode', 'reward.') ?? fallback) };
  for (const k of ['stepPenalty', 'blockedPenalty'] as const) {
    const v = r[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw badRequest(`reward.${k} must be a number, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function boolField(o: Json, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw badRequest(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** `usage`: a sim-arena usage object or a Prometheus export (JSON array); `usageOptions`: {stepSeconds, noise, missingLimits}. */
function parseUsage(body: Json, trace: Trace): EpisodeUsage | undefined {
  const u = body.usage;
  if (u === undefined || u === null) {
    if (body.usageOptions !== undefined && body.usageOptions !== null) throw badRequest('usageOptions needs usage');
    return undefined;
  }
  if (typeof u !== 'object')
    throw badRequest('usage must be a sim-arena usage object or a Prometheus export (a JSON array)');
  const o = subObject(body, 'usageOptions');
  checkKeys(o, ['stepSeconds', 'noise', 'missingLimits'], 'usageOptions');
  const noise = o.noise ?? DEFAULT_USAGE_SETTINGS.noise;
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 1))
    throw badRequest(`usageOptions.noise must be a number from 0 to 1, got ${JSON.stringify(noise)}`);
  const missing = strField(o, 'missingLimits', 'usageOptions.') ?? DEFAULT_USAGE_SETTINGS.missingLimits;
  if (missing !== 'request' && missing !== 'none')
    throw badRequest(`usageOptions.missingLimits must be "request" or "none", got ${JSON.stringify(missing)}`);
  const { usage } = loadUsage(u, trace);
  return episodeUsage(usage, {
    stepSeconds: intField(o, 'stepSeconds', 'usageOptions.', DEFAULT_USAGE_SETTINGS.stepSeconds, 1, 365 * 86_400),
    noise,
    missingLimits: missing,
  });
}

/**
 * The bytes an uploaded trace will take once decoded from base64, computed from the string alone (nothing is
 * decoded), so the server can refuse a trace over its limits first. 0 when the body uploads no trace.
 */
export function uploadedTraceBytes(body: unknown): number {
  if (!isObject(body) || typeof body.trace !== 'string') return 0;
  const s = body.trace;
  let chars = 0;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    chars++;
    pad = c === 61 ? pad + 1 : 0;
  }
  return Math.max(0, Math.floor(((chars - pad) * 3) / 4));
}

function decodeBase64Trace(s: unknown): Trace {
  if (typeof s !== 'string' || s.length === 0)
    throw badRequest('trace must be a base64 string of a msgpack SimKube trace');
  const clean = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw badRequest('trace is not valid base64');
  const bytes = Buffer.from(clean, clean.includes('-') || clean.includes('_') ? 'base64url' : 'base64');
  return decodeTrace(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).trace;
}

/** Validate a create request. `defaultBackend` is what the server runs; asking for another is a 400. */
export function parseCreateRequest(body: unknown, defaultBackend: BackendName): EnvConfig {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  checkKeys(body, CREATE_KEYS, 'create');
  try {
    const sources = (['scenario', 'random', 'trace'] as const).filter((k) => body[k] !== undefined && body[k] !== null);
    if (sources.length > 1) throw badRequest(`give one of scenario, random or trace, not ${sources.join(' and ')}`);
    let trace: Trace;
    let source: string;
    let meta: { workload: WorkloadRef; target: number; nodePool?: NodePool } | undefined;
    let splitPool: NodePool | undefined;
    let tracePool: NodePool | undefined;
    if (body.trace !== undefined && body.trace !== null) {
      trace = decodeBase64Trace(body.trace);
      source = 'trace';
      // Node objects in an uploaded trace (older traces) become its node pool; the trace replays without them.
      tracePool = convertNodeObjects(trace)?.nodePool;
    } else if (body.random !== undefined && body.random !== null) {
      const r = subObject(body, 'random');
      checkKeys(r, ['split', 'seed', 'index'], 'random');
      const seed = intField(r, 'seed', 'random.', 0, 0, 2 ** 31 - 1);
      const splitName = strField(r, 'split', 'random.');
      if (splitName !== undefined) {
        // A scenario of an official split: index i of the split, or one the seed draws.
        if (!(SPLITS as readonly string[]).includes(splitName))
          throw badRequest(`random.split must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(splitName)}`);
        const list = splitScenarios(splitName as SplitName);
        const picked =
          r.index !== undefined && r.index !== null
            ? list[intField(r, 'index', 'random.', 0, 0, list.length - 1)]!
            : list[randomInt(mulberry32(mixSeed(seed, 0x5b117)), list.length)]!;
        trace = picked.trace();
        meta = picked;
        if (picked.nodePool) splitPool = picked.nodePool;
        source = picked.id;
      } else {
        const index = intField(r, 'index', 'random.', 0, 0, 1_000_000);
        const g = randomScenario(seed, index);
        trace = g.trace;
        meta = g.meta;
        if (g.meta.nodePool) splitPool = g.meta.nodePool;
        source = `random:${seed}:${index}`;
      }
    } else {
      const name = strField(body, 'scenario', '') ?? 'cpu-slight';
      if (!CANONICAL.some((c) => c.meta.name === name))
        throw badRequest(`unknown scenario "${name}" (known: ${CANONICAL.map((c) => c.meta.name).join(', ')})`);
      const s = canonicalScenario(name);
      trace = s.trace;
      meta = s.meta;
      source = name;
    }

    const backendName = strField(body, 'backend', '') ?? defaultBackend;
    if (!(BACKENDS as string[]).includes(backendName))
      throw badRequest(`unknown backend "${backendName}" (use ${BACKENDS.join(', ')})`);
    if (backendName !== defaultBackend)
      throw badRequest(
        `this server runs the ${defaultBackend} backend, not ${backendName} (start another with \`sim-arena serve --backend ${backendName}\`)`,
      );

    const a = subObject(body, 'actions');
    checkKeys(a, ['cpuStep', 'memoryStep', 'replicaStep', 'set', 'resourceMode'], 'actions');
    const actionSet = strField(a, 'set', 'actions.');
    const resourceMode = strField(a, 'resourceMode', 'actions.');
    const usage = parseUsage(body, trace);
    const sg = subObject(body, 'safeguards');
    checkKeys(sg, Object.keys(DEFAULT_SAFEGUARDS), 'safeguards');
    const safeguards: Safeguards = {
      maxCpu: quantityField(sg, 'maxCpu', 'safeguards.', DEFAULT_SAFEGUARDS.maxCpu),
      maxMemory: quantityField(sg, 'maxMemory', 'safeguards.', DEFAULT_SAFEGUARDS.maxMemory),
      maxReplicas: intField(sg, 'maxReplicas', 'safeguards.', DEFAULT_SAFEGUARDS.maxReplicas, 0, 1_000_000),
      minCpu: quantityField(sg, 'minCpu', 'safeguards.', DEFAULT_SAFEGUARDS.minCpu),
      minMemory: quantityField(sg, 'minMemory', 'safeguards.', DEFAULT_SAFEGUARDS.minMemory),
      minReplicas: intField(sg, 'minReplicas', 'safeguards.', DEFAULT_SAFEGUARDS.minReplicas, 0, 1_000_000),
    };
    resolveLimits(safeguards);
    // nodePool: {count, cpu, memory, pods} or {nodes: [...]} (src/trace/nodepool.ts), read by the one node-pool
    // reader; fields given override the scenario's or the uploaded trace's own pool, else the default pool.
    const basePool = tracePool ?? splitPool ?? meta?.nodePool ?? DEFAULT_NODE_POOL;
    const np = body.nodePool;
    const nodePool: NodePool = np !== undefined && np !== null ? parseNodePool(np, 'nodePool', basePool) : basePool;
    const container = strField(body, 'container', '');
    const duration = body.durationSeconds;
    const spec = episodeSpec({
      workload: parseWorkload(body, meta?.workload),
      target: intField(body, 'target', '', meta?.target ?? 3, 0, 10_000),
      maxSteps: intField(body, 'maxSteps', '', DEFAULT_MAX_STEPS, 1, MAX_MAX_STEPS),
      seed: intField(body, 'seed', '', 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      reward: parseReward(body, usage ? 'rightsizing' : 'shaped'),
      ...(usage ? { usage } : {}),
      ...(body.stopAtGoal !== undefined && body.stopAtGoal !== null
        ? { stopAtGoal: boolField(body, 'stopAtGoal') }
        : {}),
      actions: {
        steps: {
          cpu: quantityField(a, 'cpuStep', 'actions.', DEFAULT_STEPS.cpu),
          memory: quantityField(a, 'memoryStep', 'actions.', DEFAULT_STEPS.memory),
          replicas: intField(a, 'replicaStep', 'actions.', DEFAULT_STEPS.replicas, 1, 1000),
        },
        safeguards,
        ...(container ? { container } : {}),
        ...(actionSet ? { set: parseActionSet(actionSet) } : {}),
        ...(resourceMode ? { resourceMode: parseResourceMode(resourceMode) } : {}),
      },
      nodePool,
      ...(duration !== undefined && duration !== null
        ? { durationSeconds: intField(body, 'durationSeconds', '', undefined, 1, 7 * 24 * 3600) }
        : {}),
    });
    checkEpisodeSpec(spec);
    // Fail now, not at the first step, when the workload or container is not in the trace.
    readResources(trace, spec.workload, spec.actions.container);
    if (spec.usage) usageRun(spec.usage, spec.workload, spec.actions.container, 0, 0);
    return { spec, trace, source, backend: backendName as BackendName };
  } catch (e) {
    throw toHttpError(e);
  }
}
