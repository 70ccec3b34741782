// What the simkube backend reads from SimKube's own objects to say what is going on: who holds the lock, when the
// driver began replaying, and why a driver failed (its pod's terminated status, Warning events).
import { isNotFound } from '../../kube/errors.js';
import type { Kube, Obj } from '../../kube/client.js';
import { timeMs } from '../../kube/time.js';
import { simulationPath, type Simulation } from './simulation.js';

/** SimKube's one-simulation-at-a-time Lease, in sk-ctrl's namespace (sk-core LEASE_NAME). */
export const LEASE_NAME = 'sk-lease';
export const SIMULATION_ROOTS_PATH = '/apis/simkube.io/v1/simulationroots';

export interface LockHolder {
  name: string;
  /** The holder's state; undefined when the Simulation no longer exists. */
  state?: string;
  managedBySimArena: boolean;
  deleting: boolean;
}

/** The Simulation named by SimKube's Lease, if any. */
export async function lockHolder(kube: Kube, ctrlNamespace: string): Promise<LockHolder | undefined> {
  const lease = await kube.get<Obj & { spec?: { holderIdentity?: string } }>(
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ctrlNamespace)}/leases/${LEASE_NAME}`,
  );
  const name = lease?.spec?.holderIdentity;
  if (!name) return undefined;
  const sim = await kube.get<Simulation>(simulationPath(name));
  return {
    name,
    state: sim ? String(sim.status?.state ?? 'pending') : undefined,
    managedBySimArena: sim?.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'sim-arena',
    deleting: !!sim?.metadata?.deletionTimestamp,
  };
}

/**
 * When the driver began replaying: the creation time (ms) of its SimulationRoot `<driver pod>-root`, which it makes
 * right before applying the first event's objects. Undefined while there is none (or SimKube's roots CRD is absent).
 */
export async function replayStartedMs(kube: Kube, sim: Simulation): Promise<number | undefined> {
  const uid = sim.metadata?.uid;
  const metaroot = `sk-${sim.metadata?.name}-metaroot`;
  let roots: Obj[];
  try {
    roots = await kube.list<Obj>(SIMULATION_ROOTS_PATH);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  const mine = roots.filter(
    (r) => r.metadata?.name !== metaroot && r.metadata?.ownerReferences?.some((o) => o.uid === uid),
  );
  const times = mine.map((r) => timeMs(r.metadata?.creationTimestamp)).filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

interface PodStatusView {
  metadata?: Obj['metadata'];
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: Array<{
      name: string;
      state?: {
        terminated?: { exitCode?: number; reason?: string; message?: string };
        waiting?: { reason?: string; message?: string };
      };
    }>;
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

// A Rust backtrace (SimKube's driver runs with RUST_BACKTRACE=1): frames, their locations and the headings around them.
const BACKTRACE = /^(\d+: |at \S+:\d+|-- <skipped|(Partial )?Stack (Trace|backtrace):?$)/i;

/**
 * The lines of a driver log or termination message that say what went wrong (errors and panics), else the last few;
 * never backtrace frames.
 */
export function keyLines(text: string, max = 4): string[] {
  const lines = text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !BACKTRACE.test(l));
  const bad = lines.filter((l) => /\b(ERROR|error|panicked|Error:|failed)\b/.test(l));
  return (bad.length ? bad : lines).slice(-max).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
}

/** The driver's own account of a failure: its pods' terminated status, and Warning events on them. */
export async function driverError(kube: Kube, driverNamespace: string, simName: string): Promise<string | undefined> {
  const ns = encodeURIComponent(driverNamespace);
  const job = `sk-${simName}-driver`;
  const pods = await kube
    .list<PodStatusView>(`/api/v1/namespaces/${ns}/pods`, { labelSelector: `job-name=${job}` })
    .catch(() => [] as PodStatusView[]);
  const parts: string[] = [];
  for (const p of pods) {
    const name = p.metadata?.name ?? '?';
    for (const cs of p.status?.containerStatuses ?? []) {
      const t = cs.state?.terminated;
      if (t && (t.exitCode ?? 0) !== 0) {
        // Our driver runner (and a kubelet with terminationMessagePolicy FallbackToLogsOnError) puts the log tail here;
        // otherwise the message points at kubectl logs.
        const detail = keyLines(t.message ?? '');
        parts.push(
          `driver pod ${name} exited ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${detail.length ? `: ${detail.join(' / ')}` : ''}`,
        );
      } else if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'ContainerCreating') {
        parts.push(
          `driver pod ${name} is waiting: ${cs.state.waiting.reason}${cs.state.waiting.message ? ` (${cs.state.waiting.message})` : ''}`,
        );
      }
    }
    if (!p.status?.containerStatuses?.length && p.status?.phase === 'Failed')
      parts.push(
        `driver pod ${name} Failed${p.status.reason ? `: ${p.status.reason}` : ''}${p.status.message ? ` ${p.status.message}` : ''}`,
      );
  }
  const events = await kube
    .list<
      Obj & { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }
    >(`/api/v1/namespaces/${ns}/events`)
    .catch(
      () =>
        [] as Array<
          Obj & { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }
        >,
    );
  const warnings = events
    .filter(
      (e) => e.type === 'Warning' && (e.involvedObject?.name === job || e.involvedObject?.name?.startsWith(`${job}-`)),
    )
    .slice(-3)
    .map((e) => `${e.involvedObject?.kind} ${e.involvedObject?.name}: ${e.reason}: ${e.message}`);
  if (warnings.length) parts.push(`events: ${warnings.join(' | ')}`);
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * SimKube's own words for each hook that failed with ignoreFailure: false: its `<Stage>HookFailed` events on the
 * Simulation ("Simulation hook `cmd args` failed with exit code: N"), oldest first.
 */
export function hookFailures(events: readonly SimulationEvent[]): string[] {
  return events.filter((e) => /HookFailed$/.test(e.reason ?? '')).map((e) => `${e.reason}: ${e.message ?? ''}`.trim());
}

export type SimulationEvent = Obj & { reason?: string; message?: string; type?: string };

/** The Events about a Simulation (SimKube's own: hook outcomes, driver and cleanup failures), oldest first. */
export function simulationEvents(kube: Kube, simName: string): Promise<SimulationEvent[]> {
  return kube.list<SimulationEvent>('/api/v1/events', {
    fieldSelector: `involvedObject.kind=Simulation,involvedObject.name=${simName}`,
  });
}
