// Quick benchmark of the embedded simulator on the canonical arena scenario (not a mocha spec):
//   npx tsx bench/embedded.ts
// Prints the best and median batch average of simulate()+observe() per call (wall clock and CPU time).
import { runEmbedded } from '../src/sim/embedded/index.js';
import { deployment, podSpec, traceWith, WEB } from '../test/unit/sim/embedded/helpers.js';

const cases = [
  ['1 Deployment x 5 (500m/512Mi), 3 nodes', traceWith(deployment('web', 5, podSpec('500m', '512Mi')))],
  ['1 Deployment x 3 (500m/512Mi), 3 nodes', traceWith(deployment('web', 3, podSpec('500m', '512Mi')))],
  ['1 Deployment x 3 (17000m, all Pending)', traceWith(deployment('web', 3, podSpec('17000m', '2Gi')))],
] as const;

for (const [, t] of cases) for (let i = 0; i < 30_000; i++) runEmbedded(t, WEB, { seed: i });
for (const [name, t] of cases) {
  const batch = 20_000;
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < 30; b++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) runEmbedded(t, WEB, { seed: i });
    runs.push(Number(process.hrtime.bigint() - t0) / batch / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / batch);
  }
  runs.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(42)} wall best ${runs[0]!.toFixed(2)} µs, median ${runs[15]!.toFixed(2)} µs; cpu median ${cpu[15]!.toFixed(2)} µs`,
  );
}
