// Kubernetes resource quantities, exactly as k8s.io/apimachinery/pkg/api/resource parses and prints them.
// Values are held as BigInt nano-units (10^-9), rounded up at parse like upstream, so no float ever drifts.
import { BoundedMap } from '../util/bounded-map.js';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export class QuantityError extends Error {
  override name = 'QuantityError';
}

export interface Quantity {
  /** Exact value in units of 10^-9. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_DESC = Object.entries(BINARY).reverse();
const DECIMAL_BY_EXP = new Map(Object.entries(DECIMAL).map(([s, e]) => [e, s]));

const GRAMMAR = /^([+-]?)(\d+\.?\d*|\.\d+)(.*)$/;

function pow10(e: number): bigint {
  return 10n ** BigInt(e);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a ? q : a > 0n ? q + 1n : q;
}

// Episodes parse the same few strings over and over; results are immutable, so a bounded cache is safe.
const PARSE_CACHE_LIMIT = 4096;
const parsed = new BoundedMap<string, Quantity>({ maxEntries: PARSE_CACHE_LIMIT });

/** Parse a quantity string (or a JSON number) the way `resource.ParseQuantity` does. */
export function parseQuantity(input: string | number): Quantity {
  if (typeof input === 'string') {
    const hit = parsed.get(input);
    if (hit) return hit;
    const q = Object.freeze(parseUncached(input));
    parsed.set(input, q);
    return q;
  }
  return parseUncached(input);
}

function parseUncached(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberText(input) : input;
  if (typeof text !== 'string' || text.length === 0) throw new QuantityError('quantity is empty');
  const m = GRAMMAR.exec(text);
  if (!m) throw new QuantityError(`"${text}" is not a Kubernetes quantity (expected e.g. 500m, 2, 1.5Gi, 1e3)`);
  const [, sign, num, suffix] = m as unknown as [string, string, string, string];

  let format: QuantityFormat;
  let multiplier: bigint; // numerator applied to the mantissa
  let divisor = 1n;
  // Object.hasOwn, not `in`: "1constructor" must be an unknown suffix, not Object.prototype.constructor.
  if (Object.hasOwn(BINARY, suffix)) {
    format = 'BinarySI';
    multiplier = BINARY[suffix]!;
  } else if (Object.hasOwn(DECIMAL, suffix)) {
    format = 'DecimalSI';
    const e = DECIMAL[suffix]!;
    if (e >= 0) multiplier = pow10(e);
    else {
      multiplier = 1n;
      divisor = pow10(-e);
    }
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    const e = Number(suffix.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > 40) throw new QuantityError(`"${text}": exponent out of range`);
    if (e >= 0) multiplier = pow10(e);
    else {
      multiplier = 1n;
      divisor = pow10(-e);
    }
  } else {
    throw new QuantityError(
      `"${text}" has an unknown suffix "${suffix}" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent such as e3; suffixes are case-sensitive)`,
    );
  }

  const [intPart, fracPart = ''] = num.split('.') as [string, string?];
  const mantissa = BigInt((intPart || '0') + fracPart);
  const fracScale = pow10(fracPart.length);
  // value = mantissa / fracScale * multiplier / divisor, in nanos rounded up (away from zero for positives).
  let nanos = ceilDiv(mantissa * multiplier * NANO, fracScale * divisor);
  // Upstream caps BinarySI magnitudes at 2^63-1 ("9Ei" parses as 9223372036854775807) and keeps decimal ones
  // ("12E" is valid); a BinarySI value strictly between 0 and 1 becomes DecimalSI (".000000000001Ki" -> "2n").
  if (format === 'BinarySI' && nanos > MAX_INT64 * NANO) nanos = MAX_INT64 * NANO;
  if (format === 'BinarySI' && nanos > 0n && nanos < NANO) format = 'DecimalSI';
  if (sign === '-') nanos = -nanos;
  return { nanos, format };
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(`${n} is not a quantity`);
  return String(n);
}

/** True when `s` parses as a quantity. */
export function isQuantity(s: unknown): boolean {
  if (typeof s !== 'string' && typeof s !== 'number') return false;
  try {
    parseQuantity(s);
    return true;
  } catch {
    return false;
  }
}

/** The canonical string form apimachinery would emit (`Quantity.String()`). */
export function formatQuantity(q: Quantity): string {
  const { nanos } = q;
  if (nanos === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const whole = nanos % NANO === 0n;
    const v = nanos / NANO;
    if (!whole || (v > -1024n && v < 1024n)) format = 'DecimalSI';
    else {
      for (const [suffix, base] of BINARY_DESC) {
        if (v % base === 0n) return `${v / base}${suffix}`;
      }
      // No binary suffix divides it: apimachinery then prints it in decimal (1048577000 -> "1048577k").
      format = 'DecimalSI';
    }
  }
  // Largest multiple-of-3 exponent that keeps the value integral.
  let exp = -9;
  let mantissa = nanos;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  return `${mantissa}${DECIMAL_BY_EXP.get(exp)}`;
}

const canonical = new BoundedMap<string, string>({ maxEntries: PARSE_CACHE_LIMIT });

/** Re-emit a quantity string canonically (e.g. "1.5" -> "1500m", "1024Mi" -> "1Gi"). */
export function canonicalQuantity(input: string | number): string {
  if (typeof input !== 'string') return formatQuantity(parseQuantity(input));
  let out = canonical.get(input);
  if (out === undefined) {
    out = formatQuantity(parseQuantity(input));
    canonical.set(input, out);
  }
  return out;
}

/** `Quantity.MilliValue()`: ceil(q * 1000). */
export function milliValue(q: Quantity): bigint {
  return ceilDiv(q.nanos, 1_000_000n);
}

/** `Quantity.Value()`: ceil(q). */
export function intValue(q: Quantity): bigint {
  return ceilDiv(q.nanos, NANO);
}

/** a + b; the result keeps a's format unless a is zero (upstream `Add`). */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function compareQuantity(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** CPU in millicores -> canonical DecimalSI string ("500m", "2"). */
export function cpuFromMillis(millis: bigint): string {
  return formatQuantity({ nanos: millis * 1_000_000n, format: 'DecimalSI' });
}

/** Bytes -> canonical BinarySI string ("1280Mi", "1Gi", "1025"; below 1024 it is DecimalSI, so 1000 -> "1k"). */
export function memoryFromBytes(bytes: bigint): string {
  return formatQuantity({ nanos: bytes * NANO, format: 'BinarySI' });
}

/** Parse a CPU quantity to millicores (scheduler semantics: ceil). */
export function cpuMillis(input: string | number): bigint {
  return milliValue(parseQuantity(input));
}

/** Parse a memory/storage/count quantity to integer units (scheduler semantics: ceil). */
export function quantityUnits(input: string | number): bigint {
  return intValue(parseQuantity(input));
}

/** Apply a signed step (a quantity string) to a value string and return the canonical result, keeping the value's format. */
export function shiftQuantity(value: string | number | undefined, step: string, sign: 1 | -1): Quantity {
  const base = value === undefined ? { nanos: 0n, format: parseQuantity(step).format } : parseQuantity(value);
  const delta = parseQuantity(step);
  return sign === 1 ? addQuantity(base, delta) : subQuantity(base, delta);
}
