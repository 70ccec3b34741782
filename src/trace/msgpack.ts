// A small exact msgpack codec for SimKube traces.
// Why not a library: traces have array map keys and u64 values (pod_lifecycles, index), floats must stay floats
// (a float `ts` is invalid, so it must be visible), and re-encoding must be byte-identical for compact input.
// Maps decode to `Map` (key order and non-string keys survive), integers to number (bigint past 2^53),
// floats to `MsgFloat`, bin to Uint8Array, ext to `MsgExt`.

export class MsgFloat {
  constructor(
    readonly value: number,
    readonly bits: 32 | 64 = 64,
  ) {}
  valueOf(): number {
    return this.value;
  }
}

export class MsgExt {
  constructor(
    readonly type: number,
    readonly data: Uint8Array,
  ) {}
}

export type MsgValue = null | boolean | number | bigint | string | Uint8Array | MsgFloat | MsgExt | MsgValue[] | MsgMap;
export type MsgMap = Map<MsgValue, MsgValue>;

export class MsgpackError extends Error {
  override name = 'MsgpackError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

// ignoreBOM: a string that starts with U+FEFF keeps it (by default TextDecoder drops a leading BOM).
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');
// Node's native latin1 slice is the fastest way to turn long ASCII byte runs into strings (TextDecoder elsewhere).
const latin1Slice = (
  Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }
).latin1Slice;
const MAX_DEPTH = 512;

// Short ASCII strings (map keys, names, quantities) repeat all over a trace: a direct-mapped cache turns most of them
// into a lookup instead of an allocation. The slot comes from the first and last four bytes and the length (two word
// reads, not a loop), and a hit is confirmed against a copy of the slot's bytes (typed-array reads are several times
// cheaper than charCodeAt on the cached string).
const STRING_CACHE_BITS = 12;
const STRING_CACHE_MAX_LEN = 24;
const STRING_CACHE_MASK = (1 << STRING_CACHE_BITS) - 1;
const stringCache: string[] = new Array<string>(1 << STRING_CACHE_BITS).fill('');
const stringCacheBytes = new Uint8Array((1 << STRING_CACHE_BITS) * STRING_CACHE_MAX_LEN);
const stringCacheLength = new Int32Array(1 << STRING_CACHE_BITS).fill(-1);

function shortAscii(b: Uint8Array, start: number, n: number): string | null {
  let h: number;
  if (n >= 4)
    h = Math.imul(view.getUint32(start) ^ Math.imul(view.getUint32(start + n - 4), 0x9e3779b1), 0x85ebca6b) ^ n;
  else {
    h = n;
    for (let i = 0; i < n; i++) h = (h << 8) | b[start + i]!;
    h = Math.imul(h, 0x85ebca6b);
  }
  const slot = (h >>> 20) & STRING_CACHE_MASK;
  const base = slot * STRING_CACHE_MAX_LEN;
  if (stringCacheLength[slot] === n) {
    let i = 0;
    while (i < n && stringCacheBytes[base + i] === b[start + i]) i++;
    if (i === n) return stringCache[slot]!;
  }
  for (let i = 0; i < n; i++) if (b[start + i]! > 0x7f) return null;
  // A flat string: one built with += of single characters is a rope past 12 characters, and every later charCodeAt on
  // it (the ASCII loop of the encoder) walks the rope.
  const s =
    latin1Slice !== undefined ? latin1Slice.call(b, start, start + n) : latin1.decode(b.subarray(start, start + n));
  stringCache[slot] = s;
  stringCacheLength[slot] = n;
  for (let i = 0; i < n; i++) stringCacheBytes[base + i] = b[start + i]!;
  return s;
}

// The reader's state lives in module variables rather than an object: the decoder is synchronous and not re-entrant,
// and plain variables keep every hot read a register/closure load instead of a property load through `this`.
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
let buf: Uint8Array = EMPTY;
let view: DataView = EMPTY_VIEW;
let pos = 0;
let end = 0;

function truncated(n: number): MsgpackError {
  return new MsgpackError(`truncated input: needed ${n} more byte(s), file has ${end}`, pos);
}

function u8(): number {
  if (pos >= end) throw truncated(1);
  return buf[pos++]!;
}

function u16(): number {
  if (pos + 2 > end) throw truncated(2);
  const v = (buf[pos]! << 8) | buf[pos + 1]!;
  pos += 2;
  return v;
}

function u32(): number {
  if (pos + 4 > end) throw truncated(4);
  const v = buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
  pos += 4;
  return v;
}

function bytes(n: number): Uint8Array {
  if (pos + n > end) throw truncated(n);
  const out = buf.slice(pos, pos + n);
  pos += n;
  return out;
}

function str(n: number): string {
  if (pos + n > end) throw truncated(n);
  const start = pos;
  const b = buf;
  pos += n;
  if (n <= STRING_CACHE_MAX_LEN) {
    const s = shortAscii(b, start, n);
    if (s !== null) return s;
    return utf8(start, n);
  }
  // ASCII dominates traces: decode it without TextDecoder (which is only needed, and strict, for the rest).
  // Four bytes per step: one high bit anywhere means non-ASCII.
  let high = 0;
  let i = start;
  for (const e4 = start + n - 3; i < e4; i += 4) high |= view.getUint32(i);
  for (const e = start + n; i < e; i++) high |= b[i]!;
  if ((high & 0x80808080) !== 0) return utf8(start, n);
  return latin1Slice !== undefined
    ? latin1Slice.call(b, start, start + n)
    : latin1.decode(b.subarray(start, start + n));
}

function utf8(start: number, n: number): string {
  try {
    return textDecoder.decode(buf.subarray(start, start + n));
  } catch {
    throw new MsgpackError('string is not valid UTF-8', start);
  }
}

function intFrom64(hi: number, lo: number, signed: boolean): number | bigint {
  const big = signed ? BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)) : (BigInt(hi) << 32n) | BigInt(lo);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function readValue(depth: number): MsgValue {
  if (pos >= end) throw truncated(1);
  const b = buf[pos++]!;
  if (b <= 0x7f) return b;
  if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
  if (b <= 0x8f) return readMap(b & 0x0f, depth);
  if (b <= 0x9f) return readArray(b & 0x0f, depth);
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return bytes(u8());
    case 0xc5:
      return bytes(u16());
    case 0xc6:
      return bytes(u32());
    case 0xc7:
      return readExt(u8());
    case 0xc8:
      return readExt(u16());
    case 0xc9:
      return readExt(u32());
    case 0xca: {
      if (pos + 4 > end) throw truncated(4);
      const v = view.getFloat32(pos);
      pos += 4;
      return new MsgFloat(v, 32);
    }
    case 0xcb: {
      if (pos + 8 > end) throw truncated(8);
      const v = view.getFloat64(pos);
      pos += 8;
      return new MsgFloat(v, 64);
    }
    case 0xcc:
      return u8();
    case 0xcd:
      return u16();
    case 0xce:
      return u32();
    case 0xcf: {
      const hi = u32();
      return intFrom64(hi, u32(), false);
    }
    case 0xd0: {
      const v = u8();
      return v > 0x7f ? v - 0x100 : v;
    }
    case 0xd1: {
      const v = u16();
      return v > 0x7fff ? v - 0x10000 : v;
    }
    case 0xd2:
      return u32() | 0;
    case 0xd3: {
      const hi = u32();
      return intFrom64(hi, u32(), true);
    }
    case 0xd4:
      return readExt(1);
    case 0xd5:
      return readExt(2);
    case 0xd6:
      return readExt(4);
    case 0xd7:
      return readExt(8);
    case 0xd8:
      return readExt(16);
    case 0xd9:
      return str(u8());
    case 0xda:
      return str(u16());
    case 0xdb:
      return str(u32());
    case 0xdc:
      return readArray(u16(), depth);
    case 0xdd:
      return readArray(u32(), depth);
    case 0xde:
      return readMap(u16(), depth);
    case 0xdf:
      return readMap(u32(), depth);
    default:
      throw new MsgpackError(`0x${b.toString(16)} is not a msgpack type byte`, pos - 1);
  }
}

function readExt(len: number): MsgExt {
  const type = u8();
  return new MsgExt(type > 0x7f ? type - 0x100 : type, bytes(len));
}

function readArray(n: number, depth: number): MsgValue[] {
  if (n > 0 && depth >= MAX_DEPTH) throw new MsgpackError(`nesting deeper than ${MAX_DEPTH}`, pos);
  // Every element takes at least one byte: reject absurd lengths before allocating.
  if (pos + n > end) throw truncated(n);
  const out = new Array<MsgValue>(n);
  for (let i = 0; i < n; i++) out[i] = readValue(depth + 1);
  return out;
}

function readMap(n: number, depth: number): MsgMap {
  if (n > 0 && depth >= MAX_DEPTH) throw new MsgpackError(`nesting deeper than ${MAX_DEPTH}`, pos);
  if (pos + n * 2 > end) throw truncated(n * 2);
  const out: MsgMap = new Map();
  for (let i = 0; i < n; i++) {
    const at = pos;
    const k = readValue(depth + 1);
    out.set(k, readValue(depth + 1));
    // Only primitive keys can repeat (array/map keys are fresh objects); a repeated u64 key would otherwise be dropped silently.
    if (out.size !== i + 1)
      throw new MsgpackError(`duplicate map key ${typeof k === 'bigint' ? k.toString() : JSON.stringify(k)}`, at);
  }
  return out;
}

/** Decode exactly one msgpack value that spans the whole buffer. */
export function decodeMsgpack(input: Uint8Array): MsgValue {
  if (input.length === 0) throw new MsgpackError('empty input', 0);
  // A plain Uint8Array over the same memory: a Node Buffer's methods are several times slower.
  buf = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  pos = 0;
  end = input.length;
  try {
    const v = readValue(0);
    if (pos !== end) throw new MsgpackError(`${end - pos} trailing byte(s) after the msgpack value`, pos);
    return v;
  } finally {
    // Do not keep the caller's buffer alive.
    buf = EMPTY;
    view = EMPTY_VIEW;
  }
}

// One scratch buffer for every encode (grown as needed, never shrunk); the result is a copy of the written part.
let scratch = new Uint8Array(1 << 16);

class Writer {
  buf = scratch;
  view = new DataView(this.buf.buffer);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    scratch = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  head(tag: number, v: number, width: 1 | 2 | 4 | 8): void {
    this.ensure(1 + width);
    this.buf[this.pos++] = tag;
    const b = this.buf;
    const p = this.pos;
    if (width === 1) b[p] = v;
    else if (width === 2) {
      b[p] = v >>> 8;
      b[p + 1] = v;
    } else if (width === 4) {
      b[p] = v >>> 24;
      b[p + 1] = v >>> 16;
      b[p + 2] = v >>> 8;
      b[p + 3] = v;
    }
    this.pos = p + width;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function writeInt(w: Writer, v: number | bigint): void {
  if (typeof v === 'number') {
    if (v >= 0) {
      if (v < 0x80) return w.u8(v);
      if (v < 0x100) return w.head(0xcc, v, 1);
      if (v < 0x10000) return w.head(0xcd, v, 2);
      if (v < 0x100000000) return w.head(0xce, v, 4);
    } else {
      if (v >= -32) return w.u8(v & 0xff);
      if (v >= -0x80) return w.head(0xd0, v & 0xff, 1);
      if (v >= -0x8000) return w.head(0xd1, v & 0xffff, 2);
      if (v >= -0x80000000) return w.head(0xd2, v >>> 0, 4);
    }
    v = BigInt(v);
  }
  if (v >= 0n && v < 0x100000000n) return writeInt(w, Number(v));
  if (v < 0n && v >= -0x80000000n) return writeInt(w, Number(v));
  if (v > 0xffffffffffffffffn || v < -0x8000000000000000n) throw new RangeError(`integer ${v} does not fit in 64 bits`);
  w.ensure(9);
  w.buf[w.pos++] = v >= 0n ? 0xcf : 0xd3;
  w.view.setBigUint64(w.pos, BigInt.asUintN(64, v));
  w.pos += 8;
}

function writeLen(
  w: Writer,
  n: number,
  fix: number,
  fixMax: number,
  t8: number | null,
  t16: number,
  t32: number,
): void {
  if (n <= fixMax) w.u8(fix | n);
  else if (t8 !== null && n < 0x100) w.head(t8, n, 1);
  else if (n < 0x10000) w.head(t16, n, 2);
  else w.head(t32, n, 4);
}

function writeValue(w: Writer, v: MsgValue | undefined, depth: number): void {
  if (typeof v === 'string') return writeString(w, v);
  if (typeof v === 'object' && v !== null) {
    if (depth > MAX_DEPTH) throw new RangeError(`nesting deeper than ${MAX_DEPTH}`);
    if (v instanceof Map) {
      writeLen(w, v.size, 0x80, 15, null, 0xde, 0xdf);
      // forEach allocates nothing per entry and needs no lookup (entries() makes a pair each, keys() + get() hashes).
      const d = depth + 1;
      v.forEach((value, key) => {
        writeValue(w, key, d);
        writeValue(w, value, d);
      });
      return;
    }
    if (Array.isArray(v)) {
      const n = v.length;
      writeLen(w, n, 0x90, 15, null, 0xdc, 0xdd);
      for (let i = 0; i < n; i++) writeValue(w, v[i], depth + 1);
      return;
    }
    if (v instanceof MsgFloat) return writeFloat(w, v.value, v.bits);
    if (v instanceof Uint8Array) {
      if (v.length < 0x100) w.head(0xc4, v.length, 1);
      else if (v.length < 0x10000) w.head(0xc5, v.length, 2);
      else w.head(0xc6, v.length, 4);
      return w.raw(v);
    }
    if (v instanceof MsgExt) return writeExt(w, v);
    throw new TypeError(`cannot encode ${Object.prototype.toString.call(v)} as msgpack`);
  }
  if (v === null || v === undefined) return w.u8(0xc0);
  switch (typeof v) {
    case 'boolean':
      return w.u8(v ? 0xc3 : 0xc2);
    case 'number':
      if (Number.isInteger(v) && !Object.is(v, -0)) return writeInt(w, v);
      return writeFloat(w, v, 64);
    case 'bigint':
      return writeInt(w, v);
  }
  throw new TypeError(`cannot encode ${Object.prototype.toString.call(v)} as msgpack`);
}

// Node's native UTF-8 writer (same bytes as TextEncoder, lone surrogates included): for long strings one call beats a
// charCodeAt loop.
const utf8Write = (
  Buffer.prototype as unknown as { utf8Write?: (this: Uint8Array, s: string, offset: number) => number }
).utf8Write;

function writeString(w: Writer, s: string): void {
  const n = s.length;
  if (n >= 32 && utf8Write !== undefined) {
    // At most 3 bytes per UTF-16 unit: leave room for the widest header that length could need, write the bytes,
    // then move them down if the real length needs a narrower header (strings are ≥ 32 bytes here: never fixstr).
    const max = 3 * n;
    const room = max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    w.ensure(room + max);
    const buf = w.buf;
    const head = w.pos;
    const len = utf8Write.call(buf, s, head + room);
    const width = len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
    if (width !== room) buf.copyWithin(head + width, head + room, head + room + len);
    if (width === 2) {
      buf[head] = 0xd9;
      buf[head + 1] = len;
    } else if (width === 3) {
      buf[head] = 0xda;
      buf[head + 1] = len >>> 8;
      buf[head + 2] = len;
    } else {
      buf[head] = 0xdb;
      buf[head + 1] = len >>> 24;
      buf[head + 2] = len >>> 16;
      buf[head + 3] = len >>> 8;
      buf[head + 4] = len;
    }
    w.pos = head + width + len;
    return;
  }
  // Short strings: ASCII (nearly every string in a trace) goes straight into the buffer behind a fixstr header that is
  // patched if the string was not ASCII after all; anything else through TextEncoder.
  w.ensure(n + 2);
  const buf = w.buf;
  const head = w.pos;
  let p = head + 1;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    buf[p++] = c;
  }
  if (i === n) {
    buf[head] = 0xa0 | n;
    w.pos = p;
    return;
  }
  const bytes = textEncoder.encode(s);
  writeLen(w, bytes.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
  w.raw(bytes);
}

function writeFloat(w: Writer, value: number, bits: 32 | 64): void {
  w.ensure(9);
  if (bits === 32) {
    w.buf[w.pos++] = 0xca;
    w.view.setFloat32(w.pos, value);
    w.pos += 4;
  } else {
    w.buf[w.pos++] = 0xcb;
    w.view.setFloat64(w.pos, value);
    w.pos += 8;
  }
}

function writeExt(w: Writer, e: MsgExt): void {
  const n = e.data.length;
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const tag = fixed[n];
  if (tag !== undefined) w.u8(tag);
  else if (n < 0x100) w.head(0xc7, n, 1);
  else if (n < 0x10000) w.head(0xc8, n, 2);
  else w.head(0xc9, n, 4);
  w.u8(e.type & 0xff);
  w.raw(e.data);
}

/** Encode with the most compact markers (what rmp_serde and msgpack-python write). */
export function encodeMsgpack(v: MsgValue): Uint8Array {
  const w = new Writer();
  writeValue(w, v, 0);
  return w.buf.slice(0, w.pos);
}
