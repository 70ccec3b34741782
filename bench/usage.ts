// Usage overhead: embedded episode steps per CPU-second on the canonical scenarios with and without usage (a
// diurnal+noise synth, 30 s per step), at episode lengths where the per-pod history the model replays grows.
//   npx tsx bench/usage.ts [--seconds 2]
import { episodeSpec, runEpisode, type EpisodeSpec } from '../src/arena/episode.js';
import { getPolicy } from '../src/arena/policies.js';
import { episodeUsage } from '../src/arena/usage/run.js';
import { EmbeddedBackend } from '../src/sim/embedded/index.js';
import { CANONICAL, canonicalScenario } from '../src/trace/generate.js';
import { synthesizeUsage } from '../src/trace/usage/synth.js';
import { decodeTrace, encodeTrace } from '../src/trace/trace.js';

const flag = process.argv.indexOf('--seconds');
const seconds = flag > 0 ? Number(process.argv[flag + 1]) : 2;
if (!(seconds > 0)) throw new RangeError('--seconds must be a positive number');

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const usage = synthesizeUsage({
  workloads: [{ workload: web }],
  patterns: ['diurnal', 'noise'],
  cpu: '400m',
  memory: '600Mi',
  duration: 86_400,
  interval: 30,
  seed: 1,
  period: 3600,
});

const encoded = CANONICAL.map((c) => ({ meta: c.meta, bytes: encodeTrace(canonicalScenario(c.meta.name).trace) }));

async function rate(withUsage: boolean, maxSteps: number): Promise<number> {
  const backend = new EmbeddedBackend();
  const policy = getPolicy('random');
  let steps = 0;
  const cpu0 = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let seed = 0;
  while (performance.now() < deadline) {
    for (const { meta, bytes } of encoded) {
      const spec: EpisodeSpec = episodeSpec({
        workload: meta.workload,
        target: meta.target,
        maxSteps,
        seed: seed++,
        ...(withUsage
          ? { usage: episodeUsage(usage), reward: { mode: 'rightsizing' as const } }
          : { stopAtGoal: false }),
      });
      steps += (await runEpisode(spec, decodeTrace(bytes).trace, policy, backend)).steps;
    }
  }
  const d = process.cpuUsage(cpu0);
  return steps / ((d.user + d.system) / 1e6);
}

await rate(true, 50); // warm up
for (const maxSteps of [50, 200]) {
  const without = await rate(false, maxSteps);
  const withUsage = await rate(true, maxSteps);
  console.log(
    `episodes of ${maxSteps} steps: ${Math.round(without).toLocaleString('en')} steps/s without usage, ${Math.round(withUsage).toLocaleString('en')} steps/s with usage (per CPU-second)`,
  );
}
