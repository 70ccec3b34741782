// Core speed, per CPU-second of this single-threaded process (robust when other work shares the machine; wall-clock
// rates are printed too):
// - embedded steps on a cluster-sized trace (10k pods of 100 Deployments over 1k nodes, bench/large-trace.ts):
//   mean ms per step, random policy, one action per step;
// - embedded steps per second on a real trace with history (SimKube's DeathStarBench trace, 27 Deployments);
// - embedded steps per second on the canonical scenarios;
// - trace decode+encode throughput on the fixture traces.
// The last four lines are the headline numbers.
//   npx tsx bench/core.ts [--seconds 3] [--only large,real,canonical,codec]
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { episodeStep, episodeSpec } from '../src/arena/episode.js';
import { getPolicy } from '../src/arena/policies.js';
import { clusterCapacity } from '../src/arena/capacity.js';
import { EmbeddedBackend } from '../src/sim/embedded/index.js';
import { incrementalStats } from '../src/sim/embedded/incremental.js';
import { CANONICAL, canonicalScenario } from '../src/trace/generate.js';
import { decodeTrace, encodeTrace } from '../src/trace/trace.js';
import { decodeMsgpack, encodeMsgpack } from '../src/trace/msgpack.js';
import type { Trace } from '../src/trace/trace.js';
import { readResources } from '../src/arena/actions.js';
import type { WorkloadRef } from '../src/trace/workload.js';
import { largeTrace } from './large-trace.js';

const flag = process.argv.indexOf('--seconds');
const seconds = flag > 0 ? Number(process.argv[flag + 1]) : 3;
if (!(seconds > 0)) throw new RangeError('--seconds must be a positive number');
const onlyFlag = process.argv.indexOf('--only');
const only = new Set(
  onlyFlag > 0 ? (process.argv[onlyFlag + 1] ?? '').split(',') : ['large', 'real', 'canonical', 'codec'],
);
for (const o of only)
  if (!['large', 'real', 'canonical', 'codec'].includes(o))
    throw new RangeError(`--only: unknown part "${o}" (large, real, canonical, codec)`);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtureDirs = [
  join(root, '..', 'shared', 'fixtures', 'simkube', 'traces'),
  join(root, '..', 'shared', 'fixtures', 'legacy-sim-arena'),
];

/** How the replays since `since` ran: in full, resumed from a saved state, or answered from memory (incremental.ts). */
function replays(since: typeof incrementalStats): string {
  const d = (k: keyof typeof incrementalStats) => incrementalStats[k] - since[k];
  return `replays: ${d('full')} full, ${d('resumed')} resumed from a saved state, ${d('remembered')} of a trace state seen before`;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

// Budgets are CPU-seconds, not wall seconds: on a machine shared with other work a wall-clock budget buys too little
// CPU for the JIT to warm up. Each part first runs unmeasured (about a sixth of its budget).
const warmup = seconds / 3;

async function embeddedSteps(): Promise<number> {
  const backend = new EmbeddedBackend();
  const random = getPolicy('random');
  const encoded = CANONICAL.map((c) => ({ meta: c.meta, bytes: encodeTrace(canonicalScenario(c.meta.name).trace) }));
  let steps = 0;
  let episodes = 0;
  const perScenario = new Map<string, number>();
  let start = performance.now();
  let cpu0 = process.cpuUsage();
  let warming = true;
  while (cpuSeconds(cpu0) < (warming ? warmup : seconds)) {
    if (warming && cpuSeconds(cpu0) >= warmup / 2) {
      warming = false;
      steps = 0;
      episodes = 0;
      start = performance.now();
      cpu0 = process.cpuUsage();
    }
    for (const { meta, bytes } of encoded) {
      const trace = decodeTrace(bytes).trace;
      const spec = episodeSpec({ workload: meta.workload, target: meta.target, maxSteps: 50, seed: episodes });
      const capacity = clusterCapacity(trace, spec.nodePool);
      let obs = await backend.run(trace, spec.workload, { seed: spec.seed });
      for (let step = 1; step <= spec.maxSteps; step++) {
        // Random actions: every step changes (or tries to change) the trace, so nearly every step replays it.
        const rec = await episodeStep(spec, trace, obs, step, random, backend, capacity);
        obs = rec.observation;
        steps++;
        perScenario.set(meta.name, (perScenario.get(meta.name) ?? 0) + 1);
      }
      episodes++;
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(cpu0);
  console.log(
    `embedded: ${steps} steps in ${episodes} episodes (random policy, 50 steps each, ${CANONICAL.length} canonical scenarios): ${elapsed.toFixed(2)} s wall (${Math.round(steps / elapsed)}/s), ${cpu.toFixed(2)} s CPU`,
  );
  return steps / cpu;
}

/** Random-policy episodes of `maxSteps` on each workload of the trace in turn, until `budget` seconds have passed. */
async function stepsOnTrace(
  bytes: Uint8Array,
  workloads: readonly WorkloadRef[],
  maxSteps: number,
  budget: number,
  minSteps = 0,
  warm = 0,
): Promise<{ steps: number; cpu: number; wall: number; episodes: number; replays: string }> {
  const backend = new EmbeddedBackend();
  const random = getPolicy('random');
  let steps = 0;
  let episodes = 0;
  let start = performance.now();
  let cpu = 0;
  let warming = warm > 0;
  let stats = { ...incrementalStats };
  while (cpu < (warming ? warm : budget) || steps < minSteps) {
    if (warming && cpu >= warm / 2) {
      warming = false;
      steps = 0;
      episodes = 0;
      cpu = 0;
      start = performance.now();
      stats = { ...incrementalStats };
    }
    const workload = workloads[episodes % workloads.length]!;
    const trace: Trace = decodeTrace(bytes).trace;
    const target = readResources(trace, workload).replicas;
    const spec = episodeSpec({ workload, target, maxSteps, seed: episodes });
    const capacity = clusterCapacity(trace, spec.nodePool);
    let obs = await backend.run(trace, spec.workload, { seed: spec.seed });
    // Only the steps count: decoding and the episode's first replay are outside the measured CPU time.
    const cpu0 = process.cpuUsage();
    for (let step = 1; step <= spec.maxSteps; step++) {
      const rec = await episodeStep(spec, trace, obs, step, random, backend, capacity);
      obs = rec.observation;
      steps++;
    }
    cpu += cpuSeconds(cpu0);
    episodes++;
  }
  return { steps, cpu, wall: (performance.now() - start) / 1000, episodes, replays: replays(stats) };
}

async function largeTraceStepMs(): Promise<number> {
  const { trace, workloads } = largeTrace();
  const bytes = encodeTrace(trace);
  const r = await stepsOnTrace(bytes, workloads, 5, seconds, 5);
  const ms = (r.cpu * 1000) / r.steps;
  console.log(
    `embedded, 10k pods × 1k nodes (${workloads.length} Deployments, ${(bytes.length / 1e6).toFixed(1)} MB trace): ${r.steps} steps in ${r.episodes} episodes (random policy): ${r.cpu.toFixed(2)} s CPU in steps → ${ms.toFixed(1)} ms per step; ${r.replays}`,
  );
  return ms;
}

async function realTraceSteps(): Promise<number> {
  const bytes = readFileSync(join(root, 'test', 'fixtures', 'simkube', 'dsb-scaling.sktrace'));
  const trace = decodeTrace(bytes).trace;
  const workloads: WorkloadRef[] = [];
  for (const ev of trace.get('events') as Array<Map<string, unknown>>) {
    for (const o of ev.get('applied_objs') as Array<Map<string, unknown>>) {
      const md = o.get('metadata') as Map<string, unknown>;
      const ref = {
        kind: o.get('kind') as string,
        namespace: md.get('namespace') as string,
        name: md.get('name') as string,
      };
      if (ref.kind === 'Deployment' && !workloads.some((w) => w.name === ref.name && w.namespace === ref.namespace))
        workloads.push(ref);
    }
  }
  const r = await stepsOnTrace(bytes, workloads, 50, seconds, 0, warmup);
  console.log(
    `embedded, SimKube's DeathStarBench trace (${workloads.length} Deployments, ${bytes.length} bytes): ${r.steps} steps in ${r.episodes} episodes (random policy, 50 steps each): ${r.cpu.toFixed(2)} s CPU in steps (${Math.round(r.steps / r.wall)}/s wall incl. decoding); ${r.replays}`,
  );
  return r.steps / r.cpu;
}

function codec(): number {
  const files = fixtureDirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.(msgpack|sktrace)$/.test(f))
      .map((f) => readFileSync(join(d, f))),
  );
  const total = files.reduce((n, b) => n + b.length, 0);
  let bytes = 0;
  const w0 = process.cpuUsage();
  while (cpuSeconds(w0) < warmup) for (const b of files) encodeMsgpack(decodeMsgpack(b));
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (cpuSeconds(cpu0) < seconds) {
    for (const b of files) {
      encodeMsgpack(decodeMsgpack(b));
      bytes += b.length;
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(cpu0);
  console.log(
    `codec: ${files.length} fixture traces (${total} bytes per pass), decode+encode ${(bytes / 1e6).toFixed(1)} MB: ${elapsed.toFixed(2)} s wall (${(bytes / 1e6 / elapsed).toFixed(1)} MB/s), ${cpu.toFixed(2)} s CPU`,
  );
  return bytes / 1e6 / cpu;
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; rates per CPU-second of one thread`,
);
const largeMs = only.has('large') ? await largeTraceStepMs() : undefined;
const real = only.has('real') ? await realTraceSteps() : undefined;
const steps = only.has('canonical') ? await embeddedSteps() : undefined;
const mbps = only.has('codec') ? codec() : undefined;
if (largeMs !== undefined) console.log(`embedded-step-ms-10k-pods-1k-nodes: ${largeMs.toFixed(1)}`);
if (real !== undefined) console.log(`embedded-steps-per-second-real-trace: ${Math.round(real)}`);
if (steps !== undefined) console.log(`embedded-steps-per-second: ${Math.round(steps)}`);
if (mbps !== undefined) console.log(`trace-codec-mb-per-second: ${mbps.toFixed(1)}`);
