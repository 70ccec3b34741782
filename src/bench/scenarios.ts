// The benchmark's scenario registry: the predecessor's 12 benchmark scenarios (its index.json, with each
// `demo/<file>` trace read from the fixture directory as it is) plus our 9 canonical scenarios, and optionally a
// seeded generated corpus. Scenario ids are `<source>:<name>` (legacy:cpu-slight, canonical:cpu-slight, gen:...).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloneValue } from '../trace/model.js';
import { CANONICAL, canonicalScenario, randomScenario, type ScenarioMeta } from '../trace/generate.js';
import { decodeTrace, type Trace } from '../trace/trace.js';
import type { WorkloadRef } from '../trace/workload.js';
import type { TrainingScenario } from '../agents/train.js';
import { splitScenarios, type SplitName } from '../trace/splits.js';

export type ScenarioSource = 'legacy' | 'canonical' | 'generated' | 'recorded';
export type ProblemType = ScenarioMeta['problem'];

export interface BenchScenario extends TrainingScenario {
  /** `<source>:<name>` */
  id: string;
  name: string;
  source: ScenarioSource;
  /** our taxonomy: resource, replicas, composite, capacity, baseline */
  problemType: ProblemType;
  /** the predecessor's problem_type, for legacy scenarios */
  legacyProblemType?: string;
  description: string;
  /** where the trace came from (a file, or "generated") */
  origin: string;
  target: number;
  workload: WorkloadRef;
  trace(): Trace;
  /** the official split it was taken from (src/trace/splits.ts), if any */
  split?: SplitName;
}

const WEB: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };

/** The predecessor's problem types in our taxonomy (it has no composite or capacity type). */
export const LEGACY_PROBLEM_TYPES: Record<string, ProblemType> = {
  resource_contention: 'resource',
  replica_scaling: 'replicas',
  baseline: 'baseline',
};

interface LegacyIndexEntry {
  name: string;
  trace: string;
  target: number;
  problem_type: string;
  description?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is src/bench/ or dist/bench/). */
export const REPO_ROOT = resolve(here, '..', '..');

/**
 * Where the predecessor's fixtures are: SIM_ARENA_LEGACY_DIR, else the shared fixtures beside the repository
 * (../shared/fixtures/legacy-sim-arena), else traces/legacy-sim-arena in the repository.
 */
export function defaultLegacyDir(): string | undefined {
  const candidates = [
    process.env.SIM_ARENA_LEGACY_DIR,
    join(REPO_ROOT, '..', 'shared', 'fixtures', 'legacy-sim-arena'),
    join(REPO_ROOT, 'traces', 'legacy-sim-arena'),
  ];
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'scenarios-index.json')));
}

function fromBytes(bytes: Uint8Array, what: string): () => Trace {
  // Decode once (so a broken file fails when the registry loads), hand out deep copies.
  let master: Trace;
  try {
    master = decodeTrace(bytes).trace;
  } catch (e) {
    throw new RangeError(`${what}: ${(e as Error).message}`, { cause: e });
  }
  return () => cloneValue(master);
}

/** The predecessor's 12 benchmark scenarios, from DIR/scenarios-index.json; `demo/X.msgpack` is read as DIR/X.msgpack. */
export function legacyScenarios(dir: string): BenchScenario[] {
  const indexPath = join(dir, 'scenarios-index.json');
  const raw = JSON.parse(readFileSync(indexPath, 'utf8')) as { scenarios?: LegacyIndexEntry[] };
  if (!Array.isArray(raw.scenarios)) throw new RangeError(`${indexPath}: no "scenarios" list`);
  const cache = new Map<string, () => Trace>();
  return raw.scenarios.map((e) => {
    const file = join(dir, basename(e.trace));
    if (!existsSync(file))
      throw new RangeError(`${indexPath}: scenario ${e.name} names ${e.trace}, but ${file} does not exist`);
    let make = cache.get(file);
    if (!make) {
      make = fromBytes(new Uint8Array(readFileSync(file)), file);
      cache.set(file, make);
    }
    const problemType = LEGACY_PROBLEM_TYPES[e.problem_type];
    if (!problemType)
      throw new RangeError(`${indexPath}: scenario ${e.name} has unknown problem_type "${e.problem_type}"`);
    return {
      id: `legacy:${e.name}`,
      name: e.name,
      source: 'legacy' as const,
      problemType,
      legacyProblemType: e.problem_type,
      description: e.description ?? '',
      origin: file,
      target: e.target,
      workload: WEB,
      trace: make,
    };
  });
}

export function canonicalScenarios(): BenchScenario[] {
  return CANONICAL.map(({ meta }) => {
    const master = canonicalScenario(meta.name).trace;
    return {
      id: `canonical:${meta.name}`,
      name: meta.name,
      source: 'canonical' as const,
      problemType: meta.problem,
      description: meta.description,
      origin: 'src/trace/generate.ts',
      target: meta.target,
      workload: meta.workload,
      trace: () => cloneValue(master),
    };
  });
}

/** `count` scenarios of the seeded random corpus (what `sim-arena trace generate --seed S` writes). */
export function generatedScenarios(count: number, seed: number): BenchScenario[] {
  return Array.from({ length: count }, (_, i) => {
    const s = randomScenario(seed, i);
    const master = s.trace;
    return {
      id: `gen:${s.meta.name}`,
      name: s.meta.name,
      source: 'generated' as const,
      problemType: s.meta.problem,
      description: s.meta.description,
      origin: `generated (seed ${seed})`,
      target: s.meta.target,
      workload: s.meta.workload,
      ...(s.meta.nodePool ? { nodePool: s.meta.nodePool } : {}),
      trace: () => cloneValue(master),
    };
  });
}

export interface RegistryOptions {
  /** legacy fixture directory; undefined: look in the default places; null: leave the legacy scenarios out */
  legacyDir?: string | null;
  /** add this many generated scenarios */
  generated?: number;
  generatedSeed?: number;
}

export interface Registry {
  scenarios: BenchScenario[];
  legacyDir: string | null;
  notes: string[];
}

export function loadRegistry(o: RegistryOptions = {}): Registry {
  const notes: string[] = [];
  const legacyDir = o.legacyDir === null ? null : (o.legacyDir ?? defaultLegacyDir() ?? null);
  if (o.legacyDir === undefined && legacyDir === null)
    notes.push(
      "the predecessor's scenarios were not found (set --legacy DIR or SIM_ARENA_LEGACY_DIR); only canonical scenarios are available",
    );
  if (legacyDir && !existsSync(join(legacyDir, 'scenarios-index.json')))
    throw new RangeError(`${legacyDir} has no scenarios-index.json`);
  const scenarios = [
    ...(legacyDir ? legacyScenarios(legacyDir) : []),
    ...canonicalScenarios(),
    ...(o.generated ? generatedScenarios(o.generated, o.generatedSeed ?? 0) : []),
  ];
  return { scenarios, legacyDir, notes };
}

/**
 * Pick scenarios: "all" (the sources in `allMeans`, by default legacy + canonical), "legacy", "canonical", "generated", or a comma list of ids or names
 * (a bare name matches it in every source, e.g. cpu-slight is both legacy:cpu-slight and canonical:cpu-slight).
 */
export function selectScenarios(
  all: BenchScenario[],
  spec: string,
  allMeans: readonly ScenarioSource[] = ['legacy', 'canonical'],
): BenchScenario[] {
  const picked = new Map<string, BenchScenario>();
  for (const raw of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let matches: BenchScenario[];
    if (raw === 'all') matches = all.filter((s) => allMeans.includes(s.source));
    else if (raw === 'legacy' || raw === 'canonical' || raw === 'generated')
      matches = all.filter((s) => s.source === raw);
    else matches = all.filter((s) => s.id === raw || s.name === raw);
    if (matches.length === 0)
      throw new RangeError(
        `no scenario "${raw}" (known: all, legacy, canonical, generated, ${all.map((s) => s.id).join(', ')})`,
      );
    for (const m of matches) picked.set(m.id, m);
  }
  if (picked.size === 0) throw new RangeError('no scenarios selected');
  return [...picked.values()];
}

/** The scenarios of an official split (train, val, test, real) as bench scenarios; ids are `<family>:<name>`. */
export function splitBenchScenarios(split: SplitName): BenchScenario[] {
  return splitScenarios(split).map((s) => ({
    id: s.id,
    name: s.name,
    source: s.kind,
    problemType: s.problem,
    description: s.description,
    origin: s.origin,
    target: s.target,
    workload: s.workload,
    ...(s.nodePool ? { nodePool: s.nodePool } : {}),
    trace: s.trace,
    split,
  }));
}
