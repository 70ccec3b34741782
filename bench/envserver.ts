// Env server throughput: env-steps per second through POST /v1/step-batch, one process against --workers N.
// Starts `sim-arena serve --port 0 [--workers N]` as a child, creates --envs envs that draw train-split scenarios on
// every reset, and keeps --inflight batch requests of --batch envs each in flight for --seconds; an env whose
// episode ended is reset in its next batch, as the Python vector env does. Prints, per worker count, the wall rate
// and the server's CPU-seconds (from /proc), e.g.
//   envserver-steps-per-second-batched-workers-2: 31000 (server 1.9 CPU-s per wall s)
// The steady-state figure excludes start-up, env creation and --warmup seconds (every env's first reset, JIT);
// the whole-run line counts everything from spawn. --cpu-prof DIR runs the server under node --cpu-prof.
//   npx tsx bench/envserver.ts [--workers 1,2] [--envs 512] [--batch 256] [--inflight 2] [--seconds 10]
//     [--warmup 3] [--cpu-prof DIR]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    envs: { type: 'string', default: '512' },
    batch: { type: 'string', default: '256' },
    inflight: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const workerCounts = args.workers.split(',').map(Number);
const envs = Number(args.envs);
const batch = Number(args.batch);
const inflight = Number(args.inflight);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
if (!(warmup >= 0)) throw new RangeError('--warmup must be a number of seconds ≥ 0');
for (const [name, v] of Object.entries({ envs, batch, inflight, seconds }))
  if (!(v > 0)) throw new RangeError(`--${name} must be a positive number`);
if (workerCounts.some((w) => !(Number.isInteger(w) && w >= 1))) throw new RangeError('--workers: whole numbers ≥ 1');
if (batch * inflight > envs) throw new RangeError('--batch × --inflight must be at most --envs');

const bin = fileURLToPath(new URL('../bin/sim-arena.js', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: inflight + 2 });

function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method,
        agent,
        headers: text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          if ((res.statusCode ?? 500) >= 300)
            reject(new Error(`${method} ${path}: ${res.statusCode} ${String(out.error)}`));
          else resolve(out);
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function start(workers: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      ...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : []),
      bin,
      'serve',
      '--port',
      '0',
      '--quiet',
      '--max-envs',
      String(envs),
      '--max-envs-per-client',
      String(envs),
      '--workers',
      String(workers),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`sim-arena serve exited with ${code}`)));
  });
}

/** utime + stime of a process and all its threads, in seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function measure(workers: number): Promise<void> {
  const load = loadavg()[0]!;
  const tStart = performance.now();
  const { child, url } = await start(workers);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const startup = (performance.now() - tStart) / 1000;
    const cpuStartup = cpuSeconds(child.pid!);
    const ids: string[] = [];
    for (let i = 0; i < envs; i++) ids.push(((await call(url, 'POST', '/v1/envs', {})) as { id: string }).id);
    const creation = (performance.now() - tStart) / 1000 - startup;
    const groups = Array.from({ length: inflight }, (_, g) => ids.slice(g * batch, (g + 1) * batch));
    const needsReset = new Map(ids.map((id) => [id, true]));
    let steps = 0;
    let resets = 0;
    let actionSeed = 1;
    const loop = async (group: string[], until: number) => {
      while (performance.now() < until) {
        const items = group.map((id, k) =>
          needsReset.get(id)
            ? { id, reset: { seed: actionSeed + k, options: { split: 'train' } } }
            : { id, action: (actionSeed * 7 + k * 3) % 7 },
        );
        actionSeed++;
        const { results } = (await call(url, 'POST', '/v1/step-batch', { steps: items })) as {
          results: Array<{ id: string; reset?: boolean; terminated?: boolean; truncated?: boolean }>;
        };
        for (const r of results) {
          if (r.reset) resets++;
          else steps++;
          needsReset.set(r.id, !r.reset && Boolean(r.terminated || r.truncated));
        }
      }
    };
    // Warm-up: every env's first reset, JIT, caches. Counted in the whole-run figure, not in the steady one.
    const tWarm = performance.now();
    await Promise.all(groups.map((g) => loop(g, tWarm + warmup * 1000)));
    const warmSteps = steps;
    steps = 0;
    resets = 0;
    const cpu0 = cpuSeconds(child.pid!);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(groups.map((g) => loop(g, t0 + seconds * 1000)));
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const clientUse = process.cpuUsage(client0);
    const clientCpu = (clientUse.user + clientUse.system) / 1e6;
    const whole = (performance.now() - tStart) / 1000;
    const cpuWhole = cpuSeconds(child.pid!);
    process.stdout.write(
      `envserver-steps-per-second-batched-workers-${workers}: ${Math.round(steps / wall)} (steady state over ${wall.toFixed(1)} s after ${warmup} s warm-up: ${Math.round(resets / wall)} resets/s; server ${(cpu / wall).toFixed(2)} CPU-s per wall s, ${Math.round(steps / cpu)} steps per server CPU-s; this client ${(clientCpu / wall).toFixed(2)} CPU-s per wall s on the same machine; ${envs} envs, ${inflight} × ${batch} per batch; load ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs)\n` +
        `  whole run: ${Math.round((warmSteps + steps) / whole)} steps/s over ${whole.toFixed(1)} s, ${Math.round((warmSteps + steps) / cpuWhole)} per server CPU-s (start-up ${startup.toFixed(1)} s / ${cpuStartup.toFixed(1)} CPU-s, creating ${envs} envs ${creation.toFixed(1)} s)\n`,
    );
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

for (const w of workerCounts) await measure(w);
agent.destroy();
