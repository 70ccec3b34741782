// The official splits: train, val and test sets of scenario families. Train and val come from one distribution
// (val is held out from it); test is shifted on purpose, so a result on test measures generalisation rather than
// memory. Each family joins a split through one line in SPLIT_FAMILIES: a new family (recorded real traces under
// traces/real/, usage load patterns) is another line there.
//
// The shift, in words (README "Evaluation protocol" says the same):
//   train: the 9 canonical scenarios + 60 generated scenarios on nodes of 16 CPU / 32Gi (the canonical shape),
//          every failure mode but `capacity`
//   val:   30 more from the train distribution (another generator seed)
//   test:  40 generated scenarios on nodes of other sizes (8 or 32 CPU, 16Gi or 64Gi), every failure mode
//          including `capacity` (pods that fit a node but not all fit the cluster), which train never shows
//   real:  the traces recorded with SimKube's sk-tracer (traces/real/): histories, several namespaces, init
//          containers, sidecars, StatefulSets, CronJobs, DaemonSets, contention on small pools
import { CANONICAL, canonicalScenario, randomScenario, type GeneratedScenario, type ScenarioMeta } from './generate.js';
import { cloneValue } from './model.js';
import type { Trace } from './trace.js';
import type { WorkloadRef } from './workload.js';
import type { NodePool } from './nodepool.js';
import { readRealTraces } from './real-traces.js';

export const SPLITS = ['train', 'val', 'test', 'real'] as const;
export type SplitName = (typeof SPLITS)[number];

export function parseSplit(s: string): SplitName {
  const v = s.trim().toLowerCase();
  if ((SPLITS as readonly string[]).includes(v)) return v as SplitName;
  throw new RangeError(`unknown split "${s}" (use ${SPLITS.join(', ')})`);
}

export interface SplitScenario {
  /** `<family>:<name>`, unique within a split */
  id: string;
  name: string;
  family: string;
  /** canonical scenarios and generated ones; a real-trace family says 'recorded' */
  kind: 'canonical' | 'generated' | 'recorded';
  problem: ScenarioMeta['problem'];
  description: string;
  origin: string;
  target: number;
  workload: WorkloadRef;
  /** the nodes the scenario runs on; absent: the default pool (3 × 16 CPU / 32Gi) */
  nodePool?: NodePool;
  /** A fresh copy of the starting trace (episodes change traces in place). */
  trace(): Trace;
}

export interface SplitFamily {
  family: string;
  /** what the family puts in the split, and how it differs from train */
  describe: string;
  scenarios(): SplitScenario[];
}

/** The node shape of a generated scenario: its node pool, or the default pool (16 CPU / 32Gi). */
function nodeShape(g: GeneratedScenario): { cpu: string; memory: string } {
  const n = g.meta.nodePool;
  return n ? { cpu: n.cpu, memory: n.memory } : { cpu: '16', memory: '32Gi' };
}

const canonicalShape = (g: GeneratedScenario) => nodeShape(g).cpu === '16' && nodeShape(g).memory === '32Gi';
const otherSizes = (g: GeneratedScenario) => nodeShape(g).cpu !== '16' && nodeShape(g).memory !== '32Gi';
const notCapacity = (g: GeneratedScenario) => g.meta.problem !== 'capacity';

function canonicalFamily(family: string): SplitScenario[] {
  return CANONICAL.map(({ meta }) => {
    const master = canonicalScenario(meta.name).trace;
    return {
      id: `${family}:${meta.name}`,
      name: meta.name,
      family,
      kind: 'canonical' as const,
      problem: meta.problem,
      description: meta.description,
      origin: 'src/trace/generate.ts',
      target: meta.target,
      workload: meta.workload,
      trace: () => cloneValue(master),
    };
  });
}

/** The first `count` scenarios of the seeded generator that pass `keep` (deterministic). */
export function generatedWhere(
  family: string,
  seed: number,
  count: number,
  keep: (g: GeneratedScenario) => boolean,
): SplitScenario[] {
  const out: SplitScenario[] = [];
  for (let i = 0; out.length < count; i++) {
    if (i > count * 100)
      throw new Error(`split family ${family}: the generator gave fewer than ${count} matching scenarios`);
    const g = randomScenario(seed, i);
    if (!keep(g)) continue;
    const master = g.trace;
    out.push({
      id: `${family}:${g.meta.name}`,
      name: g.meta.name,
      family,
      kind: 'generated',
      problem: g.meta.problem,
      description: g.meta.description,
      origin: `generated (seed ${seed}, index ${i})`,
      target: g.meta.target,
      workload: g.meta.workload,
      ...(g.meta.nodePool ? { nodePool: g.meta.nodePool } : {}),
      trace: () => cloneValue(master),
    });
  }
  return out;
}

function recordedFamily(family: string): SplitScenario[] {
  return readRealTraces().map((r) => ({
    id: `${family}:${r.name}`,
    name: r.name,
    family,
    kind: 'recorded' as const,
    problem: r.problem,
    description: `${r.description} (${r.hard})`,
    origin: `traces/real/${r.file} (recorded by ${r.recordedBy || 'sk-tracer'})`,
    target: r.target,
    workload: r.workload,
    nodePool: r.nodePool,
    trace: r.trace,
  }));
}

/** Split → families, one line each. */
export const SPLIT_FAMILIES: Record<SplitName, SplitFamily[]> = {
  train: [
    {
      family: 'canonical',
      describe: 'the 9 canonical scenarios (3 nodes of 16 CPU / 32Gi)',
      scenarios: () => canonicalFamily('canonical'),
    },
    {
      family: 'gen-train',
      describe: '60 generated (seed 101) on 16 CPU / 32Gi nodes, every failure mode but capacity',
      scenarios: () => generatedWhere('gen-train', 101, 60, (g) => canonicalShape(g) && notCapacity(g)),
    },
  ],
  val: [
    {
      family: 'gen-val',
      describe: '30 generated (seed 202) from the train distribution',
      scenarios: () => generatedWhere('gen-val', 202, 30, (g) => canonicalShape(g) && notCapacity(g)),
    },
  ],
  test: [
    {
      family: 'gen-test',
      describe:
        '40 generated (seed 303) on nodes of 8 or 32 CPU and 16Gi or 64Gi, every failure mode including capacity',
      scenarios: () => generatedWhere('gen-test', 303, 40, otherSizes),
    },
  ],
  real: [
    {
      family: 'recorded',
      describe:
        "the traces recorded from a control plane with SimKube's sk-tracer (traces/real/): scaling histories, several namespaces, init containers, sidecars, StatefulSets, CronJobs, DaemonSets, contention",
      scenarios: () => recordedFamily('recorded'),
    },
  ],
};

const cache = new Map<SplitName, SplitScenario[]>();

/** The scenarios of a split in a fixed order: index i of a split is the same scenario on every machine. */
export function splitScenarios(split: SplitName): SplitScenario[] {
  let list = cache.get(split);
  if (!list) {
    list = SPLIT_FAMILIES[split].flatMap((f) => f.scenarios());
    cache.set(split, list);
  }
  return list;
}

/** One scenario of a split by name or id (`gen-test:gen-0003-cpu-over` or `gen-0003-cpu-over`). */
export function findSplitScenario(name: string): { split: SplitName; scenario: SplitScenario } | undefined {
  for (const split of SPLITS) {
    const s = splitScenarios(split).find((x) => x.id === name);
    if (s) return { split, scenario: s };
  }
  return undefined;
}

export function describeSplits(): Record<SplitName, string[]> {
  return Object.fromEntries(
    SPLITS.map((s) => [s, SPLIT_FAMILIES[s].map((f) => `${f.family}: ${f.describe}`)]),
  ) as Record<SplitName, string[]>;
}
