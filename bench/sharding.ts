// Episodes per second against the number of operator replicas sharing the episodes (`operator --shards N`), on the
// test control plane. For each replica count R: start R operator processes, wait until the shards are spread, create
// E embedded ArenaEpisodes at once, and time until every one is Done (seen by listing). One line per R, then a
// summary line per R as `sharding-episodes-per-second-R<r>: N`.
//
//   npx tsx bench/sharding.ts [--replicas 1,2,3] [--episodes 60] [--shards 12] [--max-steps 10]
process.env.LOG_LEVEL ??= 'warn';

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CoordinationV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../src/api/names.js';
import type { ArenaEpisode } from '../src/api/episode.js';
import { deleteNamespace, ensureCluster, freshNamespace, REPO_ROOT, waitFor } from '../test/support/cluster.js';
import { createEpisode, ensureCrd, scenarioConfigMap } from '../test/integration/operator/helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

const replicaCounts = arg('replicas', '1,2,3').split(',').map(Number);
const episodes = Number(arg('episodes', '60'));
const shards = Number(arg('shards', '12'));
const maxSteps = Number(arg('max-steps', '10'));

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }),
  );
}

async function runOnce(kubeconfig: string, kc: KubeConfig, replicas: number): Promise<number> {
  const ns = await freshNamespace(kc, `bench-shards-${replicas}`);
  const children: ChildProcess[] = [];
  try {
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    for (let i = 0; i < replicas; i++) {
      const args = ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'operator'];
      args.push('--kubeconfig', kubeconfig, '--namespace', ns, '--leader-namespace', ns, '--health-port', '0');
      args.push('--shards', String(shards), '--lease-duration', '5', '--workers', '4');
      children.push(spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' }));
    }
    const leases = kc.makeApiClient(CoordinationV1Api);
    await waitFor(
      'the shards to spread',
      async () => {
        const held = (await leases.listNamespacedLease({ namespace: ns })).items.filter(
          (l) => /-shard-\d+$/.test(l.metadata?.name ?? '') && l.spec?.holderIdentity,
        );
        const per = new Map<string, number>();
        for (const l of held) per.set(l.spec!.holderIdentity!, (per.get(l.spec!.holderIdentity!) ?? 0) + 1);
        const fair = Math.ceil(shards / replicas);
        return held.length === shards && per.size === replicas && [...per.values()].every((n) => n <= fair);
      },
      180_000,
    );
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: episodes }, (_, i) =>
        createEpisode(kc, ns, `ep-${i}`, { trace: { configMapRef: { name: cm } }, targetReplicas: 3, maxSteps }),
      ),
    );
    const custom = kc.makeApiClient(CustomObjectsApi);
    await waitFor(
      'every episode to finish',
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: PLURAL,
        })) as {
          items: ArenaEpisode[];
        };
        return list.items.filter((e) => e.status?.stepPhase === 'Done').length === episodes;
      },
      600_000,
    );
    return (performance.now() - t0) / 1000;
  } finally {
    await stop(children);
    await deleteNamespace(kc, ns);
  }
}

const kubeconfig = await ensureCluster();
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
await ensureCrd(kc);
const results: Array<[number, number]> = [];
for (const r of replicaCounts) {
  const seconds = await runOnce(kubeconfig, kc, r);
  results.push([r, episodes / seconds]);
  console.log(`replicas ${r}: ${episodes} episodes (max ${maxSteps} steps) in ${seconds.toFixed(1)} s`);
}
for (const [r, eps] of results) console.log(`sharding-episodes-per-second-R${r}: ${eps.toFixed(2)}`);
process.exit(0);
