// A stand-in for SimKube's controller (sk-ctrl) and driver (sk-driver), which cannot run on the test control plane
// (no container runtime). It does what they do that sim-arena can see, against the real API server:
//   - watches simulations.simkube.io; a new one gets status {state: Running, observedGeneration, startTime} through
//     the status subresource — or Blocked while another holds the one-at-a-time lease (like sk-lease);
//   - reads the trace from spec.driver.tracePath (file://; the node path is mapped to a local directory, standing in
//     for the node's hostPath that trace-sync writes) — a missing file stalls the run, as a driver pod stuck in
//     ContainerCreating would;
//   - replays it like the driver: objects into `<virtualNsPrefix>-<ns>`, status dropped, pods pinned with
//     nodeSelector type=virtual + the kwok-provider toleration onto the cluster's shared KWOK nodes (projectObject
//     without a pool), labelled simkube.io/simulation=<sim> (as the driver and its webhook do), events applied at
//     floor(gap/speed) intervals up to `duration`;
//   - after duration/speed deletes the virtual namespace and sets state Finished (endTime, completedRuns 1).
// Deleting a Simulation cascades through ownerReferences (the real GC), as it does with SimKube's roots.
import { readFile } from 'node:fs/promises';
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { apiErrorMessage, isNotFound } from '../../src/kube/errors.js';
import { projectObject } from '../../src/sim/kwok/project.js';
import { Kube } from '../../src/kube/client.js';
import { simulationPath, SIMULATIONS_PATH } from '../../src/sim/simkube/simulation.js';
import { parseDurationSeconds, SIMKUBE_SIM_LABEL, TERMINAL_STATES, type Simulation, type SimulationState } from '../../src/sim/simkube/simulation.js';
import { getIn } from '../../src/trace/model.js';
import { podSpecPath } from '../../src/trace/gvk.js';
import { decodeTrace, isNodeObject, traceEvents } from '../../src/trace/trace.js';

export interface StandinOptions {
  /** Node path prefix → local directory, e.g. {'/var/lib/sim-arena/traces': '/tmp/x'}. */
  pathMap?: Record<string, string>;
  /** One Simulation at a time, the others Blocked (SimKube's Lease). Default true. */
  exclusive?: boolean;
  pollMs?: number;
  /** Only handle Simulations matching this (default: all). */
  filter?: (sim: Simulation) => boolean;
}

export interface Transition {
  sim: string;
  state: SimulationState;
  at: number;
}

interface Task {
  uid: string;
  abort: AbortController;
  done: Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class SimkubeStandin {
  private readonly kube: Kube;
  private readonly objects: KubernetesObjectApi;
  private readonly exclusive: boolean;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private leaseHolder: string | undefined;
  private readonly tasks = new Map<string, Task>();
  readonly transitions: Transition[] = [];
  readonly errors: string[] = [];

  constructor(
    kc: KubeConfig,
    private readonly opts: StandinOptions = {},
  ) {
    this.kube = Kube.of(kc);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.exclusive = opts.exclusive ?? true;
    this.pollMs = opts.pollMs ?? 200;
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((e: unknown) => void this.errors.push(apiErrorMessage(e)))
        .finally(() => {
          this.ticking = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.pollMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const t of this.tasks.values()) t.abort.abort(new Error('stand-in stopped'));
    await Promise.allSettled([...this.tasks.values()].map((t) => t.done));
    this.tasks.clear();
  }

  /** The states a Simulation went through, in order. */
  statesOf(sim: string): SimulationState[] {
    return this.transitions.filter((t) => t.sim === sim).map((t) => t.state);
  }

  private async tick(): Promise<void> {
    const all = await this.kube.list<Simulation>(SIMULATIONS_PATH);
    const sims = all.filter((s) => !this.opts.filter || this.opts.filter(s));
    const byName = new Map(sims.map((s) => [s.metadata!.name!, s]));
    // Simulations that vanished: stop their replay (GC removes what they made).
    for (const [name, task] of this.tasks) {
      const s = byName.get(name);
      if (!s || s.metadata?.uid !== task.uid || s.metadata?.deletionTimestamp) {
        task.abort.abort(new Error('simulation deleted'));
        this.tasks.delete(name);
      }
    }
    if (this.leaseHolder) {
      const h = byName.get(this.leaseHolder);
      if (!h || h.metadata?.deletionTimestamp || TERMINAL_STATES.has(String(h.status?.state ?? ''))) this.leaseHolder = undefined;
    }
    const waiting = sims
      .filter((s) => !s.metadata?.deletionTimestamp && !TERMINAL_STATES.has(String(s.status?.state ?? '')) && !this.tasks.has(s.metadata!.name!))
      .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)) || a.metadata!.name!.localeCompare(b.metadata!.name!));
    for (const s of waiting) {
      const name = s.metadata!.name!;
      if (this.exclusive && this.leaseHolder && this.leaseHolder !== name) {
        if (s.status?.state !== 'Blocked') await this.setState(s, 'Blocked');
        continue;
      }
      this.leaseHolder = name;
      await this.setState(s, 'Running', { startTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
      const abort = new AbortController();
      const done = this.replay(s, abort.signal).catch((e: unknown) => {
        if (!abort.signal.aborted) this.errors.push(`${name}: ${apiErrorMessage(e)}`);
      });
      this.tasks.set(name, { uid: s.metadata!.uid!, abort, done });
    }
  }

  private async setState(s: Simulation, state: SimulationState, extra: Record<string, unknown> = {}): Promise<void> {
    const name = s.metadata!.name!;
    try {
      await this.kube.mergePatch(simulationPath(name, 'status'), { status: { observedGeneration: s.metadata?.generation ?? 1, state, ...extra } });
      this.transitions.push({ sim: name, state, at: Date.now() });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The local file for a file:// tracePath. */
  localPath(tracePath: string): string {
    const url = new URL(tracePath);
    if (url.protocol !== 'file:' || url.host) throw new Error(`unsupported tracePath ${tracePath} (the stand-in reads file:/// only)`);
    const p = decodeURIComponent(url.pathname);
    for (const [from, to] of Object.entries(this.opts.pathMap ?? {})) {
      const f = from.replace(/\/+$/, '');
      if (p === f || p.startsWith(`${f}/`)) return to.replace(/\/+$/, '') + p.slice(f.length);
    }
    return p;
  }

  private async replay(sim: Simulation, signal: AbortSignal): Promise<void> {
    const name = sim.metadata!.name!;
    const started = Date.now();
    const file = this.localPath(sim.spec.driver.tracePath);
    let bytes: Buffer | undefined;
    while (!bytes) {
      try {
        bytes = await readFile(file);
      } catch {
        await sleep(500, signal); // the driver pod would sit in ContainerCreating (hostPath type File)
      }
    }
    const { trace } = decodeTrace(bytes);
    const speed = sim.spec.speed ?? 1;
    const prefix = sim.spec.driver.virtualNsPrefix ?? 'virtual';
    const events = traceEvents(trace);
    const first = Number(events[0]?.ts ?? 0);
    const durationSec = sim.spec.duration ? parseDurationSeconds(sim.spec.duration) : undefined;
    const end = durationSec !== undefined ? first + durationSec : Number(events[events.length - 1]?.ts ?? first);
    const owner = { apiVersion: 'simkube.io/v1', kind: 'Simulation', name, uid: sim.metadata!.uid!, blockOwnerDeletion: true };
    const namespaces = new Set<string>();

    await sleep(300, signal); // driver start-up
    let prevTs = first;
    for (const ev of events) {
      const ts = Number(ev.ts);
      if (durationSec !== undefined && ts >= end) break;
      await sleep((Math.floor((ts - prevTs) / speed) * 1000), signal);
      prevTs = ts;
      for (const obj of ev.applied) {
        if (isNodeObject(obj)) continue;
        const vns = `${prefix}-${String(getIn(obj, ['metadata', 'namespace']))}`;
        if (!namespaces.has(vns)) {
          await this.ensureNamespace(vns, name, owner);
          namespaces.add(vns);
        }
        const o = projectObject(obj, { namespace: vns, run: name }) as KubernetesObject & Record<string, unknown>;
        const md = o.metadata!;
        md.labels = { ...md.labels, [SIMKUBE_SIM_LABEL]: name, 'simkube.io/virtual': 'true', 'app.kubernetes.io/name': md.name! };
        md.ownerReferences = [owner];
        // sk-driver's webhook labels every pod it admits with the simulation; the template carries it here.
        const path = podSpecPath(String(o.kind));
        if (path && path.length > 1) {
          let tmplParent: Record<string, unknown> | undefined = o;
          for (const k of path.slice(0, -1)) tmplParent = tmplParent?.[k] as Record<string, unknown> | undefined;
          if (tmplParent) {
            const tmd = ((tmplParent.metadata as Record<string, unknown> | undefined) ??= {});
            tmd.labels = { ...(tmd.labels as Record<string, string> | undefined), [SIMKUBE_SIM_LABEL]: name };
            tmd.annotations = { ...(tmd.annotations as Record<string, string> | undefined), 'static.simkube.io/original-namespace': String(getIn(obj, ['metadata', 'namespace'])) };
          }
        }
        if (signal.aborted) return;
        await this.objects.patch(o, undefined, undefined, 'simkube', undefined, PatchStrategy.ServerSideApply);
      }
      for (const obj of ev.deleted) {
        if (isNodeObject(obj)) continue;
        const vns = `${prefix}-${String(getIn(obj, ['metadata', 'namespace']))}`;
        const target = { apiVersion: obj.get('apiVersion'), kind: obj.get('kind'), metadata: { name: getIn(obj, ['metadata', 'name']), namespace: vns } } as KubernetesObject;
        await this.objects.delete(target).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    const wallMs = ((end - first) / speed) * 1000;
    await sleep(started + wallMs - Date.now(), signal);
    for (const vns of namespaces) await this.kube.delete(`/api/v1/namespaces/${vns}`, { propagationPolicy: 'Background' });
    if (signal.aborted) return;
    await this.setState(sim, 'Finished', { endTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), completedRuns: 1 });
    this.tasks.delete(name);
    if (this.leaseHolder === name) this.leaseHolder = undefined;
  }

  private async ensureNamespace(vns: string, sim: string, owner: Record<string, unknown>): Promise<void> {
    for (let i = 0; ; i++) {
      const ns = await this.kube.get(`/api/v1/namespaces/${vns}`);
      if (ns && !ns.metadata?.deletionTimestamp) return;
      if (!ns) {
        await this.kube.create('/api/v1/namespaces', {
          metadata: { name: vns, labels: { 'simkube.io/virtual': 'true', [SIMKUBE_SIM_LABEL]: sim }, ownerReferences: [owner] },
        });
        continue;
      }
      if (i > 300) throw new Error(`namespace ${vns} stayed Terminating`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
