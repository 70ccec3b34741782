// A private real control plane for one suite (fault injection): started with test/cluster/up.sh under its own name
// and state folder, its components stopped and started one at a time, deleted with down.sh at the end.
// kwokctl (v0.7) starts and stops whole clusters only, so a single component is stopped by the pid in kwokctl's pid
// file and started again from the command kwokctl recorded for it in kwok.yaml (same binary, arguments, folder and
// log), its new pid written back so down.sh still finds it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { REPO_ROOT } from './cluster.js';

export type Component = 'etcd' | 'kube-apiserver';

interface ComponentSpec {
  name: string;
  binary: string;
  args: string[];
  workDir: string;
}

export interface PrivateCluster {
  kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  /** Stops one component (SIGTERM, SIGKILL after 10 s; `kill`: SIGKILL at once, a crash) and waits until it is gone. */
  stop(component: Component, opts?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped component again and waits until the API server answers ready. */
  start(component: Component): Promise<void>;
  /** Deletes the cluster (down.sh). */
  down(): Promise<void>;
}

function run(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn('bash', [join(REPO_ROOT, 'test', 'cluster', script)], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer) => void (out = (out + b.toString()).slice(-8000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', rej);
    child.on('close', (code) =>
      code === 0 ? res() : rej(new Error(`${script} exited ${code}:\n${out.split('\n').slice(-15).join('\n')}`)),
    );
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts (or reuses, when one from an earlier run is healthy) the named private cluster, with no nodes. */
export async function startPrivateCluster(name: string): Promise<PrivateCluster> {
  const stateDir = join(REPO_ROOT, `.cluster-${name}`);
  const env = {
    ...process.env,
    SIM_ARENA_CLUSTER_NAME: name,
    SIM_ARENA_STATE_DIR: stateDir,
    SIM_ARENA_KUBECONFIG: join(stateDir, 'kubeconfig'),
    SIM_ARENA_NODES: '0',
  };
  // On a loaded machine kube-controller-manager can give up waiting for a slow API server during the first start;
  // up.sh then stops the cluster, and a second up.sh creates it again.
  await run('up.sh', env).catch(() => run('up.sh', env));
  const workDir = join(stateDir, 'kwok', 'clusters', name);
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const components = new Map<string, ComponentSpec>(
    (parse(readFileSync(join(workDir, 'kwok.yaml'), 'utf8')) as { components: ComponentSpec[] }).components.map((c) => [
      c.name,
      c,
    ]),
  );
  const pidFile = (c: string) => join(workDir, 'pids', `${c}.pid`);
  const kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return kc;
  };
  const ready = async (timeoutMs: number) => {
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        // A single object's GET is read from etcd, so this also waits for etcd behind the API server.
        await core.readNamespace({ name: 'default' });
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`the private API server is not back after ${timeoutMs} ms: ${e}`, { cause: e });
      }
      await sleep(250);
    }
  };

  return {
    kubeconfigPath,
    kubeConfig,
    async stop(component, opts = {}) {
      const pid = Number(readFileSync(pidFile(component), 'utf8').trim());
      if (!alive(pid)) return;
      process.kill(pid, opts.kill ? 'SIGKILL' : 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (alive(pid)) {
        if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
        await sleep(50);
      }
    },
    async start(component) {
      const c = components.get(component);
      if (!c) throw new Error(`no component ${component} in ${workDir}/kwok.yaml`);
      const log = openSync(join(workDir, 'logs', `${component}.log`), 'a');
      const child = spawn(c.binary, c.args, { cwd: c.workDir, detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      child.unref();
      writeFileSync(pidFile(component), `${child.pid}`);
      await ready(90_000);
    },
    async down() {
      if (existsSync(workDir)) await run('down.sh', env);
    },
  };
}
