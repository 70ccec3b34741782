// The recorded real-trace family (traces/real/, recorded with SimKube's sk-tracer by npm run trace:record): every
// trace is valid, holds only namespaced objects, has its node pool beside it and a README line, and its episode is
// solvable by changing only the workload, with no policy repeating a blocked action.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { isMap } from '../../../src/trace/model.js';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { decodeTrace } from '../../../src/trace/trace.js';
import { listWorkloads } from '../../../src/trace/workload.js';
import { readRealTraces, realTracesDir } from '../../../src/trace/real-traces.js';
import { splitScenarios } from '../../../src/trace/splits.js';
import { blockedSinceChange, getPolicy, policyNames } from '../../../src/arena/policies.js';
import { episodeSpec, runEpisode, type StepRecord } from '../../../src/arena/episode.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { registerAgents } from '../../../src/agents/index.js';
import { repoRoot } from './helpers.js';

registerAgents();
const backend = new EmbeddedBackend();
const dir = realTracesDir();
const real = readRealTraces(dir);

function expectNoRepeatedBlock(history: readonly StepRecord[], what: string): void {
  history.forEach((rec, i) => {
    const before = blockedSinceChange(history.slice(0, i));
    expect(before, `${what}: step ${rec.step} repeats ${rec.action}, blocked on the same trace`).not.to.include(
      rec.action,
    );
  });
}

describe('recorded real traces (traces/real)', function () {
  this.timeout(120_000);

  it('has at least 10 recorded traces, a few MB at most in total, each with its node pool and index entry', () => {
    expect(real.length).to.be.at.least(10);
    let bytes = 0;
    for (const r of real) {
      bytes += statSync(path.join(dir, r.file)).size;
      expect(r.file, r.name).to.equal(`${r.name}.sktrace`);
      expect(r.recordedBy, r.name).to.equal(`test/cluster/simkube/record/${r.name}.sh`);
      expect(statSync(path.join(repoRoot, r.recordedBy)).isFile(), r.recordedBy).to.equal(true);
      expect(r.nodePool.count, r.name).to.be.at.least(1);
    }
    expect(bytes).to.be.below(4 * 1024 * 1024);
  });

  it('every trace passes the validator and was written by sk-tracer (skctl export)', () => {
    for (const r of real) {
      const { trace, warnings } = decodeTrace(new Uint8Array(readFileSync(path.join(dir, r.file))));
      expect(warnings, r.name).to.deep.equal([]);
      const config = trace.get('config') as MsgMap;
      expect(isMap(config.get('trackedObjects')), `${r.name}: trackedObjects`).to.equal(true);
      const names = listWorkloads(trace).map((w) => `${w.kind} ${w.namespace}/${w.name}`);
      expect(names, r.name).to.include(`${r.workload.kind} ${r.workload.namespace}/${r.workload.name}`);
    }
  });

  it('no trace holds a cluster-scoped object in its events', () => {
    for (const r of real) {
      const trace = r.trace();
      for (const ev of trace.get('events') as MsgValue[])
        for (const list of ['applied_objs', 'deleted_objs'])
          for (const o of (ev as MsgMap).get(list) as MsgValue[]) {
            const ns = ((o as MsgMap).get('metadata') as MsgMap).get('namespace');
            expect(
              typeof ns === 'string' && ns !== '',
              `${r.name}: ${String((o as MsgMap).get('kind'))} without a namespace`,
            ).to.equal(true);
          }
    }
  });

  it('the set covers what the issue asks: namespaces, histories, init containers, sidecars, StatefulSets, CronJobs, Jobs, DaemonSets', () => {
    const kinds = new Set<string>();
    let multiNamespace = 0;
    let initContainers = 0;
    let nativeSidecars = 0;
    for (const r of real) {
      const t = r.trace();
      const workloads = listWorkloads(t);
      for (const w of workloads) kinds.add(w.kind);
      if (new Set(workloads.map((w) => w.namespace)).size > 1) multiNamespace++;
      const text = JSON.stringify(t, (_k, v: unknown) =>
        v instanceof Map ? Object.fromEntries(v) : typeof v === 'bigint' ? String(v) : v,
      );
      if (text.includes('"initContainers"')) initContainers++;
      if (text.includes('"restartPolicy":"Always"')) nativeSidecars++;
    }
    expect([...kinds]).to.include.members(['Deployment', 'StatefulSet', 'CronJob', 'Job', 'DaemonSet']);
    expect(multiNamespace).to.be.at.least(3);
    expect(initContainers).to.be.at.least(2);
    expect(nativeSidecars).to.be.at.least(2);
  });

  it('every trace has its line in traces/README.md', () => {
    const readme = readFileSync(path.join(repoRoot, 'traces', 'README.md'), 'utf8');
    for (const r of real) expect(readme, r.name).to.include(`| \`${r.name}\` |`);
  });

  it('is the real split of sim-arena bench', () => {
    const split = splitScenarios('real');
    expect(split.map((s) => s.name)).to.deep.equal(real.map((r) => r.name));
    for (const s of split) {
      expect(s.kind).to.equal('recorded');
      expect(s.nodePool).to.not.equal(undefined);
    }
  });

  it('no episode starts solved, and heuristic or blind solves each by changing only the workload, never repeating a blocked action', async () => {
    const unsolved: string[] = [];
    for (const r of real) {
      const spec = episodeSpec({ workload: r.workload, target: r.target, nodePool: r.nodePool, maxSteps: 100 });
      let solvedBy = '';
      for (const policy of ['heuristic', 'blind']) {
        const res = await runEpisode(spec, r.trace(), getPolicy(policy), backend);
        expect(res.stepsToSolve, `${r.name} is solved at step 0: not a task`).to.not.equal(0);
        expectNoRepeatedBlock(res.history, `${r.name} (${policy})`);
        if (res.solved && !solvedBy) solvedBy = policy;
      }
      if (!solvedBy) unsolved.push(r.name);
    }
    expect(unsolved).to.deep.equal([]);
  });

  it('no built-in policy repeats a blocked action on any recorded trace (20 steps)', async () => {
    const names = policyNames().filter((n) => n !== 'external');
    for (const r of real)
      for (const name of names) {
        const spec = episodeSpec({
          workload: r.workload,
          target: r.target,
          nodePool: r.nodePool,
          maxSteps: 20,
          seed: 2,
        });
        const res = await runEpisode(spec, r.trace(), getPolicy(name), backend);
        expectNoRepeatedBlock(res.history, `${r.name} (${name})`);
      }
  });
});
