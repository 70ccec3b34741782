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
  /** Node it was bound to, or null when this cycle found no node. */
  node: string | null;
  /** Nodes the filter pass processed (feasible + failed); null when the cycle found no node (all were processed). */
  evaluated: number | null;
  /** Feasible nodes the filter pass kept (≤ numFeasibleNodesToFind). */
  feasible: number | null;
  /** Time of the bind (or of the "no fit" line), ms since epoch (the log's local clock, this year). */
  at: number;
  /** The FitError message of a cycle that found no node. */
  message?: string;
}

export interface SchedulerLog {
  /** Node names in the order they entered the node tree (the scheduler's node list order, one zone). */
  nodeOrder: string[];
  cycles: SchedulingCycle[];
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
 * the node list order; "Attempting to schedule pod" the cycle order; "Successfully bound pod to node" (written by the
 * asynchronous binding goroutine, so possibly after later cycles' lines) the node and evaluatedNodes of the pod's
 * last cycle; "Unable to schedule pod; no fit" a cycle that found no node.
 */
export function parseSchedulerLog(text: string): SchedulerLog {
  const nodeOrder: string[] = [];
  const seenNodes = new Set<string>();
  const attempts: string[] = [];
  const bound = new Map<string, { node: string; evaluated: number; feasible: number; at: number }>();
  const noFit = new Map<string, number[]>();
  const noFitMessage = new Map<string, string>();
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
    } else if (msg === 'Attempting to schedule pod') {
      const p = field(rest, 'pod');
      if (p !== null) attempts.push(p);
    } else if (msg === 'Successfully bound pod to node') {
      const p = field(rest, 'pod');
      const n = field(rest, 'node');
      if (p !== null && n !== null)
        bound.set(p, {
          node: n,
          evaluated: Number(field(rest, 'evaluatedNodes')),
          feasible: Number(field(rest, 'feasibleNodes')),
          at: klogTime(m),
        });
    } else if (msg === 'Unable to schedule pod; no fit; waiting') {
      const p = field(rest, 'pod');
      if (p !== null) {
        (noFit.get(p) ?? noFit.set(p, []).get(p)!).push(klogTime(m));
        const err = field(rest, 'err');
        if (err !== null && !noFitMessage.has(p)) noFitMessage.set(p, err.replace(/\\"/g, '"'));
      }
    }
  }
  // A pod's cycles: all but the last found no node when it was bound in the end (nothing is deleted in a bench run).
  const left = new Map<string, number>();
  for (const p of attempts) left.set(p, (left.get(p) ?? 0) + 1);
  const failIdx = new Map<string, number>();
  const cycles: SchedulingCycle[] = [];
  let firstBind: number | null = null;
  let lastBind: number | null = null;
  let lastSettle: number | null = null;
  for (const p of attempts) {
    const n = left.get(p)! - 1;
    left.set(p, n);
    const b = bound.get(p);
    if (n === 0 && b !== undefined) {
      cycles.push({ pod: p, node: b.node, evaluated: b.evaluated, feasible: b.feasible, at: b.at });
    } else {
      const k = failIdx.get(p) ?? 0;
      failIdx.set(p, k + 1);
      cycles.push({
        pod: p,
        node: null,
        evaluated: null,
        feasible: null,
        at: noFit.get(p)?.[k] ?? 0,
        message: noFitMessage.get(p),
      });
    }
  }
  // Each pod settles at its bind or at its first "no fit" (later retries of an unschedulable pod do not count).
  for (const [, b] of bound) {
    if (firstBind === null || b.at < firstBind) firstBind = b.at;
    if (lastBind === null || b.at > lastBind) lastBind = b.at;
  }
  for (const p of new Set(attempts)) {
    const b = bound.get(p);
    const f = noFit.get(p)?.[0];
    const at = f !== undefined && (b === undefined || f < b.at) ? f : b?.at;
    if (at !== undefined && (lastSettle === null || at > lastSettle)) lastSettle = at;
  }
  return { nodeOrder, cycles, firstBind, lastBind, lastSettle };
}

/**
 * The pods as the log leaves them (each pod's last cycle): bound to a node (trace name: the real name without
 * "<run>-") or Pending with its FitError message. `workload` is the pod name after "<seed>-<attempt>-".
 */
export function realPodsFromLog(l: SchedulerLog, run: string): RealPod[] {
  const last = new Map<string, SchedulingCycle>();
  for (const c of l.cycles) last.set(c.pod, c);
  const prefix = `${run}-`;
  return [...last.values()].map((c) => {
    const name = c.pod.slice(c.pod.indexOf('/') + 1);
    return {
      name,
      workload: name.replace(/^\d+-\d+-/, ''),
      node: c.node === null ? null : c.node.startsWith(prefix) ? c.node.slice(prefix.length) : c.node,
      message: c.node === null ? (c.message ?? null) : null,
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
