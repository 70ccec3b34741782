// Kubernetes quantities (field-anchors.md §4, with the upstream quantity_test.go tables it cites):
// parse, canonical re-emission, invalid inputs, exact arithmetic, MilliValue/Value ceilings.
import { expect } from 'chai';
import {
  addQuantity,
  canonicalQuantity,
  compareQuantity,
  cpuFromMillis,
  cpuMillis,
  formatQuantity,
  intValue,
  isQuantity,
  memoryFromBytes,
  milliValue,
  parseQuantity,
  QuantityError,
  quantityUnits,
  shiftQuantity,
  subQuantity,
  type Quantity,
  type QuantityFormat,
} from '../../../src/trace/quantity.js';

const NANO = 1_000_000_000n;
const Ki = 1024n;
const Mi = Ki * Ki;
const Gi = Mi * Ki;

describe('quantities', () => {
  describe('canonical form (parse then format)', () => {
    // field-anchors §4 "Examples from the tests", upstream TestQuantityParseEmit and TestQuantityString alternates.
    const table: Array<[string, string]> = [
      ['1.5', '1500m'],
      ['0.5', '500m'],
      ['1080m', '1080m'],
      ['1.08', '1080m'],
      ['1000m', '1'],
      ['1000M', '1G'],
      ['50k', '50k'],
      ['1024Mi', '1Gi'],
      ['1.5Gi', '1536Mi'],
      ['300Mi', '300Mi'],
      ['307200Ki', '300Mi'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['.000000000001Ki', '2n'],
      ['1e3', '1e3'],
      ['80e-3', '80e-3'],
      ['300e6', '300e6'],
      ['.001e12', '1e9'],
      ['0.001e0', '1e-3'],
      ['1000e-12', '1e-9'],
      ['0', '0'],
      ['0Mi', '0'],
      ['0.0', '0'],
      ['0.9n', '1n'],
      ['0.00000012345', '124n'],
      ['1000u', '1m'],
      ['1080000000n', '1080m'],
      ['5000m', '5'],
      ['0.001T', '1G'],
      ['1025024Mi', '1001Gi'],
      ['1024Gi', '1Ti'],
      ['1000', '1k'],
      ['100.035k', '100035'],
      ['1.', '1'],
      ['1.G', '1G'],
      ['0.5Mi', '512Ki'],
      ['1E', '1E'],
      ['1E3', '1e3'],
      ['1.3E+6', '1300e3'],
      ['12E', '12E'],
      ['+5', '5'],
      ['-1.5', '-1500m'],
      ['-1.5Gi', '-1536Mi'],
      ['-.001Ki', '-1024m'],
    ];
    for (const [input, expected] of table) {
      it(`${JSON.stringify(input)} → ${expected}`, () => {
        expect(canonicalQuantity(input)).to.equal(expected);
      });
    }

    it('BinarySI values strictly between -1024 and 1024, or fractional, are emitted as DecimalSI', () => {
      expect(memoryFromBytes(5n)).to.equal('5');
      expect(memoryFromBytes(1023n)).to.equal('1023');
      expect(memoryFromBytes(-1023n)).to.equal('-1023');
      expect(memoryFromBytes(1024n)).to.equal('1Ki');
      expect(memoryFromBytes(1025n)).to.equal('1025');
      expect(memoryFromBytes(5n * Ki)).to.equal('5Ki');
      expect(memoryFromBytes(5n * Ki + 512n)).to.equal('5632');
      expect(memoryFromBytes(6n * Ki)).to.equal('6Ki');
      expect(formatQuantity({ nanos: 500_000_000n, format: 'BinarySI' })).to.equal('500m');
      expect(formatQuantity({ nanos: 1_234_567_000_000n, format: 'BinarySI' })).to.equal('1234567m');
      expect(canonicalQuantity('0.5Ki')).to.equal('512');
    });

    it('the canonical form parses back to the same value (every table entry)', () => {
      for (const [input] of table) {
        const q = parseQuantity(input);
        const again = parseQuantity(formatQuantity(q));
        expect(again.nanos, input).to.equal(q.nanos);
        expect(formatQuantity(again), input).to.equal(formatQuantity(q));
      }
    });

    it('JSON numbers are quantities too', () => {
      expect(canonicalQuantity(1)).to.equal('1');
      expect(canonicalQuantity(0.5)).to.equal('500m');
      expect(canonicalQuantity(2.25)).to.equal('2250m');
      expect(cpuMillis(2)).to.equal(2000n);
    });
  });

  describe('parse values and formats (upstream TestQuantityParse)', () => {
    const table: Array<[string, bigint, QuantityFormat]> = [
      ['0', 0n, 'DecimalSI'],
      ['0Ki', 0n, 'BinarySI'],
      ['1', NANO, 'DecimalSI'],
      ['8Ki', 8n * Ki * NANO, 'BinarySI'],
      ['7Mi', 7n * Mi * NANO, 'BinarySI'],
      ['6Gi', 6n * Gi * NANO, 'BinarySI'],
      ['5Ti', 5n * Gi * Ki * NANO, 'BinarySI'],
      ['3Ei', 3n * 2n ** 60n * NANO, 'BinarySI'],
      ['5n', 5n, 'DecimalSI'],
      ['4u', 4000n, 'DecimalSI'],
      ['3m', 3_000_000n, 'DecimalSI'],
      ['8k', 8000n * NANO, 'DecimalSI'],
      ['7M', 7_000_000n * NANO, 'DecimalSI'],
      ['2P', 2n * 10n ** 15n * NANO, 'DecimalSI'],
      ['1E', 10n ** 18n * NANO, 'DecimalSI'],
      ['1E-3', 1_000_000n, 'DecimalExponent'],
      ['1e9', 10n ** 9n * NANO, 'DecimalExponent'],
      ['1.2e3', 1200n * NANO, 'DecimalExponent'],
      ['0.5e-2', 5_000_000n, 'DecimalExponent'],
      ['0.0005k', 500_000_000n, 'DecimalSI'],
      ['10.035M', 10_035_000n * NANO, 'DecimalSI'],
      ['3.001n', 4n, 'DecimalSI'],
      ['1.1E-9', 2n, 'DecimalExponent'],
      ['0.0000000001', 1n, 'DecimalSI'],
      ['0.5e-9', 1n, 'DecimalExponent'],
      ['100.035Ki', (102435840n * NANO) / 1000n, 'BinarySI'],
      ['0.05Gi', 53687091200000000n, 'BinarySI'],
      ['.0001k', 100_000_000n, 'DecimalSI'],
      // rounds up, changes format: a BinarySI value between 0 and 1 is DecimalSI
      ['0.000000000001Ki', 2n, 'DecimalSI'],
      ['.001Ki', 1_024_000_000n, 'BinarySI'],
      // BinarySI is capped at 2^63-1, decimal values are not
      ['9Ei', (2n ** 63n - 1n) * NANO, 'BinarySI'],
      ['9223372036854775807Ki', (2n ** 63n - 1n) * NANO, 'BinarySI'],
      ['12E', 12n * 10n ** 18n * NANO, 'DecimalSI'],
    ];
    for (const [input, nanos, format] of table) {
      it(`${input}`, () => {
        const q = parseQuantity(input);
        expect(q.nanos).to.equal(nanos);
        expect(q.format).to.equal(format);
        // Upstream also parses "-" + input and "+" + input.
        const neg = parseQuantity(`-${input}`);
        expect(neg.nanos).to.equal(-nanos);
        expect(neg.format).to.equal(format);
        expect(parseQuantity(`+${input}`).nanos).to.equal(nanos);
      });
    }
    it('9Ei formats as 2^63-1 bytes', () => {
      expect(canonicalQuantity('9Ei')).to.equal('9223372036854775807');
    });
  });

  describe('invalid quantities', () => {
    const invalid = [
      '',
      ' 1',
      '1 ',
      '1\n',
      '0.1mi',
      '1i',
      '.5i',
      '-3.01i',
      '-3.01e-',
      '1.1.M',
      '1+1.0M',
      '0.1am',
      'aoeu',
      '1K',
      '1KI',
      '1kb',
      '1MB',
      '1e',
      'e3',
      '.',
      '-',
      'Mi',
      '1Gi1',
      '١',
      '1constructor',
      '1__proto__',
      '1toString',
      '1hasOwnProperty',
    ];
    for (const s of invalid) {
      it(`${JSON.stringify(s)} is a QuantityError`, () => {
        expect(() => parseQuantity(s)).to.throw(QuantityError);
        expect(isQuantity(s)).to.equal(false);
      });
    }

    it('non-finite numbers are refused', () => {
      expect(() => parseQuantity(Number.NaN)).to.throw(QuantityError);
      expect(() => parseQuantity(Number.POSITIVE_INFINITY)).to.throw(QuantityError);
    });

    it('isQuantity says yes to the valid forms', () => {
      for (const s of ['1', '500m', '1.5Gi', '1e3', 1, 0.5]) expect(isQuantity(s), String(s)).to.equal(true);
      expect(isQuantity(null)).to.equal(false);
      expect(isQuantity({})).to.equal(false);
    });
  });

  describe('arithmetic is exact', () => {
    const add = (a: string, b: string) => formatQuantity(addQuantity(parseQuantity(a), parseQuantity(b)));
    const sub = (a: string, b: string) => formatQuantity(subQuantity(parseQuantity(a), parseQuantity(b)));

    it('1500m + 500m = 2', () => expect(add('1500m', '500m')).to.equal('2'));
    it('1Gi + 256Mi = 1280Mi', () => expect(add('1Gi', '256Mi')).to.equal('1280Mi'));
    it('33Gi - 256Mi = 33536Mi', () => expect(sub('33Gi', '256Mi')).to.equal('33536Mi'));
    it('2 + 500m = 2500m', () => expect(add('2', '500m')).to.equal('2500m'));
    it('17000m - 500m = 16500m', () => expect(sub('17000m', '500m')).to.equal('16500m'));
    it('0.1 + 0.2 = 300m exactly, and 0.3 - 0.1 - 0.2 = 0', () => {
      expect(add('0.1', '0.2')).to.equal('300m');
      expect(sub(sub('0.3', '0.1'), '0.2')).to.equal('0');
      expect(compareQuantity(addQuantity(parseQuantity('0.1'), parseQuantity('0.2')), parseQuantity('0.3'))).to.equal(
        0,
      );
    });

    it('adding 0.1 ten thousand times gives exactly 1k', () => {
      let q: Quantity = parseQuantity('0');
      const tenth = parseQuantity('0.1');
      for (let i = 0; i < 10000; i++) q = addQuantity(q, tenth);
      expect(formatQuantity(q)).to.equal('1k');
    });

    it('the result keeps the first operand format (upstream TestAdd/TestSub)', () => {
      expect(addQuantity(parseQuantity('10'), parseQuantity('1Ki')).format).to.equal('DecimalSI');
      expect(addQuantity(parseQuantity('2Ki'), parseQuantity('1')).format).to.equal('BinarySI');
      expect(subQuantity(parseQuantity('2Ki'), parseQuantity('1')).format).to.equal('BinarySI');
      expect(add('1Gi', '1G')).to.equal('2073741824');
      expect(add('1G', '1Gi')).to.equal('2073741824');
    });

    it('adding to or subtracting from zero adopts the other format (upstream AddZeroPreservesSuffix)', () => {
      expect(add('0', '100m')).to.equal('100m');
      expect(add('0', '1Gi')).to.equal('1Gi');
      expect(add('1Gi', '0')).to.equal('1Gi');
      expect(sub('1Gi', '0')).to.equal('1Gi');
      expect(sub('0', '1Gi')).to.equal('-1Gi');
      expect(sub('0', '100m')).to.equal('-100m');
    });

    it('compareQuantity (upstream TestQuantityCmp)', () => {
      const cmp = (a: string, b: string) => compareQuantity(parseQuantity(a), parseQuantity(b));
      expect(cmp('0', '0')).to.equal(0);
      expect(cmp('100m', '50m')).to.equal(1);
      expect(cmp('50m', '100m')).to.equal(-1);
      expect(cmp('10000T', '100Gi')).to.equal(1);
      expect(cmp('1Ki', '1024')).to.equal(0);
    });

    it('shiftQuantity adds or subtracts a step, starting from zero in the step format when absent', () => {
      expect(formatQuantity(shiftQuantity('1Gi', '256Mi', 1))).to.equal('1280Mi');
      expect(formatQuantity(shiftQuantity('1Gi', '256Mi', -1))).to.equal('768Mi');
      expect(formatQuantity(shiftQuantity(undefined, '256Mi', 1))).to.equal('256Mi');
      expect(formatQuantity(shiftQuantity(undefined, '500m', -1))).to.equal('-500m');
      expect(formatQuantity(shiftQuantity(2, '500m', 1))).to.equal('2500m');
    });
  });

  describe('MilliValue and Value round up', () => {
    it('milliValue = ceil(q * 1000)', () => {
      expect(milliValue(parseQuantity('1'))).to.equal(1000n);
      expect(milliValue(parseQuantity('0.5'))).to.equal(500n);
      expect(milliValue(parseQuantity('1n'))).to.equal(1n);
      expect(milliValue(parseQuantity('1500001u'))).to.equal(1501n);
      expect(milliValue(parseQuantity('1Ki'))).to.equal(1_024_000n);
      expect(milliValue(parseQuantity('-1.5n'))).to.equal(0n);
      expect(milliValue(parseQuantity('-1500001u'))).to.equal(-1500n);
    });

    it('intValue = ceil(q)', () => {
      expect(intValue(parseQuantity('1'))).to.equal(1n);
      expect(intValue(parseQuantity('1m'))).to.equal(1n);
      expect(intValue(parseQuantity('1.5'))).to.equal(2n);
      expect(intValue(parseQuantity('1Mi'))).to.equal(Mi);
      expect(intValue(parseQuantity('-1.5'))).to.equal(-1n);
    });

    it('cpuMillis and quantityUnits (scheduler semantics)', () => {
      expect(cpuMillis('17000m')).to.equal(17000n);
      expect(cpuMillis('16')).to.equal(16000n);
      expect(cpuMillis('5.556655340828402')).to.equal(5557n);
      expect(quantityUnits('32Gi')).to.equal(34359738368n);
      expect(quantityUnits('64Mi')).to.equal(67108864n);
      expect(quantityUnits('17.41550499759833Gi')).to.equal(18699756103n); // ceil(17.41550499759833 * 2^30), exact
      expect(quantityUnits('1G')).to.equal(1_000_000_000n);
    });

    it('cpuFromMillis and memoryFromBytes emit the house style', () => {
      expect(cpuFromMillis(500n)).to.equal('500m');
      expect(cpuFromMillis(2000n)).to.equal('2');
      expect(cpuFromMillis(16500n)).to.equal('16500m');
      expect(cpuFromMillis(0n)).to.equal('0');
      expect(memoryFromBytes(34359738368n)).to.equal('32Gi');
      expect(memoryFromBytes(1280n * Mi)).to.equal('1280Mi');
      // Below 1024 a BinarySI value is printed as DecimalSI (upstream CanonicalizeBytes), so 1000 bytes is "1k".
      expect(memoryFromBytes(1000n)).to.equal('1k');
      expect(memoryFromBytes(1025n)).to.equal('1025');
    });
  });
});
