// Replaying fidelity cases on a real control plane (kube-apiserver + kube-controller-manager + kube-scheduler + KWOK):
// each case gets its own pool of KWOK nodes (labelled simarena.io/pool=<run>) and its pods are pinned there by
// nodeSelector, so many cases run at once without seeing each other.
//
// Replay order. Workloads are applied one at a time, in trace order, and each is left to settle (every pod it creates
// exists and is either bound or marked Unschedulable by the scheduler) before the next is applied. That is what
// replaying the trace's events in order means, and it is what makes the comparison sound: applied together, the
// ReplicaSet/Job controllers and the direct Pod creations race, so the order in which the scheduler sees pods of
// different workloads (and with it who gets the last free room) would not be determined by the trace. Within one
// workload the pods are identical, so their own order cannot change how many of them fit.
//
// Namespaces. A run keeps one namespace per concurrency slot (not one per case) and renames each case's objects
// with the case seed: deleting a namespace costs the namespace controller a delete+list per resource type at its
// client's 20 QPS, and hundreds of them would back up the shared cluster for minutes.
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  NodeV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { fromPlain } from '../../../src/trace/model.js';
import type { MsgMap } from '../../../src/trace/msgpack.js';
import { apiErrorCode, apiErrorMessage, isNotFound, isTransient } from '../../../src/kube/errors.js';
import { mergePatch } from '../../../src/kube/request.js';
import { isUnschedulable } from '../../../src/sim/pods.js';
import { kwokNode, projectObject } from '../../../src/sim/kwok/project.js';
import { MANAGED_BY, POOL_LABEL, RUN_LABEL } from '../../../src/api/names.js';
import {
  FIDELITY_OVERHEAD,
  FIDELITY_RUNTIME_CLASS,
  WORKLOAD_LABEL,
  ZONE_LABEL,
  type FidelityCase,
  type FidelityWorkload,
} from './generate.js';

/** Every pod and node of a runner carries this label (value: the session), so one watch sees them all. */
export const SESSION_LABEL = 'simarena.io/fidelity-session';

/** A case could not be replayed (API errors, time-outs): not a disagreement, and worth one retry. */
export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}

/** One pod as the real cluster left it. */
export interface RealPod {
  name: string;
  /** Trace name of its workload. */
  workload: string;
  /** Trace name of the node it is bound to ("node-2"), or null while Pending. */
  node: string | null;
  /** The scheduler's PodScheduled=False message for a Pending pod. */
  message: string | null;
}

export interface RealRun {
  pods: RealPod[];
  /** ms since epoch: just before the first workload was created. */
  startedAt: number;
  /** ms since epoch: when the last workload was seen settled. */
  settledAt: number;
  /** Per workload (trace order): ms from its creation to settled. */
  settleMs: number[];
  /** The run's name: real node names are "<run>-<trace name>". */
  run?: string;
}

/** The scheduler a bulk run starts itself (see FidelityCluster.runBulk). */
export interface OwnScheduler {
  schedulerName: string;
  /** Start it (every pod exists, the pool is usable); resolves to a function that stops it. */
  start(run: string): Promise<() => Promise<void>>;
}

export interface FidelityClusterOptions {
  /** Name prefix of everything the runner creates (default: fid-<time>). Lowercase, ≤ 20 characters. */
  session?: string;
  /** Give up on a workload that has not settled after this long (default 120 s). */
  settleTimeoutMs?: number;
  /** How often the settle condition is re-checked against the watch cache (default 100 ms). */
  pollMs?: number;
  /** Pods in flight when creating many bare Pods (default 32). */
  createConcurrency?: number;
  /** Progress messages of long steps (bulk runs). */
  progress?: (message: string) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Retry throttling, 5xx and dropped connections (the cluster is shared and busy). */
async function retrying<T>(what: string, fn: () => Promise<T>, attempts = 6): Promise<T> {
  let delay = 200;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !isTransient(e)) throw new InfrastructureError(`${what}: ${apiErrorMessage(e)}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 3000);
    }
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

function readyCondition(n: V1Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Ready, and rid of the `node.kubernetes.io/not-ready:NoSchedule` taint that the TaintNodesByCondition admission
 * plugin puts on every new Node: only the kwok-provider taint may be left, as on the trace's nodes.
 */
function isReadyNode(n: V1Node): boolean {
  return readyCondition(n) && (n.spec?.taints ?? []).every((t) => t.key === 'kwok-provider');
}

/** Bound, or marked Unschedulable by the scheduler. */
function settled(p: V1Pod): boolean {
  return !!p.spec?.nodeName || isUnschedulable(p);
}

function schedulingMessage(p: V1Pod): string | null {
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status === 'False');
  return c?.message ?? null;
}

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export class FidelityCluster {
  readonly session: string;
  private readonly core: CoreV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly nodeApi: NodeV1Api;
  private readonly apps: AppsV1Api;
  private pods!: Informer<V1Pod> & ObjectCache<V1Pod>;
  private nodes!: Informer<V1Node> & ObjectCache<V1Node>;
  private readonly namespaces = new Map<number, Promise<string>>();
  private runtimeClass: Promise<string> | undefined;
  private closed = false;
  private runs = 0;
  private readonly progress: ((message: string) => void) | undefined;
  private readonly settleTimeoutMs: number;
  private readonly pollMs: number;
  readonly createConcurrency: number;

  private constructor(
    readonly kc: KubeConfig,
    opts: FidelityClusterOptions,
  ) {
    this.session = opts.session ?? `fid-${Date.now().toString(36)}`;
    if (!/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/.test(this.session))
      throw new RangeError(`session "${this.session}" must be a short DNS label (≤ 20 characters)`);
    this.core = kc.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.nodeApi = kc.makeApiClient(NodeV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.settleTimeoutMs = opts.settleTimeoutMs ?? 120_000;
    this.pollMs = opts.pollMs ?? 100;
    this.createConcurrency = opts.createConcurrency ?? 32;
    this.progress = opts.progress;
  }

  /** Start watching the session's pods and nodes. */
  static async open(kc: KubeConfig, opts: FidelityClusterOptions = {}): Promise<FidelityCluster> {
    const fc = new FidelityCluster(kc, opts);
    const selector = `${SESSION_LABEL}=${fc.session}`;
    fc.pods = makeInformer(
      kc,
      '/api/v1/pods',
      () => fc.core.listPodForAllNamespaces({ labelSelector: selector }),
      selector,
    );
    fc.nodes = makeInformer(kc, '/api/v1/nodes', () => fc.core.listNode({ labelSelector: selector }), selector);
    for (const inf of [fc.pods, fc.nodes] as Informer<KubernetesObject>[]) {
      // The informer stops on errors; restart it (after a pause) until the runner closes.
      inf.on('error', () => {
        if (!fc.closed) setTimeout(() => void inf.start().catch(() => undefined), 500);
      });
    }
    await Promise.all([fc.pods.start(), fc.nodes.start()]);
    return fc;
  }

  /** The namespace of a concurrency slot (created on first use). */
  private slotNamespace(slot: number): Promise<string> {
    let ns = this.namespaces.get(slot);
    if (!ns) {
      const name = `${this.session}-${slot}`;
      ns = retrying(`create namespace ${name}`, async () => {
        try {
          await this.core.createNamespace({
            body: {
              metadata: { name, labels: { ...MANAGED_BY, [SESSION_LABEL]: this.session, 'simarena.io/test': 'true' } },
            },
          });
        } catch (e) {
          if (apiErrorCode(e) !== 409) throw e;
        }
        return name;
      });
      this.namespaces.set(slot, ns);
    }
    return ns;
  }

  /** The session's RuntimeClass with FIDELITY_OVERHEAD (created on first use). */
  private ensureRuntimeClass(): Promise<string> {
    this.runtimeClass ??= retrying('create the RuntimeClass', async () => {
      const name = `${this.session}-overhead`;
      try {
        await this.nodeApi.createRuntimeClass({
          body: {
            metadata: { name, labels: { ...MANAGED_BY, [SESSION_LABEL]: this.session } },
            handler: 'kwok',
            overhead: { podFixed: { ...FIDELITY_OVERHEAD } },
          },
        });
      } catch (e) {
        if (apiErrorCode(e) !== 409) throw e;
      }
      return name;
    });
    return this.runtimeClass;
  }

  /**
   * A fresh run name for a case (node-name prefix, pool label, pod label, object-name prefix): unique per attempt, so
   * a retry or another case with the same seed never meets the leftovers of an earlier run still being deleted
   * (pods bound to a node name that is reused count against the new node).
   */
  private runName(c: FidelityCase): string {
    return `${this.session}-${c.seed}-${this.runs++}`;
  }

  /**
   * Create the case's KWOK nodes and wait until the scheduler can use all of them. KWOK marks a node Ready within a
   * moment; the not-ready taint is then removed here (the node lifecycle controller would do the same, at its
   * client's 20 QPS, which takes minutes for a thousand nodes). The scheduler must know the whole pool before the
   * first pod arrives, so this waits for our own watch to see every node usable, then a little longer.
   */
  private async createPool(c: FidelityCase, run: string, timeoutMs: number): Promise<void> {
    await pool(c.nodes, 16, async (n) => {
      const body = kwokNode(
        {
          name: `${run}-${n.name}`,
          cpu: n.cpu,
          memory: n.memory,
          pods: String(n.pods),
          labels: n.zone !== undefined ? { [ZONE_LABEL]: n.zone } : {},
        },
        run,
      ) as V1Node;
      body.metadata!.labels![SESSION_LABEL] = this.session;
      await retrying(`create node ${body.metadata!.name}`, () => this.core.createNode({ body }));
    });
    const names = c.nodes.map((n) => `${run}-${n.name}`);
    const untainted = new Set<string>();
    await this.waitUntil(
      `the ${names.length} nodes of ${run} to be Ready and untainted`,
      () => {
        let all = true;
        for (const name of names) {
          const x = this.nodes.get(name);
          if (x !== undefined && isReadyNode(x)) continue;
          all = false;
          if (x !== undefined && readyCondition(x) && !untainted.has(name)) {
            untainted.add(name);
            const taints = (x.spec?.taints ?? []).filter((t) => t.key === 'kwok-provider');
            void mergePatch(this.kc, `/api/v1/nodes/${name}`, { spec: { taints } }).catch(() => untainted.delete(name));
          }
        }
        return all;
      },
      timeoutMs,
      () =>
        `${names.filter((n) => this.nodes.get(n) && isReadyNode(this.nodes.get(n)!)).length}/${names.length} usable`,
    );
    await sleep(c.nodes.length > 100 ? 1000 : 150);
  }

  /** The real object for one workload: SimKube's projection (namespace, pinning, toleration), renamed and labelled. */
  private realObject(w: FidelityWorkload, run: string, ns: string, runtimeClass: string | undefined): KubernetesObject {
    const o = projectObject(fromPlain(w.object) as MsgMap, { namespace: ns, run, pool: run }) as unknown as Obj;
    o.metadata.name = `${run.slice(this.session.length + 1)}-${w.name}`; // "<seed>-<attempt>-<workload>"
    const spec = o.spec as Record<string, unknown>;
    const template = (w.kind === 'Pod' ? o : (spec.template as Obj)) as Obj;
    template.metadata ??= {};
    const tl = (template.metadata.labels ??= {}) as Record<string, string>;
    Object.assign(tl, { [SESSION_LABEL]: this.session, [RUN_LABEL]: run, [WORKLOAD_LABEL]: w.name });
    const podSpec = (w.kind === 'Pod' ? spec : template.spec) as Record<string, unknown>;
    if (podSpec.runtimeClassName === FIDELITY_RUNTIME_CLASS) {
      if (runtimeClass === undefined) throw new Error('runtime class not created');
      podSpec.runtimeClassName = runtimeClass;
    }
    return o as KubernetesObject;
  }

  /** Pods of one workload of a run, from the watch cache (pods being deleted excluded). */
  private podsOf(ns: string, run: string, workload?: string): V1Pod[] {
    return this.pods.list(ns).filter((p) => {
      const l = p.metadata?.labels ?? {};
      return (
        l[RUN_LABEL] === run &&
        (workload === undefined || l[WORKLOAD_LABEL] === workload) &&
        !p.metadata?.deletionTimestamp
      );
    });
  }

  private async waitUntil(
    what: string,
    done: () => boolean,
    timeoutMs: number,
    progress: () => string,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (done()) return Date.now();
      if (Date.now() > deadline)
        throw new InfrastructureError(
          `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (${progress()})`,
        );
      await sleep(this.pollMs);
    }
  }

  /** Replay one case into slot `slot`: nodes, then each workload in trace order, each left to settle. Cleans up. */
  async run(c: FidelityCase, slot = 0): Promise<RealRun> {
    const ns = await this.slotNamespace(slot);
    const run = this.runName(c);
    const needsRc = c.workloads.some(
      (w) =>
        (w.kind === 'Pod' ? (w.object.spec as Obj | undefined) : (((w.object.spec as Obj).template as Obj).spec as Obj))
          ?.runtimeClassName === FIDELITY_RUNTIME_CLASS,
    );
    const runtimeClass = needsRc ? await this.ensureRuntimeClass() : undefined;
    const created: KubernetesObject[] = [];
    try {
      await this.createPool(c, run, 60_000);

      const startedAt = Date.now();
      let settledAt = startedAt;
      const settleMs: number[] = [];
      for (const w of c.workloads) {
        const obj = this.realObject(w, run, ns, runtimeClass);
        const t0 = Date.now();
        await retrying(`create ${w.kind} ${obj.metadata!.name}`, () => this.objects.create(obj));
        created.push(obj);
        settledAt = await this.waitUntil(
          `${w.kind} ${obj.metadata!.name} (${w.pods} pods) to settle`,
          () => {
            const pods = this.podsOf(ns, run, w.name);
            return pods.length === w.pods && pods.every(settled);
          },
          this.settleTimeoutMs,
          () => {
            const pods = this.podsOf(ns, run, w.name);
            return `${pods.length}/${w.pods} pods exist, ${pods.filter(settled).length} settled`;
          },
        );
        settleMs.push(settledAt - t0);
      }
      return { pods: this.snapshot(ns, run), startedAt, settledAt, settleMs };
    } finally {
      await this.cleanup(ns, run, created);
    }
  }

  /**
   * Replay a case whose workloads are all bare Pods created in one event (the bench's big traces): every pod is
   * created at once, `createConcurrency` requests in flight, then left to settle.
   *
   * With `own`, the pods name `own.schedulerName` (which the shared cluster's scheduler ignores), all of them are
   * created first, and only then is `own.start()` called to start the scheduler that takes them: pod creation is then
   * out of the measured time, and the scheduler lists the pool's nodes (all usable by then) in one go. The function
   * it returns stops it once every pod has settled.
   */
  async runBulk(c: FidelityCase, slot = 0, own?: OwnScheduler): Promise<RealRun> {
    const ns = await this.slotNamespace(slot);
    const run = this.runName(c);
    if (c.workloads.some((w) => w.kind !== 'Pod')) throw new RangeError('runBulk takes bare Pods only');
    const created: KubernetesObject[] = [];
    let stop: (() => Promise<void>) | undefined;
    try {
      const p0 = Date.now();
      await this.createPool(c, run, 600_000);
      this.progress?.(`${c.nodes.length} nodes created and usable in ${((Date.now() - p0) / 1000).toFixed(1)} s`);
      const total = c.workloads.length;
      const createdAt = Date.now();
      await pool(c.workloads, this.createConcurrency, async (w) => {
        const obj = this.realObject(w, run, ns, undefined);
        if (own !== undefined)
          ((obj as unknown as Obj).spec as Record<string, unknown>).schedulerName = own.schedulerName;
        await retrying(`create Pod ${obj.metadata!.name}`, () => this.objects.create(obj), 10);
      });
      this.progress?.(`${total} pods created in ${((Date.now() - createdAt) / 1000).toFixed(1)} s`);
      let startedAt = createdAt;
      if (own !== undefined) {
        await this.waitUntil(
          `the ${total} pods of ${run} to be in the watch cache`,
          () => this.podsOf(ns, run).length === total,
          60_000,
          () => `${this.podsOf(ns, run).length}/${total}`,
        );
        startedAt = Date.now();
        stop = await own.start(run);
      }
      const settledAt = await this.waitUntil(
        `${total} pods of ${run} to settle`,
        () => {
          const pods = this.podsOf(ns, run);
          return pods.length === total && pods.every(settled);
        },
        Math.max(this.settleTimeoutMs, total * 100),
        () => {
          const pods = this.podsOf(ns, run);
          return `${pods.length}/${total} pods exist, ${pods.filter(settled).length} settled`;
        },
      );
      return { pods: this.snapshot(ns, run), startedAt, settledAt, settleMs: [settledAt - startedAt], run };
    } finally {
      await stop?.();
      await this.cleanup(ns, run, created);
    }
  }

  private snapshot(ns: string, run: string): RealPod[] {
    const prefix = `${run}-`;
    return this.podsOf(ns, run).map((p) => {
      const node = p.spec?.nodeName;
      return {
        name: p.metadata?.name ?? '',
        workload: p.metadata?.labels?.[WORKLOAD_LABEL] ?? '',
        node: node ? (node.startsWith(prefix) ? node.slice(prefix.length) : node) : null,
        message: node ? null : schedulingMessage(p),
      };
    });
  }

  /**
   * Delete a case's workloads, pods and nodes (without waiting for them to go). The Deployments and Jobs go first,
   * then the ReplicaSets (they carry the template's run label), so no controller is left to replace the pods.
   */
  private async cleanup(ns: string, run: string, created: KubernetesObject[]): Promise<void> {
    const quiet = (p: Promise<unknown>) => ignoreNotFound(p).catch(() => undefined);
    await Promise.all(
      created
        .filter((o) => o.kind !== 'Pod')
        .map((o) => quiet(this.objects.delete(o, undefined, undefined, 0, undefined, 'Background'))),
    );
    if (created.some((o) => o.kind === 'Deployment'))
      await quiet(
        this.apps.deleteCollectionNamespacedReplicaSet({
          namespace: ns,
          labelSelector: `${RUN_LABEL}=${run}`,
          propagationPolicy: 'Background',
        }),
      );
    const selector = `${RUN_LABEL}=${run}`;
    const nodes = new Set(this.podsOf(ns, run).map((p) => p.spec?.nodeName ?? ''));
    if (nodes.size > 50) {
      // Thousands of pods: one delete-collection would outlive the API server's request timeout. Delete them node by
      // node (grace 0: gone at once), while the nodes still exist; a pod left on a deleted node waits for the pod GC.
      const t0 = Date.now();
      await pool([...nodes], 16, (node) =>
        quiet(
          retrying('delete pods', () =>
            this.core.deleteCollectionNamespacedPod({
              namespace: ns,
              labelSelector: selector,
              fieldSelector: `spec.nodeName=${node}`,
              gracePeriodSeconds: 0,
            }),
          ),
        ),
      );
      this.progress?.(`pods on ${nodes.size} nodes deleted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    await quiet(
      this.core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector: selector, gracePeriodSeconds: 0 }),
    );
    await quiet(this.core.deleteCollectionNode({ labelSelector: `${POOL_LABEL}=${run}` }));
  }

  /** Stop watching; delete the session's namespaces, nodes and RuntimeClass. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.pods?.stop(), this.nodes?.stop()]);
    const quiet = (p: Promise<unknown>) => ignoreNotFound(p).catch(() => undefined);
    for (const ns of this.namespaces.values()) {
      const name = await ns.catch(() => undefined);
      if (name) await quiet(this.core.deleteNamespace({ name, propagationPolicy: 'Background' }));
    }
    await quiet(this.core.deleteCollectionNode({ labelSelector: `${SESSION_LABEL}=${this.session}` }));
    if (this.runtimeClass) {
      const name = await this.runtimeClass.catch(() => undefined);
      if (name) await quiet(this.nodeApi.deleteRuntimeClass({ name }));
    }
  }
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}
