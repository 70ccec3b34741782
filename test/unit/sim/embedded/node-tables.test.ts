// The scheduler's per-shape node tables (scheduler.ts, NodeTable) must choose exactly what the general path chooses:
// the same filter masks, scores, spread normalization, rotation, cut-off and RNG tie-breaks. Both paths replay the
// same traces (the table path forced on from 0 nodes) and must agree on every placement and Pending message,
// also after random actions replayed incrementally (forked simulations with their own change logs).
import { expect } from 'chai';
import { ACTIONS, applyAction } from '../../../../src/arena/actions.js';
import { simulate, type SimResult } from '../../../../src/sim/embedded/index.js';
import { schedulerStats, schedulerTuning } from '../../../../src/sim/embedded/scheduler.js';
import { editJournal } from '../../../../src/trace/edits.js';
import { decodeTrace, encodeTrace, TraceError, type Trace } from '../../../../src/trace/trace.js';
import { listWorkloads } from '../../../../src/trace/workload.js';
import { mulberry32, randomInt } from '../../../../src/util/rng.js';
import { fidelityCase } from '../../../fidelity/harness/generate.js';
import { largeTrace } from '../../../../bench/large-trace.js';

function digest(r: SimResult): string {
  const out: string[] = [];
  for (const p of r.pods) out.push(`${p.namespace}/${p.name} ${p.node} ${p.phase} ${p.startedAt} ${p.message}`);
  for (const n of r.nodes) out.push(`${n.name} ${JSON.stringify(n.requested)}`);
  out.push(`${r.podsCreated} ${r.preemptions}`);
  return out.join('\n');
}

function replay(trace: Trace, seed: number, tables: boolean, fresh: boolean): string {
  const saved = schedulerTuning.tableMinNodes;
  schedulerTuning.tableMinNodes = tables ? 0 : Infinity;
  try {
    return digest(simulate(fresh ? decodeTrace(encodeTrace(trace)).trace : trace, { seed }));
  } catch (e) {
    if (e instanceof TraceError) return `error: ${e.message}`;
    throw e;
  } finally {
    schedulerTuning.tableMinNodes = saved;
  }
}

describe('embedded scheduler: node tables agree with the general path', () => {
  it('on 200 fidelity traces (taints, selectors, preemption, DaemonSets, spreading), two seeds each', () => {
    let differ = 0;
    for (let c = 1; c <= 200; c++) {
      const trace = fidelityCase(c).trace;
      for (const seed of [c, c + 1000]) {
        const general = replay(trace, seed, false, true);
        expect(replay(trace, seed, true, true), `case ${c} seed ${seed}`).to.equal(general);
        if (general !== replay(trace, seed + 1, false, true)) differ++;
      }
    }
    expect(differ, 'the seed changes some placements, so tie-breaks are compared').to.be.greaterThan(0);
  });

  it('on cluster-sized traces past the nodes-to-score cut-off, with pods left Pending', function () {
    this.timeout(60_000);
    for (const opts of [
      { pods: 1500, nodes: 150, perWorkload: 30, seed: 5 },
      { pods: 2500, nodes: 20, perWorkload: 50, seed: 6 },
    ]) {
      const { trace } = largeTrace(opts);
      const general = replay(trace, 3, false, true);
      if (opts.nodes < 100) expect(general).to.match(/ Pending /); // more pods than room
      expect(replay(trace, 3, true, true), JSON.stringify(opts)).to.equal(general);
    }
  });

  it('at 1k nodes, where the all-fit scoring pass skips blocks of the table or counts their ties (420-node windows)', function () {
    this.timeout(60_000);
    const { trace } = largeTrace({ pods: 2000, nodes: 1000, perWorkload: 40, seed: 9 });
    const general = replay(trace, 4, false, true);
    const skipped = schedulerStats.blocksSkipped;
    const counted = schedulerStats.blocksCounted;
    expect(replay(trace, 4, true, true)).to.equal(general);
    expect(schedulerStats.blocksSkipped - skipped, 'blocks were skipped').to.be.greaterThan(1000);
    expect(schedulerStats.blocksCounted - counted, 'ties were counted by block').to.be.greaterThan(1000);
    expect(replay(trace, 5, true, true), 'another seed places differently').to.not.equal(general);
  });

  it('after random actions replayed incrementally (forked simulations)', function () {
    this.timeout(60_000);
    const rng = mulberry32(7);
    for (const [name, trace] of [
      ['large', largeTrace({ pods: 800, nodes: 120, perWorkload: 40, seed: 8 }).trace],
      ...Array.from({ length: 20 }, (_, i) => [`fidelity ${i + 1}`, fidelityCase(i + 1).trace] as const),
    ] as const) {
      const t = decodeTrace(encodeTrace(trace)).trace;
      const workloads = listWorkloads(t).filter((w) => w.kind !== 'Pod');
      if (workloads.length === 0) continue;
      replay(t, 1, true, false);
      for (let step = 0; step < 8; step++) {
        const w = workloads[randomInt(rng, workloads.length)]!;
        try {
          applyAction(t, w, ACTIONS[randomInt(rng, ACTIONS.length)]!);
        } catch (e) {
          if (e instanceof TraceError) continue;
          throw e;
        }
        if (editJournal(t) === undefined) continue;
        expect(replay(t, 1, true, false), `${name} step ${step}`).to.equal(replay(t, 1, false, true));
      }
    }
  });
});
