// A kube-scheduler process of the bench's own, against the shared API server: its own schedulerName (only pods that
// name it are its), client QPS/burst of our choosing, no leader election, no serving port, logs at -v=3 to a file.
// The shared cluster's own scheduler is never touched. The log is what the placement check reads (parseSchedulerLog):
// the order in which nodes entered the scheduler's node tree (its node list order), the order of scheduling cycles,
// and for each bound pod the number of nodes its filter pass processed (evaluatedNodes), which is how far the
// next cycle's start index moves.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import type { RealPod } from './cluster.js';
import { dirname, join } from 'node:path';

export interface SchedulerProcessOptions {
  /** The kubeconfig the scheduler uses (admin of the test cluster). */
  kubeconfig: string;
  schedulerName: string;
  /** clientConnection.qps / burst (kube-scheduler's defaults are 50 / 100). */
  qps: number;
  burst: number;
  /** KubeSchedulerConfiguration.parallelism (default 16, upstream's default). */
  parallelism?: number;
  /** Log file (default: a fresh temp folder). */
  logFile?: string;
  /** The binary (default: $SIM_ARENA_KUBE_SCHEDULER, else the test cluster's, else the cluster build cache's). */
  binary?: string;
}

/** The kube-scheduler binary of the test cluster build (same version as its API server). */
export function findKubeScheduler(kubeconfig: string): string {
  const env = process.env.SIM_ARENA_KUBE_SCHEDULER;
  if (env) {
    if (!existsSync(env)) throw new Error(`SIM_ARENA_KUBE_SCHEDULER=${env} does not exist`);
    return env;
  }
  const candidates: string[] = [];
  const clusters = join(dirname(kubeconfig), 'kwok', 'clusters');
  if (existsSync(clusters))
    for (const c of readdirSync(clusters)) candidates.push(join(clusters, c, 'bin', 'kube-scheduler'));
  const cache = join(process.env.SIM_ARENA_CACHE_DIR ?? join(homedir(), '.cache', 'sim-arena'), 'cluster-bin');
  if (existsSync(cache))
    for (const k of readdirSync(cache).sort(
      (a, b) => statSync(join(cache, b)).mtimeMs - statSync(join(cache, a)).mtimeMs,
    ))
      candidates.push(join(cache, k, 'kube-scheduler'));
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(
      `no kube-scheduler binary (looked in ${candidates.join(', ') || `${clusters} and ${cache}`}); run \`npm run cluster:up\` or set SIM_ARENA_KUBE_SCHEDULER`,
    );
  return found;
}

export class SchedulerProcess {
  private exited: Promise<number | null>;
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
    readonly configFile: string,
  ) {
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  static start(opts: SchedulerProcessOptions): SchedulerProcess {
    const dir = mkdtempSync(join(tmpdir(), 'sim-arena-sched-'));
    const logFile = opts.logFile ?? join(dir, 'kube-scheduler.log');
    const configFile = join(dir, 'config.yaml');
    const config = [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'clientConnection:',
      `  kubeconfig: ${JSON.stringify(opts.kubeconfig)}`,
      `  qps: ${opts.qps}`,
      `  burst: ${opts.burst}`,
      'leaderElection:',
      '  leaderElect: false',
      `parallelism: ${opts.parallelism ?? 16}`,
      'profiles:',
      `- schedulerName: ${JSON.stringify(opts.schedulerName)}`,
      '',
    ].join('\n');
    writeFileSync(configFile, config);
    const fd = openSync(logFile, 'w');
    const binary = opts.binary ?? findKubeScheduler(opts.kubeconfig);
    const child = spawn(binary, [`--config=${configFile}`, '--secure-port=0', '-v=3'], {
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    return new SchedulerProcess(child, logFile, configFile);
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  /** Whether it is still running (a config or flag error ends it at once; the log says why). */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** One scheduling cycle, in the order the scheduler ran them. */
export interface SchedulingCycle {
  /** "namespace/name". */
  pod: string;
  /** Node this cycle chose (its bind attempt), or null when it found no node. */
  node: string | null;
  /**
   * Nodes the filter pass processed (feasible + failed), from "Successfully bound"; null when the cycle found no node
   * (all were processed) or its bind failed (the log then does not say).
   */
  evaluated: number | null;
  /** Feasible nodes the filter pass kept (≤ numFeasibleNodesToFind). */
  feasible: number | null;
  /** The bind of this cycle failed (e.g. timed out on a busy API server, which may still have applied it). */
  bindFailed: boolean;
  /** Time of the bind (or of the "no fit" line), ms since epoch (the log's clock, UTC, this year). */
  at: number;
  /** The FitError message of a cycle that found no node. */
  message?: string;
}

export type CacheEvent =
  { kind: 'cycle'; cycle: SchedulingCycle } | { kind: 'forget'; pod: string } | { kind: 'bound'; pod: string };

export interface SchedulerLog {
  /** Node names in the order they entered the node tree (the scheduler's node list order, one zone). */
  nodeOrder: string[];
  cycles: SchedulingCycle[];
  /**
   * Each pod's outcome: the node the API server bound it to ("Successfully bound", or "already assigned to node" when
   * a bind that timed out had been applied after all), or null with its FitError message.
   */
  pods: Map<string, { node: string | null; message: string | null }>;
  /**
   * The scheduler cache's view in log order: a cycle assumes its pod on its node; a failed bind forgets it (unless the
   * watch already delivered the pod bound); the watch's "Add event for scheduled pod" puts it where the API server
   * holds it (`pods`).
   */
  events: CacheEvent[];
  /** First bind and last bind or "no fit", ms since epoch. */
  firstBind: number | null;
  lastBind: number | null;
  lastSettle: number | null;
}

const KLOG = /^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})\s+\d+ \S+\] "(.*?)"(.*)$/;

function klogTime(m: RegExpExecArray): number {
  const now = new Date();
  return (
    Date.UTC(now.getUTCFullYear(), Number(m[1]) - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) +
    Number(m[6]) / 1000
  );
}

function field(rest: string, key: string): string | null {
  const m = new RegExp(`(?:^| )${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(rest);
  return m === null ? null : (m[1] ?? m[2] ?? null);
}

/**
 * Read a -v=3 kube-scheduler log (klog text, UTC as in the test cluster's processes): "Added node to NodeTree" gives
 * the node list order; "Attempting to schedule pod" the cycle order; per pod, the "Attempting to bind pod to node" or
 * "Unable to schedule pod; no fit" between two of its cycles belongs to the first of them; "Successfully bound pod to
 * node" (written by the asynchronous binding goroutine, so possibly after later cycles' lines) gives evaluatedNodes;
 * "Failed to bind pod" marks the cycle's bind failed, and "already assigned to node" in a later error names the node
 * the API server holds the pod on.
 */
export function parseSchedulerLog(text: string): SchedulerLog {
  const nodeOrder: string[] = [];
  const seenNodes = new Set<string>();
  const cycles: SchedulingCycle[] = [];
  const events: CacheEvent[] = [];
  const current = new Map<string, SchedulingCycle>();
  const bound = new Map<string, { node: string; at: number }>();
  const assigned = new Map<string, string>();
  const firstNoFit = new Map<string, { at: number; message: string | null }>();
  const watchedBound = new Set<string>();
  for (const line of text.split('\n')) {
    const m = KLOG.exec(line);
    if (m === null) continue;
    const msg = m[7]!;
    const rest = m[8]!;
    if (msg === 'Added node to NodeTree') {
      const n = field(rest, 'node');
      if (n !== null && !seenNodes.has(n)) {
        seenNodes.add(n);
        nodeOrder.push(n);
      }
      continue;
    }
    const p = field(rest, 'pod');
    if (p === null) continue;
    const cy = current.get(p);
    if (msg === 'Attempting to schedule pod') {
      const c: SchedulingCycle = { pod: p, node: null, evaluated: null, feasible: null, bindFailed: false, at: 0 };
      cycles.push(c);
      events.push({ kind: 'cycle', cycle: c });
      current.set(p, c);
    } else if (msg === 'Attempting to bind pod to node') {
      if (cy !== undefined) cy.node = field(rest, 'node');
    } else if (msg === 'Successfully bound pod to node') {
      const n = field(rest, 'node');
      if (cy !== undefined && n !== null && cy.node === n) {
        cy.evaluated = Number(field(rest, 'evaluatedNodes'));
        cy.feasible = Number(field(rest, 'feasibleNodes'));
        cy.at = klogTime(m);
        bound.set(p, { node: n, at: cy.at });
      }
    } else if (msg === 'Failed to bind pod') {
      if (cy !== undefined) cy.bindFailed = true;
      events.push({ kind: 'forget', pod: p });
    } else if (msg === 'Add event for scheduled pod') {
      events.push({ kind: 'bound', pod: p });
      watchedBound.add(p);
    } else if (msg === 'Error scheduling pod; retrying') {
      const a = /already assigned to node \\"([^"\\]+)\\"/.exec(field(rest, 'err') ?? '');
      if (a !== null) assigned.set(p, a[1]!);
    } else if (msg === 'Unable to schedule pod; no fit; waiting') {
      const err = field(rest, 'err');
      const message = err === null ? null : err.replace(/\\"/g, '"');
      if (cy !== undefined) {
        cy.at = klogTime(m);
        if (message !== null) cy.message = message;
      }
      if (!firstNoFit.has(p)) firstNoFit.set(p, { at: klogTime(m), message });
    }
  }
  const pods = new Map<string, { node: string | null; message: string | null }>();
  // A bind that timed out but was applied shows only as the watch's bound pod: its node is the last one tried.
  const lastTried = new Map<string, string>();
  for (const c of cycles) if (c.node !== null) lastTried.set(c.pod, c.node);
  for (const c of cycles) {
    if (pods.has(c.pod)) continue;
    const node =
      bound.get(c.pod)?.node ??
      assigned.get(c.pod) ??
      (watchedBound.has(c.pod) ? (lastTried.get(c.pod) ?? null) : null);
    pods.set(c.pod, { node, message: node === null ? (firstNoFit.get(c.pod)?.message ?? null) : null });
  }
  let firstBind: number | null = null;
  let lastBind: number | null = null;
  let lastSettle: number | null = null;
  for (const [, b] of bound) {
    if (firstBind === null || b.at < firstBind) firstBind = b.at;
    if (lastBind === null || b.at > lastBind) lastBind = b.at;
  }
  // Each pod settles at its bind or at its first "no fit" (later retries of an unschedulable pod do not count).
  for (const p of pods.keys()) {
    const b = bound.get(p);
    const f = firstNoFit.get(p)?.at;
    const at = f !== undefined && (b === undefined || f < b.at) ? f : b?.at;
    if (at !== undefined && (lastSettle === null || at > lastSettle)) lastSettle = at;
  }
  return { nodeOrder, cycles, events, pods, firstBind, lastBind, lastSettle };
}

/**
 * The pods as the log leaves them (each pod's last cycle): bound to a node (trace name: the real name without
 * "<run>-") or Pending with its FitError message. `workload` is the pod name after "<seed>-<attempt>-".
 */
export function realPodsFromLog(l: SchedulerLog, run: string): RealPod[] {
  const prefix = `${run}-`;
  return [...l.pods].map(([pod, o]) => {
    const name = pod.slice(pod.indexOf('/') + 1);
    return {
      name,
      workload: name.replace(/^\d+-\d+-/, ''),
      node: o.node === null ? null : o.node.startsWith(prefix) ? o.node.slice(prefix.length) : o.node,
      message: o.message,
    };
  });
}

/** The run name of a bulk run from the scheduler's node list: the prefix of its "<run>-node-N" nodes. */
export function runFromNodeOrder(order: readonly string[]): string {
  for (const n of order) {
    const m = /^(.*)-node-\d+$/.exec(n);
    if (m !== null && !n.startsWith('kwok-node-')) return m[1]!;
  }
  throw new Error('no pool node ("<run>-node-N") in the scheduler log');
}
