// Operator overhead: N ArenaEpisodes created at once on the test control plane, one in-process operator with W
// workers, and per replay ("step": the initial observation, then each action) the wall time the operator adds on top
// of the backend's own work.
//
//   npx tsx bench/operator.ts [--episodes 100] [--backend embedded|kwok] [--workers 16] [--step-duration 5s]
//                             [--max-steps 10] [--timeout 900]
//
// A step runs from its first transition (begin for step 0, act for step k) to the next step's first transition, or
// to the episode's Done status as seen by a watch. The backend's share of it is its replay — from the run's first
// start() to the end of the poll that returned the observation (for kwok: nodes starting, the real scheduler, pods
// settling; for embedded: the in-process simulation) — plus its cleanup() calls. Everything else is operator overhead
// (the headline numbers): reading the episode, reading and writing trace ConfigMaps, deciding, status writes, events,
// and time spent queued behind other episodes; it is split into time inside reconciles and time queued. A poll that
// runs late because the workers are busy counts as replay, which is why a watching backend (kwok) wakes its episode
// when its pods or nodes change instead of leaving it to a timer. It also counts the operator's API requests per step
// (by verb and resource; the backend's own requests included) and samples the process's memory. The last three lines
// are the headline numbers.
process.env.LOG_LEVEL ??= 'warn';

import { CustomObjectsApi, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { createOperator, defaultBackends } from '../src/operator/index.js';
import { GROUP, PLURAL, VERSION } from '../src/api/names.js';
import { type ArenaEpisode } from '../src/api/episode.js';
import type { PhasedBackend, PollResult, StepRun } from '../src/arena/backend.js';
import { Informer } from '../src/controller/informer.js';
import { withKeepAlive } from '../src/kube/config.js';
import { silentLogger } from '../src/util/log.js';
import { CANONICAL } from '../src/trace/generate.js';
import { deleteNamespace, ensureCluster, freshNamespace, waitFor } from '../test/support/cluster.js';
import { createEpisode, ensureCrd, scenarioConfigMap } from '../test/integration/operator/helpers.js';

// ---------------------------------------------------------------------------------------------- arguments

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
const episodes = Number(arg('episodes', '100'));
const backendName = arg('backend', 'embedded');
const workers = Number(arg('workers', '16'));
const stepDuration = arg('step-duration', '5s');
const maxSteps = Number(arg('max-steps', '10'));
const timeoutSec = Number(arg('timeout', '900'));
if (!Number.isInteger(episodes) || episodes < 1) throw new RangeError('--episodes must be a whole number ≥ 1');
if (backendName !== 'embedded' && backendName !== 'kwok')
  throw new RangeError('--backend must be embedded or kwok (simkube needs SimKube)');
if (!Number.isInteger(workers) || workers < 1) throw new RangeError('--workers must be a whole number ≥ 1');

// ---------------------------------------------------------------------------------------------- measurements

interface RunStats {
  /** ms inside backend start/poll/cleanup calls. */
  busyMs: number;
  /** ms of waits the backend asked for between polls. */
  waitMs: number;
  calls: number;
  /** When the first start() began and the poll that returned the observation ended (the replay, seen from outside). */
  firstAt?: number;
  observedAt?: number;
  /** ms inside cleanup() calls. */
  cleanupMs: number;
}
const runs = new Map<string, RunStats>();
/** episode name → step → run name. */
const runOf = new Map<string, Map<number, string>>();
/** Per episode key: step → when its first transition ran. */
const stepStarts = new Map<string, Map<number, number>>();
const doneAt = new Map<string, number>();
/** Per episode key: [start, end] of every reconcile. */
const reconciles = new Map<string, Array<[number, number]>>();
const transitionsSeen = new Map<string, number>();

function runStats(name: string): RunStats {
  let r = runs.get(name);
  if (!r) runs.set(name, (r = { busyMs: 0, waitMs: 0, calls: 0, cleanupMs: 0 }));
  return r;
}

/** The default backends, timed. */
function instrumented(
  kc: KubeConfig,
): (ep: ArenaEpisode, spec: Parameters<ReturnType<typeof defaultBackends>>[1]) => PhasedBackend {
  const inner = defaultBackends(kc);
  const wrapped = new Map<PhasedBackend, PhasedBackend>();
  return (ep, spec) => {
    const b = inner(ep, spec);
    let w = wrapped.get(b);
    if (!w) {
      const time = async <T>(run: StepRun, fn: () => Promise<T>): Promise<T> => {
        const step = Number(/-s(\d+)$/.exec(run.name)?.[1]);
        if (run.episode && Number.isInteger(step)) {
          let m = runOf.get(run.episode);
          if (!m) runOf.set(run.episode, (m = new Map()));
          m.set(step, run.name);
        }
        const t0 = performance.now();
        runStats(run.name).firstAt ??= t0;
        try {
          return await fn();
        } finally {
          const s = runStats(run.name);
          s.busyMs += performance.now() - t0;
          s.calls++;
        }
      };
      w = {
        name: b.name,
        ...(b.inProcess ? { inProcess: true } : {}),
        ...(b.onRunChange ? { onRunChange: (listener: (run: string) => void) => b.onRunChange!(listener) } : {}),
        start: (run) => time(run, () => b.start(run)),
        poll: async (run) => {
          const r: PollResult = await time(run, () => b.poll(run));
          if (!r.observation) runStats(run.name).waitMs += r.waitMs ?? 1000;
          else runStats(run.name).observedAt ??= performance.now();
          return r;
        },
        cleanup: async (run) => {
          const t0 = performance.now();
          try {
            await time(run, () => b.cleanup(run));
          } finally {
            runStats(run.name).cleanupMs += performance.now() - t0;
          }
        },
      };
      wrapped.set(b, w);
    }
    return w;
  };
}

/** Counts the operator's API requests by verb and resource (watches are not counted). */
const requests = new Map<string, number>();
function countRequests(kc: KubeConfig): void {
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (ctx) => {
    const url = new URL(ctx.getUrl());
    const parts = url.pathname.split('/').filter(Boolean);
    // /api/v1/namespaces/ns/configmaps/name → configmaps; /apis/g/v/namespaces/ns/arenaepisodes/name/status → arenaepisodes/status
    const core = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
    const rest = core[0] === 'namespaces' && core.length > 2 ? core.slice(2) : core;
    const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? url.pathname);
    const key = `${ctx.getHttpMethod()} ${resource}${rest.length === 1 ? ' (collection)' : ''}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    return apply(ctx);
  };
}

let peakRss = 0;
let peakHeap = 0;
function sampleMemory(): void {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
const ms = (n: number) => `${Math.round(n)} ms`;

// ---------------------------------------------------------------------------------------------- the run

async function main(): Promise<void> {
  const kubeconfig = await ensureCluster();
  const admin = new KubeConfig();
  admin.loadFromFile(kubeconfig);
  await ensureCrd(admin);
  const ns = await freshNamespace(admin, `bench-${backendName}`);
  const memTimer = setInterval(sampleMemory, 100);
  process.stdout.write(
    `operator bench: ${episodes} ${backendName} episodes, ${workers} workers, stepDuration ${stepDuration}, maxSteps ${maxSteps}, namespace ${ns}\n`,
  );

  // The operator gets its own KubeConfig so only its requests are counted.
  const plain = new KubeConfig();
  plain.loadFromFile(kubeconfig);
  const kc = withKeepAlive(plain); // what createOperator would make; made here so the counting wrapper stays on it
  countRequests(kc);
  const operator = createOperator({
    kc,
    namespace: ns,
    workers,
    health: false,
    leaderElection: false,
    backendFor: instrumented(kc),
    beforeTransition: (ep, transition) => {
      const key = `${ep.metadata!.namespace}/${ep.metadata!.name}`;
      transitionsSeen.set(transition, (transitionsSeen.get(transition) ?? 0) + 1);
      const step = transition === 'begin' ? 0 : transition === 'act' ? (ep.status?.step ?? 0) + 1 : undefined;
      if (step === undefined) return;
      let m = stepStarts.get(key);
      if (!m) stepStarts.set(key, (m = new Map()));
      if (!m.has(step)) m.set(step, performance.now()); // a retried transition keeps its first time
    },
  });

  // Time every reconcile: the rest of a step is time spent queued.
  const queue = operator.queue;
  const startQueue = queue.start.bind(queue);
  queue.start = (handler) =>
    startQueue(async (key) => {
      const t0 = performance.now();
      try {
        return await handler(key);
      } finally {
        let list = reconciles.get(key);
        if (!list) reconciles.set(key, (list = []));
        list.push([t0, performance.now()]);
      }
    });

  // Done times from a watch of our own.
  const finished = new Map<string, ArenaEpisode>();
  const informer = new Informer<KubernetesObject>({
    kc: admin,
    path: `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`,
    name: 'bench-episodes',
    logger: silentLogger(),
  });
  informer.on((obj) => {
    const ep = obj as ArenaEpisode;
    const key = `${ns}/${ep.metadata!.name}`;
    if (ep.status?.stepPhase === 'Done' && !doneAt.has(key)) {
      doneAt.set(key, performance.now());
      finished.set(key, ep);
    }
  });
  informer.start();
  await informer.hasSynced();

  const scenarios = CANONICAL.map((c) => c.meta);
  const cms = new Map<string, string>();
  for (const s of scenarios) cms.set(s.name, await scenarioConfigMap(admin, ns, s.name));
  await operator.start();

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const names: string[] = [];
  const creates: Array<Promise<unknown>> = [];
  for (let i = 0; i < episodes; i++) {
    const s = scenarios[i % scenarios.length]!;
    const name = `ep-${String(i).padStart(4, '0')}-${s.name}`;
    names.push(name);
    creates.push(
      createEpisode(admin, ns, name, {
        trace: { configMapRef: { name: cms.get(s.name)! } },
        targetReplicas: s.target,
        maxSteps,
        backend: backendName as 'embedded' | 'kwok',
        stepDuration,
      }),
    );
    if (creates.length >= 25) await Promise.all(creates.splice(0));
  }
  await Promise.all(creates);
  const created = performance.now() - t0;
  let lastReport = performance.now();
  await waitFor(
    `${episodes} episodes to finish`,
    async () => {
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        process.stdout.write(
          `  … ${doneAt.size}/${episodes} done after ${Math.round((performance.now() - t0) / 1000)} s (queue ${operator.queue.length}, in flight ${operator.queue.inFlight})\n`,
        );
      }
      return doneAt.size >= episodes;
    },
    timeoutSec * 1000,
    100,
  ).catch((e: Error) => process.stdout.write(`WARNING: ${e.message}\n`));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  sampleMemory();

  // ---- per-step overhead
  const overheads: number[] = [];
  const backendTimes: number[] = [];
  const stepWalls: number[] = [];
  const inReconcile: number[] = [];
  const queued: number[] = [];
  const firstOverheads: number[] = [];
  const laterOverheads: number[] = [];
  let steps = 0;
  for (const name of names) {
    const key = `${ns}/${name}`;
    const starts = stepStarts.get(key);
    const end = doneAt.get(key);
    if (!starts || end === undefined) continue;
    const ordered = [...starts.entries()].sort((a, b) => a[0] - b[0]);
    for (const [i, [step, at]] of ordered.entries()) {
      const until = ordered[i + 1]?.[1] ?? end;
      const run = runOf.get(name)?.get(step);
      const stats = run ? runs.get(run) : undefined;
      // The backend's share: the replay, from its first start() to the end of the poll that observed, and cleanup().
      const replayMs =
        stats?.firstAt !== undefined && stats.observedAt !== undefined ? stats.observedAt - stats.firstAt : undefined;
      const backendMs = stats ? (replayMs ?? stats.busyMs + stats.waitMs) + stats.cleanupMs : 0;
      // Reconcile time inside this step (a reconcile may straddle the boundary: cleanup of k-1 then act of k).
      const active = (reconciles.get(key) ?? []).reduce(
        (sum, [a, b]) => sum + Math.max(0, Math.min(b, until) - Math.max(a, at)),
        0,
      );
      const overhead = Math.max(0, until - at - backendMs);
      const own = Math.min(overhead, Math.max(0, active - (stats?.busyMs ?? 0)));
      inReconcile.push(own);
      queued.push(overhead - own);
      stepWalls.push(until - at);
      backendTimes.push(backendMs);
      overheads.push(overhead);
      (step === 0 ? firstOverheads : laterOverheads).push(overhead);
      steps++;
    }
  }
  overheads.sort((a, b) => a - b);
  backendTimes.sort((a, b) => a - b);
  stepWalls.sort((a, b) => a - b);
  inReconcile.sort((a, b) => a - b);
  queued.sort((a, b) => a - b);
  firstOverheads.sort((a, b) => a - b);
  laterOverheads.sort((a, b) => a - b);

  const states = [...finished.values()];
  const succeeded = states.filter((e) => e.status?.phase === 'Succeeded').length;
  const solved = states.filter((e) => e.status?.solved).length;
  const failed = states.filter((e) => e.status?.phase === 'Failed');
  const totalRequests = [...requests.values()].reduce((a, b) => a + b, 0);

  const out: string[] = [];
  out.push(
    `episodes: ${episodes} created in ${ms(created)}, ${doneAt.size} finished (${succeeded} Succeeded, ${solved} solved, ${failed.length} Failed) in ${(wall / 1000).toFixed(1)} s`,
  );
  for (const f of failed.slice(0, 5)) out.push(`  failed ${f.metadata?.name}: ${f.status?.message}`);
  out.push(
    `steps (replays incl. the initial observation): ${steps}, ${(steps / (wall / 1000)).toFixed(1)} steps/s; operator CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${(((cpu.user + cpu.system) / 1e3 / wall) * 100).toFixed(0)}% of one core)`,
  );
  out.push(
    `step wall time     p50 ${ms(quantile(stepWalls, 0.5))}, p95 ${ms(quantile(stepWalls, 0.95))}, max ${ms(quantile(stepWalls, 1))}`,
  );
  out.push(
    `backend's own time p50 ${ms(quantile(backendTimes, 0.5))}, p95 ${ms(quantile(backendTimes, 0.95))}, max ${ms(quantile(backendTimes, 1))}`,
  );
  out.push(
    `operator overhead  p50 ${ms(quantile(overheads, 0.5))}, p95 ${ms(quantile(overheads, 0.95))}, p99 ${ms(quantile(overheads, 0.99))}, max ${ms(quantile(overheads, 1))}`,
  );
  out.push(
    `  of which in reconcile (API calls, decisions) p50 ${ms(quantile(inReconcile, 0.5))}, p95 ${ms(quantile(inReconcile, 0.95))}; queued behind other episodes p50 ${ms(quantile(queued, 0.5))}, p95 ${ms(quantile(queued, 0.95))}`,
  );
  out.push(
    `  by step: the starting observation p50 ${ms(quantile(firstOverheads, 0.5))}, p95 ${ms(quantile(firstOverheads, 0.95))}; steps 1… p50 ${ms(quantile(laterOverheads, 0.5))}, p95 ${ms(quantile(laterOverheads, 0.95))}`,
  );
  out.push(`transitions: ${[...transitionsSeen.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(`operator API requests: ${totalRequests} (${(totalRequests / Math.max(1, steps)).toFixed(1)} per step)`);
  for (const [k, v] of [...requests.entries()].sort((a, b) => b[1] - a[1]))
    out.push(`  ${k.padEnd(48)} ${String(v).padStart(7)}  ${(v / Math.max(1, steps)).toFixed(2)}/step`);
  out.push(
    `memory at peak: rss ${(peakRss / 2 ** 20).toFixed(0)} MiB, heap used ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
  );
  out.push(`operator-overhead-p50-ms: ${Math.round(quantile(overheads, 0.5))}`);
  out.push(`operator-overhead-p95-ms: ${Math.round(quantile(overheads, 0.95))}`);
  out.push(`operator-rss-mb: ${Math.round(peakRss / 2 ** 20)}`);

  // ---- clean up: delete the episodes while the operator runs (finalizers), then the namespace.
  const custom = admin.makeApiClient(CustomObjectsApi);
  await custom
    .deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
    .catch(() => undefined);
  await waitFor('the episodes to be deleted', async () => informer.list().length === 0, 300_000, 250).catch(
    (e: Error) => process.stderr.write(`${e.message}\n`),
  );
  await operator.stop();
  await informer.stop();
  clearInterval(memTimer);
  await deleteNamespace(admin, ns);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
