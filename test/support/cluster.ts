// The real control plane for integration tests: brought up once per mocha run on first use (test/cluster/up.sh
// builds what it needs), shared by every suite, torn down at the end unless it was already running.
// Point the tests at another cluster with SIM_ARENA_TEST_KUBECONFIG (it must be disposable: tests create
// namespaces, nodes and CRDs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures');
const STATE_DIR = join(REPO_ROOT, '.cluster');
const DEFAULT_KUBECONFIG = join(STATE_DIR, 'kubeconfig');
/**
 * `.cluster` is a link to a cluster another checkout owns (parallel worktrees share one): this run never starts,
 * reconciles or stops it, since a down.sh here would take it away from everyone using it.
 */
const SHARED = (() => {
  try {
    return lstatSync(STATE_DIR).isSymbolicLink();
  } catch {
    return false;
  }
})();

let ready: Promise<string> | undefined;
let startedHere = false;
const teardowns: Array<() => Promise<void>> = [];

/** Runs `fn` in the root afterAll hook, before the cluster is torn down (e.g. stop what ran against it). */
export function onClusterTeardown(fn: () => Promise<void>): void {
  teardowns.push(fn);
}

async function reachable(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

function runScript(script: string): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn('bash', [join(REPO_ROOT, 'test', 'cluster', script)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
      if (process.env.SIM_ARENA_CLUSTER_VERBOSE) process.stderr.write(b);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', rej);
    child.on('close', (code) =>
      code === 0
        ? res()
        : rej(
            new Error(
              `test/cluster/${script} failed (exit ${code}); last output:\n${out.split('\n').slice(-40).join('\n')}`,
            ),
          ),
    );
  });
}

/** The kubeconfig path of a running test cluster, starting one if needed. */
export function ensureCluster(): Promise<string> {
  ready ??= (async () => {
    const explicit = process.env.SIM_ARENA_TEST_KUBECONFIG;
    if (explicit) {
      if (!(await reachable(explicit)))
        throw new Error(`SIM_ARENA_TEST_KUBECONFIG=${explicit} does not reach an API server`);
      return explicit;
    }
    if (SHARED) {
      if (!(await reachable(DEFAULT_KUBECONFIG)))
        throw new Error(
          `the shared test cluster (${STATE_DIR} is a link) does not answer; it is started and stopped only where it lives`,
        );
      return DEFAULT_KUBECONFIG;
    }
    if (!(await reachable(DEFAULT_KUBECONFIG))) {
      startedHere = true;
      await runScript('up.sh');
    } else {
      // Reconcile nodes and stages on a cluster left running by a previous run (idempotent and quick).
      await runScript('up.sh');
    }
    return DEFAULT_KUBECONFIG;
  })();
  return ready;
}

export async function kubeConfig(): Promise<KubeConfig> {
  const path = await ensureCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

let counter = 0;
/** A fresh namespace for one test (deleted by the caller's after hook via deleteNamespace). */
export async function freshNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`
    .toLowerCase()
    .slice(0, 63)
    .replace(/-+$/, '');
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'simarena.io/test': 'true' } } } });
  return name;
}

export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/** Run kubectl against the test cluster; returns stdout, throws with stderr on failure. */
export function kubectl(kubeconfigPath: string, args: string[], input?: string): string {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function readFixture(...parts: string[]): Buffer {
  return readFileSync(join(FIXTURES, ...parts));
}

/**
 * Root hooks: bring the cluster up once before any suite (a cold build takes ~9 minutes, longer than any suite's
 * own hook timeout), unless SIM_ARENA_NO_CLUSTER=1 (unit work only); tear it down afterwards if this run started it.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    if (process.env.SIM_ARENA_NO_CLUSTER) return;
    this.timeout(60 * 60_000);
    await ensureCluster();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    for (const fn of teardowns.splice(0))
      await fn().catch((e: Error) => process.stderr.write(`teardown: ${e.message}\n`));
    if (!startedHere || process.env.SIM_ARENA_KEEP_CLUSTER) return;
    await runScript('down.sh').catch((e: Error) => process.stderr.write(`cluster teardown: ${e.message}\n`));
  },
};
