// Incremental replay (src/sim/embedded/incremental.ts) must observe exactly what a full replay observes: random
// actions edit a trace in place (journaled), and after each one the incremental simulate() of the edited trace is
// compared, pod by pod and node by node, with a full replay of an unjournaled copy.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTIONS, applyAction } from '../../../../src/arena/actions.js';
import { simulate, type SimResult } from '../../../../src/sim/embedded/index.js';
import type { NodePool } from '../../../../src/trace/nodepool.js';
import { incrementalSettings, incrementalStats } from '../../../../src/sim/embedded/incremental.js';
import { canonicalScenario, CANONICAL } from '../../../../src/trace/generate.js';
import { editJournal } from '../../../../src/trace/edits.js';
import { decodeTrace, encodeTrace, TraceError, type Trace } from '../../../../src/trace/trace.js';
import { listWorkloads } from '../../../../src/trace/workload.js';
import { mulberry32, randomInt } from '../../../../src/util/rng.js';
import { fidelityCase } from '../../../fidelity/harness/generate.js';
import { largeTrace } from '../../../../bench/large-trace.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** Everything a replay reports, as text: two replays agree when these are equal. */
function digest(r: SimResult): string {
  const out: string[] = [];
  for (const p of r.pods)
    out.push(
      `${p.namespace}/${p.name} ${p.owner.kind} ${p.node} ${p.phase} ${p.createdAt} ${p.startedAt} ${p.finishedAt} ${p.priority} ${p.requests.cpu}/${p.requests.memory} ${p.message}`,
    );
  for (const n of r.nodes) out.push(`${n.name} ${JSON.stringify(n.requested)}`);
  out.push(...r.warnings, `${r.podsCreated} ${r.preemptions} ${r.eventsReplayed} ${r.startTs} ${r.endTs}`);
  return out.join('\n');
}

function copy(trace: Trace): Trace {
  return decodeTrace(encodeTrace(trace)).trace;
}

function full(trace: Trace, seed: number, pool?: NodePool): string {
  try {
    return digest(simulate(copy(trace), { seed, nodePool: pool }));
  } catch (e) {
    if (e instanceof TraceError) return `error: ${e.message}`;
    throw e;
  }
}

function incremental(trace: Trace, seed: number, pool?: NodePool): string {
  try {
    return digest(simulate(trace, { seed, nodePool: pool }));
  } catch (e) {
    if (e instanceof TraceError) return `error: ${e.message}`;
    throw e;
  }
}

/** Random actions on random workloads of the trace; after each, incremental == full. Returns the steps compared. */
function check(name: string, trace: Trace, steps: number, seed: number, pool?: NodePool): number {
  const rng = mulberry32(seed);
  const workloads = listWorkloads(trace).filter((w) => w.kind !== 'Pod' || steps > 0);
  if (workloads.length === 0) return 0;
  let compared = 0;
  // One workload for a run of steps, then another: like episodes, and it exercises resuming from saved states.
  let w = workloads[randomInt(rng, workloads.length)]!;
  for (let step = 0; step < steps; step++) {
    if (step % 6 === 5) w = workloads[randomInt(rng, workloads.length)]!;
    const action = ACTIONS[randomInt(rng, ACTIONS.length)]!;
    try {
      applyAction(trace, w, action);
    } catch (e) {
      if (e instanceof TraceError) continue;
      throw e;
    }
    if (editJournal(trace) === undefined) continue;
    for (const s of [seed, seed + 1])
      expect(incremental(trace, s, pool), `${name} step ${step} ${action} seed ${s}`).to.equal(full(trace, s, pool));
    compared++;
  }
  return compared;
}

describe('embedded incremental replay', () => {
  // Small traces are replayed in full (cheaper than the bookkeeping); here every trace goes the incremental way.
  const small = incrementalSettings.smallWork;
  before(() => (incrementalSettings.smallWork = 0));
  after(() => (incrementalSettings.smallWork = small));

  it('equals a full replay on the canonical traces and the trace corpus', () => {
    let n = 0;
    for (const c of CANONICAL) n += check(c.meta.name, canonicalScenario(c.meta.name).trace, 12, 1);
    for (const dir of [join(ROOT, 'traces'), join(ROOT, 'traces', 'corpus')])
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.msgpack')))
        n += check(f, decodeTrace(readFileSync(join(dir, f))).trace, 8, 2);
    expect(n).to.be.greaterThan(300);
  });

  it('equals a full replay on the fidelity corpus', () => {
    let n = 0;
    for (let seed = 1; seed <= 120; seed++) n += check(`fidelity ${seed}`, fidelityCase(seed).trace, 6, seed);
    expect(n).to.be.greaterThan(300);
  });

  it("equals a full replay on SimKube's DeathStarBench trace, and resumes from saved states", () => {
    const bytes = readFileSync(join(ROOT, 'test', 'fixtures', 'simkube', 'dsb-scaling.sktrace'));
    const before = { ...incrementalStats };
    const n = check('dsb', decodeTrace(bytes).trace, 60, 3);
    expect(n).to.be.greaterThan(30);
    expect(incrementalStats.resumed).to.be.greaterThan(before.resumed);
    expect(incrementalStats.remembered).to.be.greaterThan(before.remembered);
  });

  it('equals a full replay on the real traces (traces/real, each with its node pool)', () => {
    const dir = join(ROOT, 'traces', 'real');
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sktrace'))) {
      const pool = JSON.parse(readFileSync(join(dir, f.replace(/\.sktrace$/, '.nodepool.json')), 'utf8')) as NodePool;
      n += check(f, decodeTrace(readFileSync(join(dir, f))).trace, 10, 6, pool);
    }
    expect(n).to.be.greaterThan(50);
  });

  it('equals a full replay on a cluster-sized trace with history (1000 pods, 150 nodes: the start index rotates)', () => {
    const { trace } = largeTrace({ pods: 1000, nodes: 150, perWorkload: 50 });
    expect(check('large', trace, 14, 4)).to.be.greaterThan(8);
  });

  it('replays small traces in full', () => {
    incrementalSettings.smallWork = small;
    try {
      const { trace } = canonicalScenario(CANONICAL[0]!.meta.name);
      const before = { ...incrementalStats };
      expect(check('small', trace, 6, 5)).to.equal(6);
      expect(incrementalStats.resumed).to.equal(before.resumed);
      expect(incrementalStats.remembered).to.equal(before.remembered);
    } finally {
      incrementalSettings.smallWork = 0;
    }
  });

  it('leaves traces nobody edits through actions to full replays', () => {
    const { trace } = canonicalScenario(CANONICAL[0]!.meta.name);
    const before = incrementalStats.full;
    simulate(trace, { seed: 1 });
    simulate(trace, { seed: 1 });
    expect(incrementalStats.full).to.equal(before + 2);
  });
});
