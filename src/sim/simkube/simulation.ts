// The Simulation objects sim-arena writes (simkube.io/v1, cluster-scoped), and how they are named.
import type { EpisodeHooks, SimulationHook } from '../../arena/hooks.js';
import { createHash } from 'node:crypto';
import {
  EPISODE_LABEL,
  MANAGED_BY,
  RUN_LABEL,
  TRACE_CONFIGMAP_ANNOTATION,
  WORKLOAD_ANNOTATION,
} from '../../api/names.js';
import type { Obj } from '../../kube/client.js';

/** The label SimKube's driver (and webhook) puts on every simulated object and pod. */
export const SIMKUBE_SIM_LABEL = 'simkube.io/simulation';
/** The driver port is fixed: sk-ctrl never tells the driver which port to listen on (pitfall 2). */
export const DRIVER_PORT = 8888;
export const DEFAULT_DRIVER_IMAGE = 'quay.io/appliedcomputing/sk-driver:v2.7.0';
export const DEFAULT_DRIVER_NAMESPACE = 'simkube';
export const DEFAULT_VIRTUAL_NS_PREFIX = 'virtual';
export const DEFAULT_CERT_MANAGER_ISSUER = 'selfsigned';
/** Objects SimKube names after the Simulation (sk-<sim>-driver-svc) must stay DNS labels (pitfall 6). */
export const MAX_SIMULATION_NAME = 49;

export type SimulationState = 'Blocked' | 'Initializing' | 'Finished' | 'Failed' | 'Paused' | 'Retrying' | 'Running';
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['Finished', 'Failed']);

export interface SimulationStatus {
  observedGeneration?: number;
  state?: SimulationState | null;
  startTime?: string | null;
  endTime?: string | null;
  completedRuns?: number | null;
}

export type Hook = SimulationHook;

export interface SimulationSpec {
  driver: {
    image: string;
    namespace: string;
    port: number;
    tracePath: string;
    virtualNsPrefix?: string;
    certManagerIssuer?: string;
    args?: string[];
    secrets?: string[];
  };
  lifecycleParams: {
    imagePullDelay?: number;
    imagePullJitter?: number;
    podStartupDelay?: number;
    podStartupJitter?: number;
  };
  duration?: string | null;
  speed?: number | null;
  repetitions?: number | null;
  hooks?: { preStartHooks?: Hook[]; preRunHooks?: Hook[]; postRunHooks?: Hook[]; postStopHooks?: Hook[] } | null;
  pausedTime?: string | null;
}

export interface Simulation extends Obj {
  spec: SimulationSpec;
  status?: SimulationStatus | null;
}

function shortHash(s: string, n = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/**
 * A lowercase DNS-label form of `s` (letters, digits, '-', alphanumeric at both ends), at most `max` characters;
 * `s` itself when it already is one, else a cleaned prefix plus a hash of `s` (so distinct inputs stay distinct).
 */
export function dnsLabel(s: string, max: number): string {
  let clean = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .replace(/-+$/, '');
  if (clean === s && clean.length <= max) return clean;
  if (!clean) clean = 'sa';
  const h = shortHash(s);
  return `${clean.slice(0, max - h.length - 1).replace(/-+$/, '')}-${h}`;
}

/** The Simulation name for a run: the run name itself when it is already a valid name of ≤ 49 characters. */
export function simulationName(runName: string): string {
  return dnsLabel(runName, MAX_SIMULATION_NAME);
}

/** A valid label value (≤ 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends). */
export function labelValue(s: string): string {
  const clean = s
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  if (clean === s && clean.length <= 63) return clean;
  const h = shortHash(s);
  return `${clean.slice(0, 63 - h.length - 1).replace(/[^A-Za-z0-9]+$/, '')}-${h}`.replace(/^-/, '');
}

export function virtualNamespace(prefix: string, namespace: string): string {
  return `${prefix}-${namespace}`;
}

/** `file:///abs/dir/name`, the only tracePath form that reaches the driver without extra infrastructure. */
export function fileTracePath(dir: string, file: string): string {
  const abs = dir.startsWith('/') ? dir : `/${dir}`;
  return `file://${abs.replace(/\/+$/, '')}/${file}`;
}

/** Seconds from a SimKube duration string: "90s", "+5m", "1h", "2m30s", "10 minutes" (undefined if unparseable). */
export function parseDurationSeconds(s: string): number | undefined {
  const t = s.trim().replace(/^\+/, '');
  const re = /(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const n = Number(m[1]);
    const u = m[2]!;
    const mult =
      u.startsWith('ms') || u.startsWith('milli')
        ? 0.001
        : u.startsWith('s')
          ? 1
          : u.startsWith('m')
            ? 60
            : u.startsWith('h')
              ? 3600
              : 86400;
    total += n * mult;
    matched = re.lastIndex;
    while (t[re.lastIndex] === ' ') re.lastIndex++;
  }
  if (matched === 0 || t.slice(matched).trim() !== '') return /^\d+$/.test(t) ? Number(t) : undefined;
  return total;
}

export interface SimulationParams {
  name: string;
  runName: string;
  episode?: string | undefined;
  configMap: string;
  workload: string;
  driverImage: string;
  driverNamespace: string;
  tracePath: string;
  virtualNsPrefix: string;
  durationSeconds: number;
  speed: number;
  /** The user's hooks (ArenaEpisode spec.hooks), after sim-arena's own KWOK stages hook in preStart. */
  hooks?: EpisodeHooks;
}

/** SimKube's KWOK Stages (pod-create/ready/complete/delete) ship in sk-ctrl's image at /config/kwok. */
export const KWOK_STAGES_HOOK: Hook = { cmd: 'kubectl', args: ['apply', '-f', '/config/kwok'], ignoreFailure: true };

/** SimKube's hooks config: sim-arena's KWOK stages hook first, then the user's hooks of each stage in order. */
export function simulationHooks(user: EpisodeHooks = {}): NonNullable<SimulationSpec['hooks']> {
  const copy = (hs: SimulationHook[] | undefined) => (hs ?? []).map((h) => ({ ...h }));
  return {
    preStartHooks: [KWOK_STAGES_HOOK, ...copy(user.preStart)],
    ...(user.preRun?.length ? { preRunHooks: copy(user.preRun) } : {}),
    ...(user.postRun?.length ? { postRunHooks: copy(user.postRun) } : {}),
    ...(user.postStop?.length ? { postStopHooks: copy(user.postStop) } : {}),
  };
}

export function buildSimulation(p: SimulationParams): Simulation {
  return {
    apiVersion: 'simkube.io/v1',
    kind: 'Simulation',
    metadata: {
      name: p.name,
      labels: {
        ...MANAGED_BY,
        [RUN_LABEL]: labelValue(p.runName),
        ...(p.episode ? { [EPISODE_LABEL]: labelValue(p.episode) } : {}),
      },
      annotations: { [TRACE_CONFIGMAP_ANNOTATION]: p.configMap, [WORKLOAD_ANNOTATION]: p.workload },
    },
    spec: {
      driver: {
        image: p.driverImage,
        namespace: p.driverNamespace,
        port: DRIVER_PORT,
        tracePath: p.tracePath,
        virtualNsPrefix: p.virtualNsPrefix,
        certManagerIssuer: DEFAULT_CERT_MANAGER_ISSUER,
        args: ['--verbosity', 'info'],
      },
      lifecycleParams: {},
      duration: `${Math.max(1, Math.ceil(p.durationSeconds))}s`,
      speed: p.speed,
      repetitions: 1,
      hooks: simulationHooks(p.hooks),
    },
  };
}

export const SIMULATIONS_PATH = '/apis/simkube.io/v1/simulations';

export function simulationPath(name: string, subresource?: string): string {
  return `${SIMULATIONS_PATH}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
