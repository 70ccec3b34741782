// Resource vectors (milli-units) for the effective-request formula (`resource.PodRequests`).

export interface ResVec {
  cpu: bigint;
  mem: bigint;
  eph: bigint;
  other: Map<string, bigint> | null;
  hasCpu: boolean;
  hasMem: boolean;
}

export function emptyVec(): ResVec {
  return { cpu: 0n, mem: 0n, eph: 0n, other: null, hasCpu: false, hasMem: false };
}

export function setRes(v: ResVec, name: string, m: bigint): void {
  switch (name) {
    case 'cpu':
      v.cpu = m;
      v.hasCpu = true;
      return;
    case 'memory':
      v.mem = m;
      v.hasMem = true;
      return;
    case 'ephemeral-storage':
      v.eph = m;
      return;
    case 'pods':
      return;
    default:
      (v.other ??= new Map()).set(name, m);
  }
}

export function addInto(t: ResVec, s: ResVec): void {
  t.cpu += s.cpu;
  t.mem += s.mem;
  t.eph += s.eph;
  if (s.other) {
    const o = (t.other ??= new Map());
    for (const [k, x] of s.other) o.set(k, (o.get(k) ?? 0n) + x);
  }
}

function maxInto(t: ResVec, s: ResVec): void {
  if (s.cpu > t.cpu) t.cpu = s.cpu;
  if (s.mem > t.mem) t.mem = s.mem;
  if (s.eph > t.eph) t.eph = s.eph;
  if (s.other) {
    const o = (t.other ??= new Map());
    for (const [k, x] of s.other) if (x > (o.get(k) ?? 0n)) o.set(k, x);
  }
}

function cloneVec(v: ResVec): ResVec {
  return {
    cpu: v.cpu,
    mem: v.mem,
    eph: v.eph,
    other: v.other ? new Map(v.other) : null,
    hasCpu: v.hasCpu,
    hasMem: v.hasMem,
  };
}

/** Effective request per `resource.PodRequests`: sum of containers and sidecars vs the peak init phase, element-wise. */
export function aggregate(containers: ResVec[], inits: ResVec[], sidecar: boolean[]): ResVec {
  const sum = emptyVec();
  for (const c of containers) addInto(sum, c);
  if (inits.length === 0) return sum;
  const sidecars = emptyVec();
  const initMax = emptyVec();
  for (let i = 0; i < inits.length; i++) {
    const ic = inits[i]!;
    if (sidecar[i]) {
      addInto(sum, ic);
      addInto(sidecars, ic);
      maxInto(initMax, sidecars);
    } else {
      const use = cloneVec(ic);
      addInto(use, sidecars);
      maxInto(initMax, use);
    }
  }
  maxInto(sum, initMax);
  return sum;
}
