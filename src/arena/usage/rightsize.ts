// Right-sizing from observed usage, shared by the heuristic: keep each request inside [1.1 × p95, 1.5 × p95] of the
// window's per-pod usage, bump memory after an OOM kill and CPU when throttled.
import type { ActionType } from '../actions.js';
import type { Observation, WorkloadResources } from '../observation.js';
import { cpuMillis, quantityUnits } from '../../trace/quantity.js';

export const RIGHTSIZE_BAND = { low: 1.1, high: 1.5 } as const;
/** Throttled fraction above which CPU is bumped. */
export const RIGHTSIZE_THROTTLE = 0.05;

/** What the next move of a request would give, for either action set (cores or bytes). */
export function nextRequest(
  value: number,
  dir: 1 | -1,
  set: 'additive' | 'proportional' | undefined,
  step: number,
): number {
  if (set === 'proportional' && value > 0) return dir > 0 ? value * 1.25 : value * 0.8;
  return value + dir * step;
}

export function rightsizeAction(
  obs: Observation,
  resources: WorkloadResources,
  set: 'additive' | 'proportional' | undefined,
  steps: { cpu: string; memory: string },
  allowed: (a: ActionType) => boolean,
): ActionType | undefined {
  const u = obs.usage;
  if (!u) return undefined;
  const cpu = Number(cpuMillis(resources.cpu)) / 1000;
  const mem = Number(quantityUnits(resources.memory));
  const cpuStep = Number(cpuMillis(steps.cpu)) / 1000;
  const memStep = Number(quantityUnits(steps.memory));
  const want = (a: ActionType) => (allowed(a) ? a : undefined);
  // Too small first: an OOM kill, restarts with pods not Ready, or a working set past the band's low edge.
  if ((obs.oomKills ?? 0) > 0 || mem < RIGHTSIZE_BAND.low * u.memory.p95) {
    const a = want('bump-mem');
    if (a) return a;
  }
  if ((obs.throttling ?? 0) > RIGHTSIZE_THROTTLE || cpu < RIGHTSIZE_BAND.low * u.cpu.p95) {
    const a = want('bump-cpu');
    if (a) return a;
  }
  // Then too large: shrink while the next value stays inside the band.
  const memFloor = RIGHTSIZE_BAND.low * u.memory.p95;
  const cpuFloor = RIGHTSIZE_BAND.low * u.cpu.p95;
  const memOver = mem / Math.max(1, u.memory.p95);
  const cpuOver = cpu / Math.max(1e-6, u.cpu.p95);
  const order: ActionType[] = memOver >= cpuOver ? ['reduce-mem', 'reduce-cpu'] : ['reduce-cpu', 'reduce-mem'];
  for (const a of order) {
    const isMem = a === 'reduce-mem';
    const cur = isMem ? mem : cpu;
    const p95 = isMem ? u.memory.p95 : u.cpu.p95;
    if (cur <= RIGHTSIZE_BAND.high * p95) continue;
    const next = nextRequest(cur, -1, set, isMem ? memStep : cpuStep);
    if (next >= (isMem ? memFloor : cpuFloor) && allowed(a)) return a;
  }
  return undefined;
}
