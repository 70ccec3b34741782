// Core speed: embedded episode steps per second on the canonical scenarios, and trace decode+encode throughput on
// the fixture traces. Rates are per CPU-second of this single-threaded process (robust when other work shares the
// machine); wall-clock rates are printed too. The last two lines are the headline numbers.
//   npx tsx bench/core.ts [--seconds 3]
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { episodeStep, episodeSpec } from '../src/arena/episode.js';
import { getPolicy } from '../src/arena/policies.js';
import { clusterCapacity } from '../src/arena/capacity.js';
import { EmbeddedBackend } from '../src/sim/embedded/index.js';
import { CANONICAL, canonicalScenario } from '../src/trace/generate.js';
import { decodeTrace, encodeTrace } from '../src/trace/trace.js';
import { decodeMsgpack, encodeMsgpack } from '../src/trace/msgpack.js';

const flag = process.argv.indexOf('--seconds');
const seconds = flag > 0 ? Number(process.argv[flag + 1]) : 3;
if (!(seconds > 0)) throw new RangeError('--seconds must be a positive number');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtureDirs = [join(root, '..', 'shared', 'fixtures', 'simkube', 'traces'), join(root, '..', 'shared', 'fixtures', 'legacy-sim-arena')];

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

async function embeddedSteps(): Promise<number> {
  const backend = new EmbeddedBackend();
  const random = getPolicy('random');
  const encoded = CANONICAL.map((c) => ({ meta: c.meta, bytes: encodeTrace(canonicalScenario(c.meta.name).trace) }));
  let steps = 0;
  let episodes = 0;
  const perScenario = new Map<string, number>();
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < deadline) {
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
  console.log(`embedded: ${steps} steps in ${episodes} episodes (random policy, 50 steps each, ${CANONICAL.length} canonical scenarios): ${elapsed.toFixed(2)} s wall (${Math.round(steps / elapsed)}/s), ${cpu.toFixed(2)} s CPU`);
  return steps / cpu;
}

function codec(): number {
  const files = fixtureDirs.flatMap((d) => readdirSync(d).filter((f) => /\.(msgpack|sktrace)$/.test(f)).map((f) => readFileSync(join(d, f))));
  const total = files.reduce((n, b) => n + b.length, 0);
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < deadline) {
    for (const b of files) {
      encodeMsgpack(decodeMsgpack(b));
      bytes += b.length;
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(cpu0);
  console.log(`codec: ${files.length} fixture traces (${total} bytes per pass), decode+encode ${(bytes / 1e6).toFixed(1)} MB: ${elapsed.toFixed(2)} s wall (${(bytes / 1e6 / elapsed).toFixed(1)} MB/s), ${cpu.toFixed(2)} s CPU`);
  return bytes / 1e6 / cpu;
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; rates per CPU-second of one thread`);
const steps = await embeddedSteps();
const mbps = codec();
console.log(`embedded-steps-per-second: ${Math.round(steps)}`);
console.log(`trace-codec-mb-per-second: ${mbps.toFixed(1)}`);
