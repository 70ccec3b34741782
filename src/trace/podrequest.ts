// A pod's effective request, as kube-scheduler's NodeResourcesFit computes it, and how to move it.
//   effective = max(sum(app containers) + sum(restartable sidecars),
//                   max over plain init containers i of (init_i + sidecars started before i)) + overhead
// (or the pod-level request + overhead when spec.resources sets one). A missing request defaults to its limit.
import type { MsgMap, MsgValue } from './msgpack.js';
import { getArray, getIn, getMap, isMap, setIn } from './model.js';
import { formatQuantity, parseQuantity, type Quantity, type QuantityFormat } from './quantity.js';

export type ResourceName = 'cpu' | 'memory';

/** Exact units the API server keeps: millicores for CPU, whole bytes for memory (in nano-units). */
export const RESOLUTION: Record<ResourceName, bigint> = { cpu: 1_000_000n, memory: 1_000_000_000n };

interface Part {
  container: MsgMap;
  nanos: bigint;
  format: QuantityFormat;
}

interface PodParts {
  app: Part[];
  /** Init containers in order; `sidecar` when restartPolicy is Always. */
  init: Array<Part & { sidecar: boolean }>;
  overhead: bigint;
  podLevel?: Quantity;
}

function quantityOf(v: MsgValue | undefined): Quantity | undefined {
  if (typeof v === 'string' || typeof v === 'number') return parseQuantity(v);
  if (typeof v === 'bigint') return parseQuantity(v.toString());
  return undefined;
}

/** A container's request for `r`, defaulted from its limit as the API server does; 0 when neither is set. */
export function containerRequest(c: MsgMap, r: ResourceName): Quantity {
  return (
    quantityOf(getIn(c, ['resources', 'requests', r])) ??
    quantityOf(getIn(c, ['resources', 'limits', r])) ?? { nanos: 0n, format: r === 'cpu' ? 'DecimalSI' : 'BinarySI' }
  );
}

function parts(spec: MsgMap, r: ResourceName): PodParts {
  const part = (c: MsgValue): Part => {
    const q = containerRequest(c as MsgMap, r);
    return { container: c as MsgMap, nanos: q.nanos, format: q.format };
  };
  const app = (getArray(spec, ['containers']) ?? []).filter(isMap).map(part);
  const init = (getArray(spec, ['initContainers']) ?? [])
    .filter(isMap)
    .map((c) => ({ ...part(c), sidecar: getIn(c, ['restartPolicy']) === 'Always' }));
  const overhead = quantityOf(getIn(spec, ['overhead', r]))?.nanos ?? 0n;
  const podLevel =
    quantityOf(getIn(spec, ['resources', 'requests', r])) ?? quantityOf(getIn(spec, ['resources', 'limits', r]));
  return { app, init, overhead, ...(podLevel ? { podLevel } : {}) };
}

interface Terms {
  /** sum(app) + sum(sidecars) */
  steady: bigint;
  /** per plain init container: its request plus the sidecars started before it */
  inits: Array<{ index: number; term: bigint; sidecarsBefore: bigint }>;
}

function terms(p: PodParts): Terms {
  let steady = p.app.reduce((s, a) => s + a.nanos, 0n);
  let sidecars = 0n;
  const inits: Terms['inits'] = [];
  p.init.forEach((c, index) => {
    if (c.sidecar) {
      sidecars += c.nanos;
      steady += c.nanos;
    } else inits.push({ index, term: c.nanos + sidecars, sidecarsBefore: sidecars });
  });
  return { steady, inits };
}

/** The pod's effective request for `r` in nano-units. */
export function effectiveRequest(spec: MsgMap, r: ResourceName): bigint {
  const p = parts(spec, r);
  if (p.podLevel) return p.podLevel.nanos + p.overhead;
  const t = terms(p);
  let max = t.steady;
  for (const i of t.inits) if (i.term > max) max = i.term;
  return max + p.overhead;
}

function roundUp(nanos: bigint, unit: bigint): bigint {
  const rem = nanos % unit;
  return rem === 0n ? nanos : nanos - rem + (nanos > 0n ? unit : 0n);
}

/**
 * The limit that goes with a request moved from `oldRequest` to `newRequest` (nano-units): the limit/request ratio is
 * kept (rounded up to the resource's resolution), never below the new request (the API server rejects a request
 * above its limit). A request of 0 has no ratio: the limit then only rises to the request. No limit stays none.
 */
export function scaledLimit(limit: bigint, oldRequest: bigint, newRequest: bigint, r: ResourceName): bigint {
  const scaled = oldRequest > 0n ? roundUp((limit * newRequest + oldRequest - 1n) / oldRequest, RESOLUTION[r]) : limit;
  return scaled < newRequest ? newRequest : scaled;
}

function moveLimit(res: MsgMap, r: ResourceName, oldRequest: bigint, newRequest: bigint): void {
  const limit = quantityOf(getIn(res, ['limits', r]));
  if (!limit) return;
  const next = scaledLimit(limit.nanos, oldRequest, newRequest, r);
  if (next !== limit.nanos) setIn(res, ['limits', r], formatQuantity({ nanos: next, format: limit.format }));
}

/**
 * Write a container's request, rounded up the way the API server stores it, keeping its format; its limit moves
 * with it (`scaledLimit`).
 */
export function writeContainerRequest(c: MsgMap, r: ResourceName, nanos: bigint, fallback: QuantityFormat): void {
  const cur = quantityOf(getIn(c, ['resources', 'requests', r]));
  const old = containerRequest(c, r).nanos;
  const format = cur && cur.nanos !== 0n ? cur.format : fallback;
  const q: Quantity = { nanos: roundUp(nanos < 0n ? 0n : nanos, RESOLUTION[r]), format };
  setIn(c, ['resources', 'requests', r], formatQuantity(q));
  moveLimit(getMap(c, ['resources'])!, r, old, q.nanos);
}

/**
 * Change the containers so the effective request becomes `target` (nano-units, overhead included), as closely as
 * the exact resolution allows. Raising adds to the first app container; lowering trims every init container above
 * the target, then the app containers (largest first), then the sidecars. Nothing goes below zero.
 */
export function setEffectiveRequest(spec: MsgMap, r: ResourceName, target: bigint, fallback: QuantityFormat): void {
  const p = parts(spec, r);
  const base = target - p.overhead < 0n ? 0n : target - p.overhead;
  if (p.podLevel) {
    // Pod-level requests bound the pod; containers must still fit under them.
    const podRes = getMap(spec, ['resources'])!;
    const q: Quantity = { nanos: roundUp(base, RESOLUTION[r]), format: p.podLevel.format };
    setIn(podRes, ['requests', r], formatQuantity(q));
    moveLimit(podRes, r, p.podLevel.nanos, q.nanos);
    const t = terms(p);
    if (t.steady > q.nanos) trimSteady(p, r, t.steady - q.nanos, fallback);
    return;
  }
  const t = terms(p);
  const current = t.inits.reduce((m, i) => (i.term > m ? i.term : m), t.steady);
  if (base > current) {
    const first = p.app[0] ?? p.init.find((c) => c.sidecar);
    if (!first) return;
    writeContainerRequest(first.container, r, first.nanos + (base - t.steady), fallback);
    return;
  }
  for (const i of t.inits) {
    if (i.term <= base) continue;
    const c = p.init[i.index]!;
    writeContainerRequest(c.container, r, c.nanos - (i.term - base), fallback);
  }
  if (t.steady > base) trimSteady(p, r, t.steady - base, fallback);
}

function trimSteady(p: PodParts, r: ResourceName, excess: bigint, fallback: QuantityFormat): void {
  const order = [...p.app].sort((a, b) => (a.nanos === b.nanos ? 0 : a.nanos > b.nanos ? -1 : 1));
  for (const c of [...order, ...p.init.filter((c) => c.sidecar)]) {
    if (excess <= 0n) return;
    const cut = c.nanos < excess ? c.nanos : excess;
    if (cut === 0n) continue;
    writeContainerRequest(c.container, r, c.nanos - cut, fallback);
    excess -= cut;
  }
}
