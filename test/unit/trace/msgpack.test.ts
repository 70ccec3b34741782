// The exact msgpack codec: byte-identical round trips of real traces, most-compact encoding at every boundary
// (msgpack spec; what rmp_serde and msgpack-python write), floats kept as floats, u64 as bigint, and robust errors.
import { expect } from 'chai';
import {
  decodeMsgpack,
  encodeMsgpack,
  MsgExt,
  MsgFloat,
  MsgpackError,
  type MsgMap,
  type MsgValue,
} from '../../../src/trace/msgpack.js';
import { decodeTrace, TraceError } from '../../../src/trace/trace.js';
import { mulberry32 } from '../../../src/util/rng.js';
import { allTraceFixtures, fromHex, hex, readFixture } from './helpers.js';

function roundTrip(v: MsgValue): MsgValue {
  return decodeMsgpack(encodeMsgpack(v));
}

function expectMsgpackError(bytes: Uint8Array, message?: RegExp): MsgpackError {
  let caught: unknown;
  try {
    decodeMsgpack(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught, `decoding ${hex(bytes.subarray(0, 16))}… should fail`).to.be.instanceOf(MsgpackError);
  if (message) expect((caught as Error).message).to.match(message);
  return caught as MsgpackError;
}

describe('msgpack codec', () => {
  const fixtures = allTraceFixtures();

  it('finds the fixtures (2 SimKube traces, 13 legacy msgpack files)', () => {
    expect(fixtures.filter((f) => f.name.startsWith('simkube/'))).to.have.length(2);
    expect(fixtures.filter((f) => f.name.startsWith('legacy-sim-arena/'))).to.have.length(13);
  });

  describe('decode → encode of every fixture is byte-identical', () => {
    for (const f of allTraceFixtures()) {
      it(f.name, () => {
        const out = encodeMsgpack(decodeMsgpack(f.bytes));
        expect(out.length).to.equal(f.bytes.length);
        expect(Buffer.compare(Buffer.from(out), Buffer.from(f.bytes))).to.equal(0);
      });
    }
  });

  describe('integers use the most compact marker', () => {
    const table: Array<[number | bigint, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [4294967295, 'ceffffffff'],
      [4294967296, 'cf0000000100000000'],
      [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
      [2n ** 53n + 1n, 'cf0020000000000001'],
      [2n ** 63n, 'cf8000000000000000'],
      [2n ** 64n - 1n, 'cfffffffffffffffff'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-2147483648, 'd280000000'],
      [-2147483649, 'd3ffffffff7fffffff'],
      [Number.MIN_SAFE_INTEGER, 'd3ffe0000000000001'],
      [-(2n ** 63n), 'd38000000000000000'],
    ];
    for (const [v, bytes] of table) {
      it(`${v} → ${bytes}`, () => {
        expect(hex(encodeMsgpack(v))).to.equal(bytes);
        const back = decodeMsgpack(fromHex(bytes));
        // Safe integers decode as number, the rest as bigint.
        if (typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)))
          expect(back).to.equal(v);
        else expect(back).to.equal(Number(v));
      });
    }

    it('a bigint in the safe range encodes like the same number', () => {
      expect(hex(encodeMsgpack(5n))).to.equal('05');
      expect(hex(encodeMsgpack(-200n))).to.equal('d1ff38');
      expect(hex(encodeMsgpack(70000n))).to.equal('ce00011170');
    });

    it('integers that do not fit 64 bits are refused', () => {
      expect(() => encodeMsgpack(2n ** 64n)).to.throw(RangeError);
      expect(() => encodeMsgpack(-(2n ** 63n) - 1n)).to.throw(RangeError);
    });

    it('every int marker is accepted when reading (non-compact input)', () => {
      const cases: Array<[string, number | bigint]> = [
        ['cc05', 5],
        ['cd0005', 5],
        ['ce00000005', 5],
        ['cf0000000000000005', 5],
        ['d0fb', -5],
        ['d005', 5],
        ['d1fffb', -5],
        ['d2fffffffb', -5],
        ['d3fffffffffffffffb', -5],
        ['d37fffffffffffffff', 2n ** 63n - 1n],
      ];
      for (const [bytes, v] of cases) expect(decodeMsgpack(fromHex(bytes)), bytes).to.equal(v);
    });
  });

  describe('length boundaries for str, bin, array and map', () => {
    const strCases: Array<[number, string]> = [
      [0, 'a0'],
      [31, 'bf'],
      [32, 'd920'],
      [255, 'd9ff'],
      [256, 'da0100'],
      [65535, 'daffff'],
      [65536, 'db00010000'],
    ];
    for (const [n, head] of strCases) {
      it(`str of ${n} bytes → ${head}…`, () => {
        const s = 'x'.repeat(n);
        const out = encodeMsgpack(s);
        expect(hex(out.subarray(0, head.length / 2))).to.equal(head);
        expect(out.length).to.equal(head.length / 2 + n);
        expect(decodeMsgpack(out)).to.equal(s);
      });
    }

    it('str length counts UTF-8 bytes, not characters', () => {
      const s = 'é'.repeat(16); // 16 characters, 32 bytes
      const out = encodeMsgpack(s);
      expect(hex(out.subarray(0, 2))).to.equal('d920');
      expect(decodeMsgpack(out)).to.equal(s);
      expect(hex(encodeMsgpack('é'.repeat(15)).subarray(0, 1))).to.equal('be'); // 30 bytes: fixstr
    });

    const binCases: Array<[number, string]> = [
      [0, 'c400'],
      [255, 'c4ff'],
      [256, 'c50100'],
      [65535, 'c5ffff'],
      [65536, 'c600010000'],
    ];
    for (const [n, head] of binCases) {
      it(`bin of ${n} bytes → ${head}…`, () => {
        const b = new Uint8Array(n).map((_, i) => i & 0xff);
        const out = encodeMsgpack(b);
        expect(hex(out.subarray(0, head.length / 2))).to.equal(head);
        const back = decodeMsgpack(out);
        expect(back).to.be.instanceOf(Uint8Array);
        expect(Buffer.compare(Buffer.from(back as Uint8Array), Buffer.from(b))).to.equal(0);
      });
    }

    const arrCases: Array<[number, string]> = [
      [0, '90'],
      [15, '9f'],
      [16, 'dc0010'],
      [255, 'dc00ff'],
      [256, 'dc0100'],
      [65535, 'dcffff'],
      [65536, 'dd00010000'],
    ];
    for (const [n, head] of arrCases) {
      it(`array of ${n} → ${head}…`, () => {
        const a = new Array<MsgValue>(n).fill(1);
        const out = encodeMsgpack(a);
        expect(hex(out.subarray(0, head.length / 2))).to.equal(head);
        expect(out.length).to.equal(head.length / 2 + n);
        expect(decodeMsgpack(out)).to.deep.equal(a);
      });
    }

    const mapCases: Array<[number, string]> = [
      [0, '80'],
      [15, '8f'],
      [16, 'de0010'],
      [255, 'de00ff'],
      [256, 'de0100'],
      [65535, 'deffff'],
      [65536, 'df00010000'],
    ];
    for (const [n, head] of mapCases) {
      it(`map of ${n} → ${head}…`, () => {
        const m: MsgMap = new Map();
        for (let i = 0; i < n; i++) m.set(i, null);
        const out = encodeMsgpack(m);
        expect(hex(out.subarray(0, head.length / 2))).to.equal(head);
        const back = decodeMsgpack(out) as MsgMap;
        expect(back).to.be.instanceOf(Map);
        expect(back.size).to.equal(n);
        expect(Buffer.compare(Buffer.from(encodeMsgpack(back)), Buffer.from(out))).to.equal(0);
      });
    }
  });

  describe('other types', () => {
    it('nil, false, true', () => {
      expect(hex(encodeMsgpack(null))).to.equal('c0');
      expect(hex(encodeMsgpack(false))).to.equal('c2');
      expect(hex(encodeMsgpack(true))).to.equal('c3');
      expect(decodeMsgpack(fromHex('c0'))).to.equal(null);
      expect(decodeMsgpack(fromHex('c2'))).to.equal(false);
      expect(decodeMsgpack(fromHex('c3'))).to.equal(true);
    });

    it('float32 stays float32 and float64 stays float64', () => {
      const f32 = decodeMsgpack(fromHex('ca3fc00000'));
      expect(f32).to.be.instanceOf(MsgFloat);
      expect((f32 as MsgFloat).value).to.equal(1.5);
      expect((f32 as MsgFloat).bits).to.equal(32);
      expect(hex(encodeMsgpack(f32))).to.equal('ca3fc00000');

      const f64 = decodeMsgpack(fromHex('cb3ff8000000000000'));
      expect((f64 as MsgFloat).bits).to.equal(64);
      expect(hex(encodeMsgpack(f64))).to.equal('cb3ff8000000000000');

      // 0.1 as float32 is not 0.1: the exact float32 bits survive.
      const tenth = decodeMsgpack(fromHex('ca3dcccccd')) as MsgFloat;
      expect(tenth.value).to.equal(Math.fround(0.1));
      expect(hex(encodeMsgpack(tenth))).to.equal('ca3dcccccd');
    });

    it('an integral float is still written as a float (so a float ts stays visible)', () => {
      expect(hex(encodeMsgpack(new MsgFloat(2)))).to.equal('cb4000000000000000');
      expect(hex(encodeMsgpack(new MsgFloat(2, 32)))).to.equal('ca40000000');
      const back = roundTrip(new MsgFloat(1730390400));
      expect(back).to.be.instanceOf(MsgFloat);
    });

    it('a plain non-integer number or -0 is written as float64', () => {
      expect(hex(encodeMsgpack(0.5))).to.equal('cb3fe0000000000000');
      expect(hex(encodeMsgpack(-0))).to.equal('cb8000000000000000');
    });

    it('ext values keep type and data, with fixext for 1/2/4/8/16 bytes', () => {
      const cases: Array<[number, string]> = [
        [1, 'd4'],
        [2, 'd5'],
        [4, 'd6'],
        [8, 'd7'],
        [16, 'd8'],
      ];
      for (const [n, tag] of cases) {
        const e = new MsgExt(5, new Uint8Array(n).fill(7));
        const out = encodeMsgpack(e);
        expect(hex(out.subarray(0, 2)), `${n}`).to.equal(`${tag}05`);
        const back = decodeMsgpack(out) as MsgExt;
        expect(back.type).to.equal(5);
        expect([...back.data]).to.deep.equal([...e.data]);
      }
      expect(hex(encodeMsgpack(new MsgExt(-1, new Uint8Array(3))))).to.equal('c703ff000000');
      expect((decodeMsgpack(fromHex('c703ff000000')) as MsgExt).type).to.equal(-1);
      expect(hex(encodeMsgpack(new MsgExt(1, new Uint8Array(256))).subarray(0, 4))).to.equal('c8010001');
    });

    it('array map keys and integer map keys survive a round trip', () => {
      const inner: MsgMap = new Map([[2n ** 63n + 5n, ['Empty']]]);
      const m: MsgMap = new Map<MsgValue, MsgValue>([[['v1.Pod', 'testing/p'], inner]]);
      const back = roundTrip(m) as MsgMap;
      const [k, v] = [...back][0]!;
      expect(k).to.deep.equal(['v1.Pod', 'testing/p']);
      expect([...(v as MsgMap).keys()]).to.deep.equal([2n ** 63n + 5n]);
    });

    it('map key order is kept', () => {
      const m: MsgMap = new Map<MsgValue, MsgValue>([
        ['z', 1],
        ['a', 2],
        [3, 3],
      ]);
      expect([...(roundTrip(m) as MsgMap).keys()]).to.deep.equal(['z', 'a', 3]);
    });
  });

  describe('real traces', () => {
    it('bare-pods.sktrace: pod_lifecycles keys are [GVK, "ns/name"] arrays and pod hashes are u64 bigints', () => {
      const root = decodeMsgpack(readFixture('simkube', 'traces', 'bare-pods.sktrace')) as MsgMap;
      const lc = root.get('pod_lifecycles') as MsgMap;
      expect(lc.size).to.equal(4);
      for (const [k, byHash] of lc) {
        expect(k).to.be.an('array').with.length(2);
        expect((k as string[])[0]).to.equal('v1.Pod');
        expect((k as string[])[1]).to.match(/^testing\/bare-pod-/);
        for (const h of (byHash as MsgMap).keys())
          expect(typeof h === 'bigint' || typeof h === 'number').to.equal(true);
      }
    });

    it('trace-v2.msgpack: index hashes above 2^53 decode to the exact u64 written in the file', () => {
      const bytes = readFixture('legacy-sim-arena', 'trace-v2.msgpack');
      const root = decodeMsgpack(bytes) as MsgMap;
      const deployments = (root.get('index') as MsgMap).get('apps/v1.Deployment') as MsgMap;
      let big = 0;
      for (const [key, hash] of deployments) {
        // Find `<fixstr key> cf <8 bytes>` in the raw file and read the u64 independently.
        const keyBytes = Buffer.from(key as string);
        const needle = Buffer.concat([Buffer.from([0xa0 | keyBytes.length]), keyBytes, Buffer.from([0xcf])]);
        const at = Buffer.from(bytes).indexOf(needle);
        if (at < 0) continue; // small hashes use a shorter marker
        const raw = Buffer.from(bytes).readBigUInt64BE(at + needle.length);
        if (raw > BigInt(Number.MAX_SAFE_INTEGER)) {
          big++;
          expect(hash).to.equal(raw);
        }
      }
      expect(big).to.be.greaterThan(5);
    });
  });

  describe('bad input', () => {
    it('empty input', () => {
      expectMsgpackError(new Uint8Array(0), /empty/);
    });

    it('trailing bytes are rejected', () => {
      expectMsgpackError(fromHex('c0c0'), /trailing/);
      const f = readFixture('simkube', 'traces', 'cronjob.sktrace');
      const plus = new Uint8Array(f.length + 1);
      plus.set(f);
      const err = expectMsgpackError(plus, /1 trailing byte/);
      expect(err.offset).to.equal(f.length);
      expect(() => decodeTrace(plus)).to.throw(TraceError, /trailing/);
    });

    it('0xc1 (never used) is rejected', () => {
      expectMsgpackError(fromHex('c1'), /0xc1/);
    });

    it('invalid UTF-8 in a str is rejected', () => {
      expectMsgpackError(fromHex('a2c328'), /UTF-8/);
      expectMsgpackError(fromHex(`d920${'ff'.repeat(32)}`), /UTF-8/);
    });

    it('duplicate map keys are rejected, including u64 (bigint) keys', () => {
      expectMsgpackError(fromHex('82a16101a16102'), /duplicate map key "a"/);
      expectMsgpackError(fromHex('82010101 02'), /duplicate map key 1/);
      expectMsgpackError(
        fromHex('82cf1000000000000000 01 cf1000000000000000 02'),
        /duplicate map key 1152921504606846976/,
      );
    });

    it('absurd declared lengths fail as truncated input without allocating', () => {
      for (const h of ['ddffffffff', 'dfffffffff', 'dbffffffff', 'c6ffffffff', 'c9ffffffff01'])
        expectMsgpackError(fromHex(h), /truncated/);
    });

    it('nesting is bounded: 512 levels decode, 513 do not, 100000 fail cleanly', () => {
      const nest = (n: number) => {
        const b = new Uint8Array(n + 1).fill(0x91);
        b[n] = 0xc0;
        return b;
      };
      const ok = nest(512);
      expect(hex(encodeMsgpack(decodeMsgpack(ok)))).to.equal(hex(ok));
      expectMsgpackError(nest(513), /nesting/);
      expectMsgpackError(nest(100000), /nesting/);
      expect(() => decodeTrace(nest(100000))).to.throw(TraceError);
      // Maps nest too (a map as a map value).
      const maps = new Uint8Array(2 * 600 + 1);
      for (let i = 0; i < 600; i++) {
        maps[2 * i] = 0x81;
        maps[2 * i + 1] = 0x00;
      }
      maps[1200] = 0xc0;
      expectMsgpackError(maps, /nesting/);
    });

    it('encoding refuses values nested deeper than the decoder accepts', () => {
      let v: MsgValue = null;
      for (let i = 0; i < 600; i++) v = [v];
      expect(() => encodeMsgpack(v)).to.throw(RangeError);
    });

    it('encoding refuses things that are not msgpack values', () => {
      expect(() => encodeMsgpack({ a: 1 } as unknown as MsgValue)).to.throw(TypeError);
    });
  });

  describe('truncated input at every prefix length', () => {
    // decodeTrace wraps the MsgpackError in a TraceError whose message keeps the cause, so one call checks both layers.
    const expectTruncated = (name: string, b: Uint8Array, n: number) => {
      try {
        decodeTrace(b.subarray(0, n));
      } catch (e) {
        if (!(e instanceof TraceError)) expect.fail(`${name} prefix ${n}: decodeTrace threw ${String(e)}`);
        if (!/truncated|empty input/.test(e.message)) expect.fail(`${name} prefix ${n}: ${e.message}`);
        return;
      }
      expect.fail(`${name} prefix ${n}: decodeTrace accepted a truncated trace`);
    };

    for (const f of allTraceFixtures().filter((x) => x.bytes.length <= 6000)) {
      it(`${f.name} (all ${f.bytes.length} prefixes)`, () => {
        for (let n = 0; n < f.bytes.length; n++) expectTruncated(f.name, f.bytes, n);
      });
    }

    it('decodeMsgpack itself throws MsgpackError (never another exception) for every prefix of cronjob.sktrace', () => {
      const b = readFixture('simkube', 'traces', 'cronjob.sktrace');
      for (let n = 0; n < b.length; n++) {
        let caught: unknown;
        try {
          decodeMsgpack(b.subarray(0, n));
        } catch (e) {
          caught = e;
        }
        if (!(caught instanceof MsgpackError)) expect.fail(`prefix ${n}: ${String(caught)}`);
      }
    });

    it('legacy-sim-arena/trace-v2.msgpack (400 prefixes spread over the file, and the last 64)', () => {
      const b = readFixture('legacy-sim-arena', 'trace-v2.msgpack');
      const lengths = new Set<number>();
      for (let i = 0; i < 400; i++) lengths.add(Math.floor((i * b.length) / 400));
      for (let n = b.length - 64; n < b.length; n++) lengths.add(n);
      for (const n of lengths) expectTruncated('trace-v2', b, n);
    });
  });

  describe('random byte-flip fuzzing (seeded)', () => {
    it('2000 mutations of the fixtures: decodeTrace only ever throws TraceError', () => {
      const rng = mulberry32(0xf00d);
      const files = allTraceFixtures();
      let accepted = 0;
      let rejected = 0;
      for (let i = 0; i < 2000; i++) {
        const src = files[Math.floor(rng() * files.length)]!;
        const b = Uint8Array.from(src.bytes);
        const flips = 1 + Math.floor(rng() * 4);
        for (let j = 0; j < flips; j++) {
          const p = Math.floor(rng() * b.length);
          b[p] = rng() < 0.5 ? Math.floor(rng() * 256) : b[p]! ^ (1 << Math.floor(rng() * 8));
        }
        try {
          decodeTrace(b);
          accepted++;
        } catch (e) {
          if (!(e instanceof TraceError))
            expect.fail(`mutation ${i} of ${src.name}: ${String(e)}\n${(e as Error).stack}`);
          rejected++;
        }
      }
      // Both outcomes must actually happen, or the fuzzing tests nothing.
      expect(accepted).to.be.greaterThan(50);
      expect(rejected).to.be.greaterThan(50);
    });
  });

  it('a string starting with U+FEFF keeps it (TextDecoder would drop a leading BOM)', () => {
    const bytes = encodeMsgpack('\ufeffé');
    expect(hex(bytes)).to.equal('a5efbbbfc3a9');
    expect(decodeMsgpack(bytes)).to.equal('\ufeffé');
    const m: MsgMap = new Map([['\ufeffk', '\ufeffv']]);
    const back = decodeMsgpack(encodeMsgpack(m));
    expect(back).to.deep.equal(m);
    expect(hex(encodeMsgpack(back))).to.equal(hex(encodeMsgpack(m)));
  });

  describe('fast paths (string cache, native slices, shared encode buffer)', () => {
    it('many distinct short strings (cache slots collide) decode to themselves', () => {
      const rng = mulberry32(7);
      const words: string[] = [];
      for (let i = 0; i < 20_000; i++) {
        const n = 1 + Math.floor(rng() * 24);
        let w = '';
        for (let j = 0; j < n; j++) w += String.fromCharCode(0x21 + Math.floor(rng() * 90));
        words.push(w);
      }
      // Twice: the second pass reads through the cache filled by the first.
      expect(roundTrip(words)).to.deep.equal(words);
      expect(roundTrip(words)).to.deep.equal(words);
    });

    it('non-ASCII and ASCII strings at every header boundary round-trip byte-identically', () => {
      for (const n of [0, 1, 23, 24, 25, 31, 32, 33, 100, 255, 256, 65535, 65536]) {
        for (const s of ['a'.repeat(n), `${'b'.repeat(Math.max(0, n - 1))}é`, `é${'c'.repeat(Math.max(0, n - 2))}`]) {
          const bytes = encodeMsgpack(s);
          expect(decodeMsgpack(bytes), `length ${s.length}`).to.equal(s);
          expect(hex(encodeMsgpack(decodeMsgpack(bytes)))).to.equal(hex(bytes));
        }
      }
    });

    it('every string is its UTF-8 bytes behind the most compact header, where the long-string writer must move the bytes down too', () => {
      const header = (len: number): string =>
        len <= 31
          ? (0xa0 | len).toString(16)
          : len < 0x100
            ? `d9${len.toString(16).padStart(2, '0')}`
            : len < 0x10000
              ? `da${len.toString(16).padStart(4, '0')}`
              : `db${len.toString(16).padStart(8, '0')}`;
      // 85/86 and 21845/21846 UTF-16 units: where 3 bytes per unit first needs a wider header than the bytes do.
      for (const n of [31, 32, 33, 85, 86, 100, 255, 256, 21845, 21846, 65535, 65536, 70000]) {
        for (const s of [
          'a'.repeat(n),
          `${'b'.repeat(n - 1)}é`,
          `€${'c'.repeat(n - 1)}`,
          `${'d'.repeat(n - 2)}𝄞`,
          `${'e'.repeat(n - 1)}\ud800`, // a lone surrogate: U+FFFD, as TextEncoder writes it
          '€'.repeat(n),
        ]) {
          const utf8 = new TextEncoder().encode(s);
          const want = header(utf8.length) + hex(utf8);
          const got = hex(encodeMsgpack(s));
          if (got !== want)
            expect.fail(`length ${s.length} (${utf8.length} bytes): ${got.slice(0, 40)}… ≠ ${want.slice(0, 40)}…`);
          // Behind other values in one buffer as well.
          expect(hex(encodeMsgpack([1, s, 2]))).to.equal(`9301${want}02`);
        }
      }
    });

    it('decodes from a Buffer view with a byte offset, and encodes after a larger value grew the shared buffer', () => {
      const big = encodeMsgpack(new Map<MsgValue, MsgValue>([['k', 'x'.repeat(200_000)]]));
      const small = encodeMsgpack(['apiVersion', 'v1', 42]);
      const pool = Buffer.alloc(small.length + 10);
      pool.set(small, 7);
      expect(decodeMsgpack(pool.subarray(7, 7 + small.length))).to.deep.equal(['apiVersion', 'v1', 42]);
      expect(hex(encodeMsgpack(decodeMsgpack(small)))).to.equal(hex(small));
      expect(encodeMsgpack(decodeMsgpack(big)).length).to.equal(big.length);
    });

    it('a failed decode leaves nothing behind: the next decode of another buffer reads from its own start', () => {
      expectMsgpackError(fromHex('92a3616263'), /truncated/);
      expect(decodeMsgpack(fromHex('92a3616263c0'))).to.deep.equal(['abc', null]);
      expectMsgpackError(fromHex('c1'), /not a msgpack type byte at byte 0/);
      expect(decodeMsgpack(fromHex('2a'))).to.equal(42);
    });

    it('every multi-byte header and fixed-width payload cut short is a truncated-input error at the right byte', () => {
      const cases: [string, number][] = [
        ['cd01', 1], // u16 with one byte
        ['ce010203', 1], // u32 with three bytes
        ['cf0102030405', 5], // u64 with six bytes: the high half reads, the low half does not
        ['ca0000', 1], // float32 with two bytes
        ['cb00000000', 1], // float64 with four bytes
        ['da00', 1], // str16 length cut
        ['db0000', 1], // str32 length cut
        ['d905616263', 2], // str8 of 5 with 3 bytes
        ['c5000a0102', 3], // bin16 of 10 with 2 bytes
        ['d6010102', 2], // fixext4 with 2 data bytes
        ['dc0005c0', 3], // array16 of 5 with 1 element
        ['de0003a161c0', 3], // map16 of 3 with one entry
        ['dfffffffff', 5], // map32 claiming 2^32-1 entries
      ];
      for (const [h, at] of cases) {
        const e = expectMsgpackError(fromHex(h), /truncated input/);
        expect(e.offset, h).to.equal(at);
      }
    });

    it('cached short strings are flat copies: equal to a fresh decode and re-encoded byte-identically', () => {
      const keys = ['creationTimestamp', 'ownerReferences', 'resourceVersion', 'x'.repeat(24)];
      const bytes = encodeMsgpack(keys);
      for (let i = 0; i < 3; i++) {
        expect(decodeMsgpack(bytes)).to.deep.equal(keys);
        expect(hex(encodeMsgpack(decodeMsgpack(bytes)))).to.equal(hex(bytes));
      }
    });
  });
});
