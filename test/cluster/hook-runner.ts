// The hook runner: a kubelet stand-in for the kwok backend's hook pods (label simarena.io/hook=true) on the test
// control plane, whose KWOK nodes never run a container (kwok's pod Stages only fake a Running status). Once kwok has
// made such a pod Running, it runs the pod's container command on this host as the container would run it: command
// and args as given, the pod's env, ConfigMap/Secret volumes written to a local folder (paths under a mount, in env
// values and args, are mapped to it), stdin empty, KUBECONFIG pointing at the test cluster and the cluster's kubectl
// first on PATH. When the command exits it writes the pod's terminated status as the kubelet would (exit code;
// FallbackToLogsOnError: a failed container's message is its log tail; a command that cannot be started is
// StartError with exit code 128), so the Job controller completes or fails the Job.
//
//   tsx test/cluster/hook-runner.ts --kubeconfig K --state-dir D [--bin-dir DIR]
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage } from '../../src/kube/errors.js';
import { kubeRequest } from '../../src/kube/request.js';
import { kubeNow, logTail, writeTermination } from './pod-status.js';

export const HOOK_POD_SELECTOR = 'simarena.io/hook=true';

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
interface Pod {
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
  spec?: {
    containers: Container[];
    volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string } }>;
    nodeName?: string;
  };
  status?: { phase?: string };
}

export interface HookRunnerOptions {
  kubeconfig: string;
  stateDir: string;
  /** Folder with the cluster's kubectl (put first on the commands' PATH). */
  binDir?: string;
  pollMs?: number;
  log?: (msg: string) => void;
}

interface Running {
  pod: Pod;
  child?: ChildProcess;
  startedAt: string;
  logFile: string;
}

const now = () => new Date().toISOString();

export class HookRunner {
  private readonly kc = new KubeConfig();
  private readonly done = new Set<string>();
  private readonly running = new Map<string, Running>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;
  /** Pods whose command ran, in order (tests read it). */
  readonly ran: Array<{ pod: string; command: string[]; exitCode: number }> = [];

  constructor(private readonly opts: HookRunnerOptions) {
    this.kc.loadFromFile(opts.kubeconfig);
    mkdirSync(opts.stateDir, { recursive: true });
  }

  private log(m: string): void {
    this.opts.log?.(m);
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      if (!this.ticking) {
        this.ticking = true;
        await this.tick().catch((e: unknown) => this.log(`tick failed: ${apiErrorMessage(e)}`));
        this.ticking = false;
      }
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.pollMs ?? 250);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const r of this.running.values()) r.child?.kill('SIGKILL');
  }

  async tick(): Promise<void> {
    const pods = (
      await kubeRequest<{ items: Pod[] }>(this.kc, {
        method: 'GET',
        path: `/api/v1/pods?labelSelector=${encodeURIComponent(HOOK_POD_SELECTOR)}`,
      })
    ).items;
    for (const [uid, r] of this.running) {
      const p = pods.find((x) => x.metadata?.uid === uid);
      if (!p || p.metadata?.deletionTimestamp) {
        r.child?.kill('SIGKILL');
        this.running.delete(uid);
      }
    }
    for (const p of pods) {
      const uid = p.metadata?.uid;
      if (!uid || this.done.has(uid) || p.metadata?.deletionTimestamp) continue;
      // Like a kubelet, only once bound; and only after kwok's Stages made it Running, so they never overwrite the
      // terminated status written here.
      if (!p.spec?.nodeName || p.status?.phase !== 'Running') continue;
      this.done.add(uid);
      await this.run(p).catch((e: unknown) => this.log(`pod ${p.metadata?.name}: ${apiErrorMessage(e)}`));
    }
  }

  private async files(ns: string, v: NonNullable<NonNullable<Pod['spec']>['volumes']>[number]) {
    const kind = v.secret ? 'secrets' : 'configmaps';
    const name = v.secret ? v.secret.secretName : v.configMap!.name;
    const o = await kubeRequest<{ data?: Record<string, string> }>(this.kc, {
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/${kind}/${name}`,
    });
    return Object.entries(o.data ?? {}).map(
      ([k, val]) => [k, v.secret ? Buffer.from(val, 'base64') : Buffer.from(val)] as const,
    );
  }

  private async run(pod: Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const c = pod.spec!.containers[0]!;
    const dir = path.join(this.opts.stateDir, `${ns}_${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const mounts: Array<[string, string]> = [];
    for (const vm of c.volumeMounts ?? []) {
      const v = pod.spec?.volumes?.find((x) => x.name === vm.name);
      if (!v || (!v.configMap && !v.secret)) continue;
      const local = path.join(dir, 'volumes', v.name);
      mkdirSync(local, { recursive: true });
      for (const [k, bytes] of await this.files(ns, v)) writeFileSync(path.join(local, k), bytes);
      mounts.push([vm.mountPath, vm.subPath ? path.join(local, vm.subPath) : local]);
    }
    mounts.sort((a, b) => b[0].length - a[0].length);
    const map = (s: string) => {
      for (const [m, local] of mounts) if (s === m || s.startsWith(`${m}/`)) return local + s.slice(m.length);
      return s;
    };
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = map(e.value);
    const argv = [...(c.command ?? []), ...(c.args ?? [])].map(map);
    const logFile = path.join(dir, 'output.log');
    const out = createWriteStream(logFile);
    await new Promise((r) => out.once('open', r));
    const r: Running = { pod, startedAt: kubeNow(), logFile };
    this.running.set(pod.metadata!.uid!, r);
    this.log(`pod ${ns}/${name}: running ${JSON.stringify(argv)}`);
    const exit = await new Promise<{ code: number; startError?: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        env: {
          PATH: [this.opts.binDir, process.env.PATH ?? '/usr/bin:/bin'].filter(Boolean).join(':'),
          HOME: process.env.HOME ?? '/tmp',
          ...env,
          KUBECONFIG: this.opts.kubeconfig,
        },
        stdio: ['ignore', out, out],
      });
      r.child = child;
      child.once('error', (e: NodeJS.ErrnoException) =>
        resolve({
          code: 128,
          startError:
            e.code === 'ENOENT'
              ? `exec: "${argv[0]}": executable file not found in $PATH`
              : `exec: "${argv[0]}": ${e.message}`,
        }),
      );
      child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 137 : 1) }));
    });
    out.end();
    this.running.delete(pod.metadata!.uid!);
    this.ran.push({ pod: name, command: argv, exitCode: exit.code });
    if (this.stopped) return;
    const ok = exit.code === 0;
    const message = exit.startError ?? (ok ? undefined : logTail(logFile));
    this.log(`pod ${ns}/${name}: exited ${exit.code}${message ? `: ${message}` : ''}`);
    await writeTermination(
      this.kc,
      {
        namespace: ns,
        pod: name,
        container: c,
        exitCode: exit.code,
        reason: exit.startError ? 'StartError' : ok ? 'Completed' : 'Error',
        message,
        startedAt: r.startedAt,
        finishedAt: kubeNow(),
      },
      (m) => this.log(m),
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const argv = process.argv.slice(2);
  const get = (f: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1] : undefined);
  const kubeconfig = get('--kubeconfig');
  const stateDir = get('--state-dir');
  if (!kubeconfig || !stateDir) {
    process.stderr.write('usage: hook-runner.ts --kubeconfig FILE --state-dir DIR [--bin-dir DIR]\n');
    process.exit(2);
  }
  const binDir = get('--bin-dir');
  const runner = new HookRunner({
    kubeconfig: path.resolve(kubeconfig),
    stateDir: path.resolve(stateDir),
    ...(binDir ? { binDir } : {}),
    log: (m) => process.stdout.write(`${now()} ${m}\n`),
  });
  runner.start();
  const stop = () => void runner.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
