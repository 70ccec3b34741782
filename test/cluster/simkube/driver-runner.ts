// The driver runner: plays the parts of a SimKube install that need a container runtime or cert-manager's
// controllers, so the REAL sk-ctrl and sk-driver run against the test control plane (whose KWOK nodes never run a
// container). It only ever acts for SimKube's own objects:
//   - cert-manager:  for each Certificate, writes its TLS Secret (a CA made here once, leaf SAN IP 127.0.0.1) with
//                    the labels of spec.secretTemplate (sk-ctrl waits for exactly one Secret labelled with the sim);
//   - cainjector:    each MutatingWebhookConfiguration annotated cert-manager.io/inject-ca-from is pointed at
//                    https://127.0.0.1:<port>/ (the host, where the driver listens) with the CA bundle;
//   - the kubelet, for driver pods only (pods of a Job whose container runs /sk-driver): starts sk-driver on the
//     host with the pod's own args and env (DRIVER_NAME from the downward API), volumes materialised into local
//     folders (Secrets written out, hostPaths looked up under the node root folder that trace-sync writes to),
//     stops it when the pod goes away, and writes the pod's terminated status when it exits so the Job completes
//     or fails and sk-ctrl marks the Simulation Finished or Failed. One driver at a time: it binds the port.
//
//   tsx test/cluster/simkube/driver-runner.ts --kubeconfig K --state-dir D --driver-bin B [--port 8888] [--node-root R]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, isNotFound } from '../../../src/kube/errors.js';
import { jsonPatch, kubeRequest, mergePatch } from '../../../src/kube/request.js';
import { logTail, writeTermination } from '../pod-status.js';

export const INJECT_CA_ANNOTATION = 'cert-manager.io/inject-ca-from';
export const DRIVER_COMMAND = '/sk-driver';

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}
interface Obj {
  metadata?: Meta;
  [k: string]: unknown;
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: {
      fieldRef?: { fieldPath: string };
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }>;
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
  hostPath?: { path: string; type?: string };
  emptyDir?: object;
}
export interface Pod extends Obj {
  spec?: { containers: Container[]; volumes?: Volume[]; serviceAccountName?: string; nodeName?: string };
  status?: { phase?: string };
}

export interface RunnerOptions {
  kubeconfig: string;
  stateDir: string;
  driverBin: string;
  port: number;
  /** A folder standing for the node's filesystem: hostPath /x is looked up as <nodeRoot>/x first. */
  nodeRoot: string;
  pollMs: number;
  log: (msg: string) => void;
}

interface Running {
  pod: Pod;
  uid: string;
  child: ChildProcess;
  startedAt: string;
  logFile: string;
  stopping: boolean;
  exited: Promise<void>;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A CA and a leaf certificate for 127.0.0.1/localhost, made once with openssl and kept in <dir>. */
export function ensureTls(dir: string): { ca: string; crt: string; key: string } {
  const f = (n: string): string => path.join(dir, n);
  if (![f('ca.crt'), f('tls.crt'), f('tls.key')].every(existsSync)) {
    mkdirSync(dir, { recursive: true });
    const run = (args: string[]): void => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.error) throw new Error(`openssl is needed to make the driver's TLS certificate: ${r.error.message}`);
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    };
    writeFileSync(
      f('san.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt.tmp',
      '-days',
      '3650',
      '-subj',
      '/CN=sim-arena-simkube-test-ca',
    ]);
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tls.key.tmp',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    run([
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt.tmp',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tls.crt.tmp',
      '-days',
      '3650',
      '-extfile',
      'san.ext',
    ]);
    // rename last, leaf first: a crash midway leaves no half-made set that looks complete
    renameSync(f('tls.key.tmp'), f('tls.key'));
    renameSync(f('tls.crt.tmp'), f('tls.crt'));
    renameSync(f('ca.crt.tmp'), f('ca.crt'));
  }
  return {
    ca: readFileSync(f('ca.crt'), 'utf8'),
    crt: readFileSync(f('tls.crt'), 'utf8'),
    key: readFileSync(f('tls.key'), 'utf8'),
  };
}

/** True for the pod of a SimKube driver Job (sk-ctrl's build_driver_job: one container running /sk-driver). */
export function isDriverPod(p: Pod): boolean {
  return (
    !!p.metadata?.labels?.['batch.kubernetes.io/job-name'] &&
    (p.spec?.containers ?? []).some((c) => c.command?.[0] === DRIVER_COMMAND)
  );
}

/** Replaces a leading container mount path in `arg` (plain or --flag=value) by its local folder. */
export function mapArg(arg: string, mounts: Array<[string, string]>): string {
  const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
  const [prefix, value] = eq >= 0 ? [arg.slice(0, eq + 1), arg.slice(eq + 1)] : ['', arg];
  for (const [from, to] of mounts) {
    if (value === from || value.startsWith(`${from.replace(/\/+$/, '')}/`))
      return prefix + to + value.slice(from.replace(/\/+$/, '').length);
  }
  return arg;
}

export class DriverRunner {
  private readonly kc: KubeConfig;
  private readonly tls: { ca: string; crt: string; key: string };
  private running: Running | undefined;
  /** Pods already run (or given up on): never started twice, like a Job pod with restartPolicy Never. */
  private readonly done = new Set<string>();
  private readonly waitingWhy = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private tickCount = 0;

  constructor(private readonly opts: RunnerOptions) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(opts.kubeconfig);
    this.tls = ensureTls(path.join(opts.stateDir, 'tls'));
    mkdirSync(path.join(opts.stateDir, 'drivers'), { recursive: true });
  }

  get webhookUrl(): string {
    return `https://127.0.0.1:${this.opts.port}/`;
  }

  private req<T>(
    method: 'GET' | 'POST' | 'DELETE',
    p: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<T> {
    return kubeRequest<T>(this.kc, { method, path: p, body, query });
  }

  private async list<T>(p: string, labelSelector?: string): Promise<T[]> {
    try {
      return (
        (await this.req<{ items?: T[] }>('GET', p, undefined, labelSelector ? { labelSelector } : undefined)).items ??
        []
      );
    } catch (e) {
      if (isNotFound(e)) return []; // e.g. the cert-manager CRDs are not installed (yet)
      throw e;
    }
  }

  start(onFirstTick: () => void): void {
    const loop = async (): Promise<void> => {
      try {
        await this.tick();
        if (this.tickCount++ === 0) onFirstTick();
      } catch (e) {
        this.opts.log(`tick failed: ${apiErrorMessage(e)}`);
      }
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.pollMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.running) await this.kill(this.running, 'the runner is stopping');
  }

  async tick(): Promise<void> {
    await this.syncCertificates();
    await this.injectWebhooks();
    await this.syncDriverPods();
  }

  // ------------------------------------------------------------------------------------------ cert-manager

  async syncCertificates(): Promise<void> {
    const certs = await this.list<
      Obj & { spec?: { secretName?: string; secretTemplate?: { labels?: Record<string, string> } } }
    >('/apis/cert-manager.io/v1/certificates');
    for (const cert of certs) {
      const ns = cert.metadata?.namespace;
      const name = cert.spec?.secretName;
      if (!ns || !name || cert.metadata?.deletionTimestamp) continue;
      const labels = cert.spec?.secretTemplate?.labels ?? {};
      const data = { 'tls.crt': b64(this.tls.crt), 'tls.key': b64(this.tls.key), 'ca.crt': b64(this.tls.ca) };
      const secretPath = `/api/v1/namespaces/${ns}/secrets/${name}`;
      let secret: (Obj & { data?: Record<string, string> }) | undefined;
      try {
        secret = await this.req('GET', secretPath);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (!secret) {
        await this.req('POST', `/api/v1/namespaces/${ns}/secrets`, {
          metadata: {
            name,
            namespace: ns,
            labels,
            annotations: { 'cert-manager.io/certificate-name': cert.metadata!.name! },
          },
          type: 'kubernetes.io/tls',
          data,
        });
        this.opts.log(
          `wrote Secret ${ns}/${name} for Certificate ${cert.metadata!.name} (labels ${JSON.stringify(labels)})`,
        );
        continue;
      }
      // cert-manager keeps the Secret's labels in step with the template (sk-ctrl leaves the old Secret behind
      // after a run and selects it by the next Simulation's label).
      const stale =
        Object.entries(labels).some(([k, v]) => secret!.metadata?.labels?.[k] !== v) ||
        secret.data?.['tls.crt'] !== data['tls.crt'];
      if (stale) {
        await mergePatch(this.kc, secretPath, { metadata: { labels }, data });
        this.opts.log(
          `updated Secret ${ns}/${name} for Certificate ${cert.metadata!.name} (labels ${JSON.stringify(labels)})`,
        );
      }
    }
  }

  async injectWebhooks(): Promise<void> {
    type Mwc = Obj & {
      webhooks?: Array<{ clientConfig?: { url?: string; caBundle?: string; service?: { path?: string } } }>;
    };
    const mwcs = await this.list<Mwc>('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations');
    const ca = b64(this.tls.ca);
    for (const m of mwcs) {
      if (!m.metadata?.annotations?.[INJECT_CA_ANNOTATION] || m.metadata.deletionTimestamp) continue;
      const ops = (m.webhooks ?? []).flatMap((w, i) => {
        const want = {
          url: `https://127.0.0.1:${this.opts.port}${w.clientConfig?.service?.path ?? '/'}`,
          caBundle: ca,
        };
        if (!w.clientConfig?.service && w.clientConfig?.url === want.url && w.clientConfig.caBundle === ca) return [];
        return [{ op: 'replace' as const, path: `/webhooks/${i}/clientConfig`, value: want }];
      });
      if (!ops.length) continue;
      await jsonPatch(
        this.kc,
        `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${m.metadata.name}`,
        ops,
      );
      this.opts.log(`pointed MutatingWebhookConfiguration ${m.metadata.name} at ${this.webhookUrl} with the CA bundle`);
    }
  }

  // ------------------------------------------------------------------------------------------ driver pods

  async syncDriverPods(): Promise<void> {
    const pods = (await this.list<Pod>('/api/v1/pods', 'batch.kubernetes.io/job-name')).filter(isDriverPod);
    const r = this.running;
    if (r) {
      const p = pods.find((x) => x.metadata?.uid === r.uid);
      if (!p || p.metadata?.deletionTimestamp) await this.kill(r, 'its pod was deleted');
    }
    if (this.running) return;
    const next = pods
      .filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          !this.done.has(p.metadata!.uid!) &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      )
      .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))[0];
    if (next) await this.startDriver(next);
  }

  private async resolveRef(kind: 'secrets' | 'configmaps', ns: string, name: string): Promise<Record<string, Buffer>> {
    const o = await this.req<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(
      'GET',
      `/api/v1/namespaces/${ns}/${kind}/${name}`,
    );
    const out: Record<string, Buffer> = {};
    if (kind === 'secrets') for (const [k, v] of Object.entries(o.data ?? {})) out[k] = Buffer.from(v, 'base64');
    else {
      for (const [k, v] of Object.entries(o.data ?? {})) out[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(o.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
    }
    return out;
  }

  /** Local folders for the container's mounts (longest mount path first) and its environment. */
  private async materialise(
    pod: Pod,
    c: Container,
    podDir: string,
  ): Promise<{ mounts: Array<[string, string]>; env: Record<string, string> }> {
    const ns = pod.metadata!.namespace!;
    const mounts: Array<[string, string]> = [];
    for (const vm of c.volumeMounts ?? []) {
      const v = pod.spec?.volumes?.find((x) => x.name === vm.name);
      if (!v) continue;
      let local: string | undefined;
      if (v.secret || v.configMap) {
        local = path.join(podDir, 'volumes', v.name);
        mkdirSync(local, { recursive: true, mode: 0o700 });
        const files = v.secret
          ? await this.resolveRef('secrets', ns, v.secret.secretName)
          : await this.resolveRef('configmaps', ns, v.configMap!.name);
        for (const [k, bytes] of Object.entries(files)) writeFileSync(path.join(local, k), bytes, { mode: 0o600 });
      } else if (v.hostPath) {
        const underRoot = path.join(this.opts.nodeRoot, v.hostPath.path);
        local = existsSync(underRoot) ? underRoot : v.hostPath.path;
        // sk-ctrl mounts a file:// trace with type File: a kubelet keeps the pod in ContainerCreating until it exists.
        if ((v.hostPath.type === 'File' || v.hostPath.type === 'Directory') && !existsSync(local)) {
          throw new Error(
            `hostPath ${v.hostPath.path} (type ${v.hostPath.type}) does not exist on the node (looked at ${underRoot} and ${v.hostPath.path}); the pod stays ContainerCreating`,
          );
        }
      } else if (v.emptyDir) {
        local = path.join(podDir, 'volumes', v.name);
        mkdirSync(local, { recursive: true });
      }
      if (local) mounts.push([vm.mountPath, vm.subPath ? path.join(local, vm.subPath) : local]);
    }
    mounts.sort((a, b) => b[0].length - a[0].length);
    const env: Record<string, string> = {};
    for (const ef of c.envFrom ?? []) {
      const src = ef.secretRef
        ? await this.resolveRef('secrets', ns, ef.secretRef.name)
        : ef.configMapRef
          ? await this.resolveRef('configmaps', ns, ef.configMapRef.name)
          : {};
      for (const [k, v] of Object.entries(src)) env[k] = v.toString();
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const f = e.valueFrom;
      if (f?.fieldRef) {
        const fp = f.fieldRef.fieldPath;
        env[e.name] =
          fp === 'metadata.name'
            ? pod.metadata!.name!
            : fp === 'metadata.namespace'
              ? ns
              : fp === 'metadata.uid'
                ? pod.metadata!.uid!
                : fp === 'spec.serviceAccountName'
                  ? (pod.spec?.serviceAccountName ?? '')
                  : '';
      } else if (f?.secretKeyRef) {
        env[e.name] = (await this.resolveRef('secrets', ns, f.secretKeyRef.name))[f.secretKeyRef.key]?.toString() ?? '';
      } else if (f?.configMapKeyRef) {
        env[e.name] =
          (await this.resolveRef('configmaps', ns, f.configMapKeyRef.name))[f.configMapKeyRef.key]?.toString() ?? '';
      }
    }
    return { mounts, env };
  }

  private async startDriver(pod: Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    const id = `${pod.metadata!.namespace}_${pod.metadata!.name}`;
    const c = pod.spec!.containers.find((x) => x.command?.[0] === DRIVER_COMMAND)!;
    const podDir = path.join(this.opts.stateDir, 'pods', id);
    rmSync(podDir, { recursive: true, force: true });
    let mounts: Array<[string, string]>;
    let env: Record<string, string>;
    try {
      ({ mounts, env } = await this.materialise(pod, c, podDir));
    } catch (e) {
      // The kubelet would retry the mount (ContainerCreating); so do we, at the next tick (logged once per reason).
      const why = apiErrorMessage(e);
      if (this.waitingWhy.get(uid) !== why) this.opts.log(`pod ${id}: cannot start yet: ${why}`);
      this.waitingWhy.set(uid, why);
      return;
    }
    this.waitingWhy.delete(uid);
    const args = [...(c.command ?? []).slice(1), ...(c.args ?? [])].map((a) => mapArg(a, mounts));
    // The driver listens where the webhook was pointed (one port on the host).
    const portAt = args.indexOf('--admission-webhook-port');
    if (portAt >= 0) args[portAt + 1] = String(this.opts.port);
    else args.push('--admission-webhook-port', String(this.opts.port));
    const logFile = path.join(this.opts.stateDir, 'drivers', `${id}.log`);
    const out = createWriteStream(logFile, { flags: 'w' });
    await new Promise((r) => out.once('open', r));
    const child = spawn(this.opts.driverBin, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ...env,
        KUBECONFIG: this.opts.kubeconfig,
      },
      stdio: ['ignore', out, out],
    });
    const startedAt = now();
    const run: Running = { pod, uid, child, startedAt, logFile, stopping: false, exited: Promise.resolve() };
    run.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.opts.log(`pod ${id}: cannot start ${this.opts.driverBin}: ${e.message}`);
        void this.finish(run, 127, e.message).finally(resolve);
      });
      child.once(
        'exit',
        (code, signal) =>
          void this.finish(run, code ?? (signal ? 137 : 1), signal ? `killed by ${signal}` : undefined).finally(
            resolve,
          ),
      );
    });
    this.running = run;
    this.done.add(uid);
    this.opts.log(`pod ${id}: started sk-driver (pid ${child.pid}): ${args.join(' ')}; log ${logFile}`);
  }

  private async kill(r: Running, why: string): Promise<void> {
    if (r.stopping) return r.exited;
    r.stopping = true;
    this.opts.log(
      `pod ${r.pod.metadata!.namespace}/${r.pod.metadata!.name}: stopping sk-driver (pid ${r.child.pid}): ${why}`,
    );
    r.child.kill('SIGTERM');
    const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
    await r.exited;
    clearTimeout(t);
  }

  /** The pod's terminated status, as the kubelet would write it, so the Job controller counts it. */
  private async finish(r: Running, exitCode: number, note?: string): Promise<void> {
    if (this.running === r) this.running = undefined;
    const ns = r.pod.metadata!.namespace!;
    const name = r.pod.metadata!.name!;
    const tail = logTail(r.logFile);
    this.opts.log(
      `pod ${ns}/${name}: sk-driver exited ${exitCode}${note ? ` (${note})` : ''}${exitCode ? `; last lines:\n${tail}` : ''}`,
    );
    if (r.stopping) return; // its pod is gone
    const c = r.pod.spec!.containers.find((x) => x.command?.[0] === DRIVER_COMMAND)!;
    const ok = exitCode === 0;
    // Like terminationMessagePolicy FallbackToLogsOnError: a failed container's message is its log tail.
    await writeTermination(
      this.kc,
      {
        namespace: ns,
        pod: name,
        container: c,
        exitCode,
        reason: ok ? 'Completed' : 'Error',
        message: ok ? undefined : (note ? `${note}\n` : '') + tail,
        startedAt: r.startedAt,
        finishedAt: now(),
      },
      this.opts.log,
    );
  }
}

function parseArgs(argv: string[]): RunnerOptions {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const kubeconfig = get('--kubeconfig');
  const stateDir = get('--state-dir');
  const driverBin = get('--driver-bin');
  if (!kubeconfig || !stateDir || !driverBin)
    throw new Error(
      'usage: driver-runner.ts --kubeconfig FILE --state-dir DIR --driver-bin SK_DRIVER [--port 8888] [--node-root DIR] [--poll-ms 300]',
    );
  const port = Number(get('--port') ?? 8888);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--port must be a TCP port, got ${get('--port')}`);
  return {
    kubeconfig: path.resolve(kubeconfig),
    stateDir: path.resolve(stateDir),
    driverBin: path.resolve(driverBin),
    port,
    nodeRoot: path.resolve(get('--node-root') ?? path.join(stateDir, 'node')),
    pollMs: Number(get('--poll-ms') ?? 300),
    log: (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  let opts: RunnerOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`driver-runner: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const runner = new DriverRunner(opts);
  const ready = path.join(opts.stateDir, 'driver-runner.ready');
  rmSync(ready, { force: true });
  runner.start(() => {
    writeFileSync(ready, `${process.pid}\n`);
    opts.log(`ready: webhook URL ${runner.webhookUrl}, node root ${opts.nodeRoot}, driver ${opts.driverBin}`);
  });
  const shutdown = (sig: string): void => {
    opts.log(`${sig}: stopping`);
    void runner.stop().finally(() => {
      rmSync(ready, { force: true });
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
