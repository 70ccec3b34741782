// Helpers over the decoded Map tree. Paths are lists of string keys (maps) and numeric indexes (arrays).
import { MsgFloat, MsgExt, type MsgMap, type MsgValue } from './msgpack.js';

export type PathKey = string | number;

export function isMap(v: unknown): v is MsgMap {
  return v instanceof Map;
}

export function getIn(v: MsgValue | undefined, path: readonly PathKey[]): MsgValue | undefined {
  let cur: MsgValue | undefined = v;
  for (const k of path) {
    if (cur instanceof Map) cur = cur.get(k);
    else if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else return undefined;
  }
  return cur;
}

export function getMap(v: MsgValue | undefined, path: readonly PathKey[]): MsgMap | undefined {
  const x = getIn(v, path);
  return x instanceof Map ? x : undefined;
}

export function getArray(v: MsgValue | undefined, path: readonly PathKey[]): MsgValue[] | undefined {
  const x = getIn(v, path);
  return Array.isArray(x) ? x : undefined;
}

export function getString(v: MsgValue | undefined, path: readonly PathKey[]): string | undefined {
  const x = getIn(v, path);
  return typeof x === 'string' ? x : undefined;
}

/** Set a value, creating intermediate maps (appended at the end, so existing key order is kept). */
export function setIn(root: MsgMap, path: readonly PathKey[], value: MsgValue): void {
  let cur: MsgValue = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    let next: MsgValue | undefined =
      cur instanceof Map ? cur.get(k) : Array.isArray(cur) && typeof k === 'number' ? cur[k] : undefined;
    if (next === undefined || next === null) {
      next = new Map();
      if (cur instanceof Map) cur.set(k, next);
      else if (Array.isArray(cur) && typeof k === 'number') cur[k] = next;
      else throw new TypeError(`cannot descend into ${path.slice(0, i + 1).join('.')}`);
    }
    cur = next;
  }
  const last = path[path.length - 1]!;
  if (cur instanceof Map) cur.set(last, value);
  else if (Array.isArray(cur) && typeof last === 'number') cur[last] = value;
  else throw new TypeError(`cannot set ${path.join('.')}`);
}

/** Integer value of a decoded number (floats are not integers here). */
export function asInteger(v: MsgValue | undefined): number | bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return v;
  return undefined;
}

/** A JSON-friendly view: string-keyed maps become objects, other maps become [key, value] pair lists. */
export function toPlain(v: MsgValue | undefined): unknown {
  if (v === undefined || v === null || typeof v === 'string' || typeof v === 'boolean') return v ?? null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof MsgFloat) return v.value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof MsgExt) return { ext: v.type, data: Buffer.from(v.data).toString('base64') };
  if (Array.isArray(v)) return v.map(toPlain);
  let allStrings = true;
  for (const k of v.keys()) if (typeof k !== 'string') allStrings = false;
  if (allStrings) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[k as string] = toPlain(x);
    return o;
  }
  return [...v].map(([k, x]) => [toPlain(k), toPlain(x)]);
}

/** Build a Map tree from plain JSON-like data (objects become maps in key order). */
export function fromPlain(v: unknown): MsgValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new MsgFloat(v);
  if (v instanceof Map || v instanceof MsgFloat || v instanceof Uint8Array || v instanceof MsgExt) return v as MsgValue;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const m: MsgMap = new Map();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, fromPlain(x));
    return m;
  }
  throw new TypeError(`cannot convert ${typeof v} into a trace value`);
}

/** Deep copy (array keys are copied too, so the copy shares nothing mutable). */
export function cloneValue<T extends MsgValue>(v: T): T {
  return cloneAny(v) as T;
}

function cloneAny(v: MsgValue): MsgValue {
  if (Array.isArray(v)) return v.map(cloneAny);
  if (v instanceof Map) {
    const m: MsgMap = new Map();
    for (const [k, x] of v as MsgMap) m.set(Array.isArray(k) || k instanceof Map ? cloneAny(k) : k, cloneAny(x));
    return m;
  }
  return v;
}

export function describeType(v: MsgValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'nil';
  if (v instanceof MsgFloat) return 'a float';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof MsgExt) return 'an ext value';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'a map';
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a float';
  return `a ${typeof v}`;
}
