// Caps and floors on what an action may write. A blocked action leaves the trace unchanged and says why.
import { cpuMillis, quantityUnits, cpuFromMillis, memoryFromBytes } from '../trace/quantity.js';

export interface Safeguards {
  maxCpu: string;
  maxMemory: string;
  maxReplicas: number;
  minCpu: string;
  minMemory: string;
  minReplicas: number;
}

export const DEFAULT_SAFEGUARDS: Safeguards = {
  maxCpu: '16',
  maxMemory: '32Gi',
  maxReplicas: 100,
  minCpu: '50m',
  minMemory: '64Mi',
  minReplicas: 1,
};

export interface Limits {
  maxCpuMillis: bigint;
  minCpuMillis: bigint;
  maxMemoryBytes: bigint;
  minMemoryBytes: bigint;
  maxReplicas: number;
  minReplicas: number;
}

const resolved = new WeakMap<Safeguards, Limits>();

export function resolveLimits(s: Safeguards): Limits {
  const hit = resolved.get(s);
  if (hit) return hit;
  const l = {
    maxCpuMillis: cpuMillis(s.maxCpu),
    minCpuMillis: cpuMillis(s.minCpu),
    maxMemoryBytes: quantityUnits(s.maxMemory),
    minMemoryBytes: quantityUnits(s.minMemory),
    maxReplicas: s.maxReplicas,
    minReplicas: s.minReplicas,
  };
  if (l.minCpuMillis > l.maxCpuMillis)
    throw new RangeError(`safeguards: minCpu ${s.minCpu} is above maxCpu ${s.maxCpu}`);
  if (l.minMemoryBytes > l.maxMemoryBytes)
    throw new RangeError(`safeguards: minMemory ${s.minMemory} is above maxMemory ${s.maxMemory}`);
  if (l.minReplicas > l.maxReplicas)
    throw new RangeError(`safeguards: minReplicas ${s.minReplicas} is above maxReplicas ${s.maxReplicas}`);
  // Cached by identity: a Safeguards object is treated as immutable once resolved.
  resolved.set(s, l);
  return l;
}

// A move is blocked only when it goes past a bound in the direction it moves: a workload that starts above a cap
// may still be reduced, one below a floor may still be raised.
export function checkCpu(newMillis: bigint, direction: 1 | -1, l: Limits): string | undefined {
  if (direction > 0 && newMillis > l.maxCpuMillis)
    return `the CPU request would become ${cpuFromMillis(newMillis)}, above the cap of ${cpuFromMillis(l.maxCpuMillis)}`;
  if (direction < 0 && newMillis < l.minCpuMillis)
    return `the CPU request would become ${cpuFromMillis(newMillis)}, below the floor of ${cpuFromMillis(l.minCpuMillis)}`;
  return undefined;
}

export function checkMemory(newBytes: bigint, direction: 1 | -1, l: Limits): string | undefined {
  if (direction > 0 && newBytes > l.maxMemoryBytes)
    return `the memory request would become ${memoryFromBytes(newBytes)}, above the cap of ${memoryFromBytes(l.maxMemoryBytes)}`;
  if (direction < 0 && newBytes < l.minMemoryBytes)
    return `the memory request would become ${memoryFromBytes(newBytes)}, below the floor of ${memoryFromBytes(l.minMemoryBytes)}`;
  return undefined;
}

export function checkReplicas(n: number, direction: 1 | -1, l: Limits): string | undefined {
  if (direction > 0 && n > l.maxReplicas) return `replicas would become ${n}, above the cap of ${l.maxReplicas}`;
  if (direction < 0 && n < l.minReplicas) return `replicas would become ${n}, below the floor of ${l.minReplicas}`;
  return undefined;
}
