// Quantities: milli-units after API defaulting (every ResourceList value is rounded up to milli scale), cached per string.
import type { MsgValue } from '../../trace/msgpack.js';
import { MsgFloat } from '../../trace/msgpack.js';
import { parseQuantity, QuantityError } from '../../trace/quantity.js';
import { TraceError } from '../../trace/trace.js';

const MILLI_CACHE = new Map<string, bigint>();
const MILLI_CACHE_MAX = 50_000;
const NANOS_PER_MILLI = 1_000_000n;

/** A quantity as exact milli-units (ceil(q * 1000)); throws TraceError naming `field` when it is not a quantity. */
export function milliUnits(v: MsgValue | undefined, field: () => string): bigint {
  if (typeof v === 'string') {
    const hit = MILLI_CACHE.get(v);
    if (hit !== undefined) return hit;
    const m = parseMilli(v, field);
    if (MILLI_CACHE.size >= MILLI_CACHE_MAX) MILLI_CACHE.clear();
    MILLI_CACHE.set(v, m);
    return m;
  }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      if (v < 0) throw new TraceError(field(), `must not be negative, found ${v}`);
      return BigInt(v) * 1000n;
    }
    return parseMilli(String(v), field);
  }
  if (typeof v === 'bigint') {
    if (v < 0n) throw new TraceError(field(), `must not be negative, found ${v}`);
    return v * 1000n;
  }
  if (v instanceof MsgFloat) return parseMilli(String(v.value), field);
  throw new TraceError(
    field(),
    `must be a quantity string such as "500m" or "1Gi", found ${v === null ? 'nil' : typeof v}`,
  );
}

function parseMilli(s: string, field: () => string): bigint {
  let nanos: bigint;
  try {
    nanos = parseQuantity(s).nanos;
  } catch (e) {
    if (e instanceof QuantityError) throw new TraceError(field(), e.message);
    throw e;
  }
  if (nanos < 0n) throw new TraceError(field(), `must not be negative, found "${s}"`);
  const q = nanos / NANOS_PER_MILLI;
  return q * NANOS_PER_MILLI === nanos ? q : q + 1n;
}

/** Milli-units -> the scheduler's integer value (`Quantity.Value()`, rounded up). */
export function unitsOf(milli: bigint): number {
  return Number((milli + 999n) / 1000n);
}

/** Node allocatable must stay exact in float64 integers; reject absurd sizes instead of rounding silently. */
export function exactNumber(n: number, field: () => string): number {
  if (!Number.isSafeInteger(n))
    throw new TraceError(field(), `${n} is too large for the embedded simulator (the limit is 2^53-1 units)`);
  return n;
}
