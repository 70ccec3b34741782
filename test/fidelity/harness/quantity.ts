// What the API server stores for a resource quantity written as a string (a model of k8s.io/apimachinery's
// ParseQuantity + MarshalJSON and core/v1's SetDefaults_ResourceList, v1.33; checked against the real server by
// test/fidelity/quantities.test.ts).
//
// The server does not always re-emit the canonical form. ParseQuantity keeps the caller's string when a cheap test
// says it "looks canonical", and MarshalJSON then writes that string back verbatim:
//   - decimal suffixes and exponents: ≤ 18 significant digits, the exponent after moving the decimal point is a
//     multiple of 3, the digits (leading zeros dropped) do not start with 0 and do not end in "000";
//   - binary suffixes: an integer mantissa of few enough digits whose lowest 3 bits are not all zero.
// So "+2", "1.", "100.035k", "1E3", "1e0" and "000100m" are stored as written, while "1.5" becomes "1500m",
// "1024Mi" becomes "1Gi" and "1048577000" (plain bytes ending in 000) becomes "1048577k".
// SetDefaults_ResourceList then rounds every request and limit up to milli-units, dropping the kept string when the
// parsed scale was finer than milli ("1500u" → "2m", "1000000u" → "1").
import { formatQuantity, parseQuantity } from '../../../src/trace/quantity.js';

const BINARY_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const MAX_INT64 = (1n << 63n) - 1n;

/** The scale ParseQuantity keeps the input string at, or null when it re-emits the value canonically. */
export function keptByParse(str: string): number | null {
  if (str === '0') return 0;
  let pos = 0;
  if (str[0] === '-' || str[0] === '+') pos++;
  while (pos < str.length && str[pos] === '0') pos++;
  let num: string;
  let denom = '';
  let suffix = '';
  if (pos >= str.length) num = '0';
  else {
    const start = pos;
    while (pos < str.length && str[pos]! >= '0' && str[pos]! <= '9') pos++;
    num = str.slice(start, pos) || '0';
    if (str[pos] === '.') {
      const d = ++pos;
      while (pos < str.length && str[pos]! >= '0' && str[pos]! <= '9') pos++;
      denom = str.slice(d, pos);
    }
    suffix = str.slice(pos);
  }
  let binary = false;
  let exponent: number;
  if (Object.hasOwn(BINARY_EXP, suffix)) {
    binary = true;
    exponent = BINARY_EXP[suffix]!;
  } else if (Object.hasOwn(DECIMAL_EXP, suffix)) exponent = DECIMAL_EXP[suffix]!;
  else if (/^[eE][+-]?\d+$/.test(suffix)) exponent = Number(suffix.slice(1));
  else return null; // not a quantity (the caller's parseQuantity throws first)

  let scale: number;
  let precision: number;
  if (!binary) {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  } else {
    scale = 0;
    precision = exponent >= 0 && denom.length === 0 ? 15 - num.length - Math.trunc((exponent * 3) / 10) - 1 : -1;
  }
  if (precision < 0) return null;
  scale -= denom.length;
  if (scale < -9) return null;
  const shifted = num + denom;
  const value = BigInt(shifted);
  if (value * (binary ? 1n << BigInt(exponent) : 1n) > MAX_INT64) return null;
  const kept = binary
    ? exponent % 10 === 0 && (value & 7n) !== 0n
    : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
  return kept ? scale : null;
}

/** The string the API server stores for a container request or limit written as `input`. Throws on invalid input. */
export function apiServerStoredForm(input: string): string {
  const q = parseQuantity(input);
  const scale = keptByParse(input);
  // RoundUp(-3) keeps the string when the parsed scale is milli or coarser.
  if (scale !== null && scale >= -3) return input;
  const r = q.nanos % 1_000_000n;
  return formatQuantity(r === 0n ? q : { nanos: q.nanos - r + (q.nanos > 0n ? 1_000_000n : 0n), format: q.format });
}
