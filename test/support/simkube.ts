// SimKube's real controller and driver for the integration suites: `test/cluster/simkube/up.sh` (builds sk-ctrl,
// sk-driver, skctl once into ~/.cache/sim-arena/simkube-<version>/, starts sk-ctrl and the driver runner) run once
// per mocha process after the test cluster is up; stopped at the end if this process started it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCluster, onClusterTeardown, REPO_ROOT } from './cluster.js';

export const SIMKUBE_DIR = join(REPO_ROOT, 'test', 'cluster', 'simkube');

export interface SimkubeStack {
  kubeconfig: string;
  /** up.sh's state folder: logs, pid files, the driver runner's node root. */
  stateDir: string;
  /** The folder standing for the node's filesystem: a hostPath /x is read by the driver from <nodeRoot>/x. */
  nodeRoot: string;
}

let ready: Promise<SimkubeStack> | undefined;
let startedHere = false;

function stateDir(): string {
  return join(process.env.SIM_ARENA_STATE_DIR ?? join(REPO_ROOT, '.cluster'), 'simkube');
}

function pidAlive(file: string): boolean {
  try {
    process.kill(Number(readFileSync(file, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

function runScript(script: string, env: Record<string, string>): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn('bash', [join(SIMKUBE_DIR, script)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer): void => {
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
              `test/cluster/simkube/${script} failed (exit ${code}); last output:\n${out.split('\n').slice(-40).join('\n')}`,
            ),
          ),
    );
  });
}

/** sk-ctrl and the driver runner on the test cluster, started (and built, cold: tens of minutes) if needed. */
export function ensureSimkube(): Promise<SimkubeStack> {
  ready ??= (async () => {
    const kubeconfig = await ensureCluster();
    const dir = stateDir();
    startedHere = !(
      pidAlive(join(dir, 'sk-ctrl.pid')) &&
      pidAlive(join(dir, 'driver-runner.pid')) &&
      existsSync(join(dir, 'driver-runner.ready'))
    );
    if (startedHere) onClusterTeardown(stopSimkubeIfStartedHere);
    await runScript('up.sh', { SIM_ARENA_KUBECONFIG: kubeconfig });
    return { kubeconfig, stateDir: dir, nodeRoot: join(dir, 'node') };
  })();
  return ready;
}

/** Stops sk-ctrl and the driver runner if ensureSimkube started them (root afterAll hook). */
export async function stopSimkubeIfStartedHere(): Promise<void> {
  if (!ready || !startedHere || process.env.SIM_ARENA_KEEP_CLUSTER) return;
  await ready.catch(() => undefined);
  await runScript('down.sh', {}).catch((e: Error) => process.stderr.write(`simkube teardown: ${e.message}\n`));
}

/** The last lines of one of up.sh's logs (sk-ctrl.log, driver-runner.log), for assertion messages. */
export function simkubeLogTail(name: string, lines = 30): string {
  try {
    return readFileSync(join(stateDir(), name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${name})`;
  }
}

let binaries: Promise<string> | undefined;

/** The folder of SimKube's binaries, with skctl built (once per machine) if missing. */
export function ensureSimkubeBinaries(): Promise<string> {
  binaries ??= (async () => {
    await runScript('build.sh', { SIMKUBE_BUILD_CRATES: 'skctl' });
    const dir = await new Promise<string>((res, rej) => {
      const child = spawn('bash', [join(SIMKUBE_DIR, 'build.sh'), '--print-dir'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', rej);
      child.on('close', (code) =>
        code === 0 ? res(out.trim()) : rej(new Error(`build.sh --print-dir exited ${code}`)),
      );
    });
    return dir;
  })();
  return binaries;
}
