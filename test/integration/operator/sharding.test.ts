// Several operator processes share the episodes by shard (`sim-arena operator --shards N`) on the real control
// plane: the shards spread over the replicas, one replica is killed (SIGKILL: its Leases are not released) while
// episodes run, its shards are taken over, and every episode ends exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { CoordinationV1Api, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  deleteNamespace,
  ensureCluster,
  freshNamespace,
  kubeConfig,
  REPO_ROOT,
  waitFor,
} from '../../support/cluster.js';
import { createEpisode, ensureCrd, getEpisode, scenarioConfigMap } from './helpers.js';
import { shardOf } from '../../../src/controller/shards.js';

const SHARDS = 6;
const REPLICAS = 3;

describe('operator: episodes shared between replicas by shard', function () {
  this.timeout(300_000);
  let kc: KubeConfig;
  let kubeconfig: string;
  let ns: string;
  const replicas: Array<{ child: ChildProcess; log: string }> = [];

  before(async function () {
    this.timeout(3_600_000);
    kubeconfig = await ensureCluster();
    kc = await kubeConfig();
    await ensureCrd(kc);
    ns = await freshNamespace(kc, 'shards');
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(
      replicas.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }),
    );
    if (ns) await deleteNamespace(kc, ns);
  });

  function startReplica(): void {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'src/cli/main.ts'),
        'operator',
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        ns,
        '--leader-namespace',
        ns,
        '--shards',
        String(SHARDS),
        '--lease-duration',
        '3',
        '--health-port',
        '0',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const r = { child, log: '' };
    const keep = (b: Buffer): void => void (r.log = (r.log + b.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    replicas.push(r);
  }

  /** Holder of each shard Lease that is held and not expired. */
  async function holders(): Promise<Map<number, string>> {
    const leases = (await kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: ns })).items;
    const out = new Map<number, string>();
    for (const l of leases) {
      const m = /-shard-(\d+)$/.exec(l.metadata?.name ?? '');
      const holder = l.spec?.holderIdentity;
      if (m && holder) out.set(Number(m[1]), holder);
    }
    return out;
  }

  const logs = () => replicas.map((r, i) => `--- replica ${i}\n${r.log.slice(-3000)}`).join('\n');

  it('spreads the shards, survives a killed replica, and ends every episode exactly once', async () => {
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    for (let i = 0; i < REPLICAS; i++) startReplica();

    // Every replica holds its fair share (two of six shards each).
    const spread = await waitFor(
      'the shards to spread over the replicas',
      async () => {
        const h = await holders();
        const per = new Map<string, number>();
        for (const who of h.values()) per.set(who, (per.get(who) ?? 0) + 1);
        return h.size === SHARDS && per.size === REPLICAS && [...per.values()].every((n) => n === 2) ? h : undefined;
      },
      120_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });

    const names = Array.from({ length: 24 }, (_, i) => `ep-${i}`);
    const spec = { trace: { configMapRef: { name: cm } }, targetReplicas: 3, maxSteps: 12 };
    for (const name of names.slice(0, 12)) await createEpisode(kc, ns, name, spec);

    // Kill the replica holding shard 0 without letting it release anything, and create the rest at once: episodes
    // in its shards wait for its Leases to expire (3 s) and are then run by the others.
    const victimIdentity = spread.get(0)!;
    const victimShards = [...spread].filter(([, who]) => who === victimIdentity).map(([i]) => i);
    const victim = replicas.find((r) => victimIdentity.endsWith(`-${r.child.pid}`));
    expect(victim, `a replica with identity ${victimIdentity}`).to.not.equal(undefined);
    victim!.child.kill('SIGKILL');
    for (const name of names.slice(12)) await createEpisode(kc, ns, name, spec);
    expect(
      names.some((n) => victimShards.includes(shardOf(`${ns}/${n}`, SHARDS))),
      'some episodes fall in the killed replica',
    ).to.equal(true);

    for (const name of names) {
      const ep = await waitFor(
        `episode ${name} to finish`,
        async () => {
          const e = await getEpisode(kc, ns, name);
          return e.status?.stepPhase === 'Done' ? e : undefined;
        },
        120_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${logs()}`);
      });
      expect(ep.status?.phase, `${name}: ${ep.status?.message}`).to.equal('Succeeded');
      expect(ep.status?.solved, name).to.equal(true);
      expect((ep.status?.history ?? []).map((h) => h.step)).to.deep.equal([1, 2]);
    }

    // The survivors hold every shard between them now.
    const after = await waitFor('the killed replica’s shards to be taken over', async () => {
      const h = await holders();
      return h.size === SHARDS && ![...h.values()].includes(victimIdentity) ? h : undefined;
    });
    expect(new Set(after.values()).size).to.equal(REPLICAS - 1);

    // Exactly once: one StepCompleted Event per step of every episode, none repeated.
    const stepsOf = async () => {
      const events = (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns })).items;
      return names.map((name) =>
        events
          .filter((e) => e.regarding?.name === name && e.reason === 'StepCompleted')
          .map((e) => Number(/^step (\d+):/.exec(e.note ?? '')?.[1]))
          .sort((a, b) => a - b),
      );
    };
    // Events are sent without waiting for them: give the last ones a moment to arrive.
    await waitFor('every StepCompleted event', async () => (await stepsOf()).every((s) => s.length >= 2), 15_000).catch(
      () => undefined,
    );
    const steps = await stepsOf();
    names.forEach((name, i) => {
      // The killed replica may have written an episode's steps and died before sending their Events (they follow the
      // write); such an episode has fewer Events, never a repeated one. Every other episode has exactly one per step.
      const mayHaveLost = i < 12 && victimShards.includes(shardOf(`${ns}/${name}`, SHARDS));
      if (mayHaveLost) expect(new Set(steps[i]).size, `${name}'s StepCompleted events`).to.equal(steps[i]!.length);
      else expect(steps[i], `${name}'s StepCompleted events`).to.deep.equal([1, 2]);
      expect(steps[i]!.every((s) => s === 1 || s === 2)).to.equal(true);
    });
  });
});
