// The strict exposition reader the metrics tests rely on must itself refuse what Prometheus refuses.
import { expect } from 'chai';
import { parseExposition, sampleSum } from '../../support/prometheus.js';

describe('strict Prometheus exposition reader (test support)', () => {
  it('reads counters, gauges and histograms with labels and escapes', () => {
    const f = parseExposition(
      [
        '# HELP a_total A counter.',
        '# TYPE a_total counter',
        'a_total{x="1",y="q\\"uote\\\\"} 3',
        'a_total{x="2"} 4',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{le="0.1"} 1',
        'h_seconds_bucket{le="+Inf"} 2',
        'h_seconds_sum 0.3',
        'h_seconds_count 2',
        '# TYPE g gauge',
        'g{k="nan"} Nan',
        'g{k="inf"} +Inf',
        '',
      ].join('\n'),
    );
    expect(sampleSum(f, 'a_total')).to.equal(7);
    expect(f.get('a_total')!.samples[0]!.labels.y).to.equal('q"uote\\');
    expect(sampleSum(f, 'h_seconds_count')).to.equal(2);
    expect(sampleSum(f, 'g', { k: 'nan' })).to.be.NaN;
    expect(sampleSum(f, 'g', { k: 'inf' })).to.equal(Infinity);
  });

  for (const [what, text] of [
    ['a bad name', '1bad 1\n'],
    ['an unquoted label', 'a{x=1} 1\n'],
    ['a bad value', 'a 1,5\n'],
    ['a negative counter', '# TYPE c_total counter\nc_total -1\n'],
    ['a TYPE after samples', 'g 1\n# TYPE g gauge\n'],
    ['a split family', 'a 1\nb 1\na{x="1"} 1\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    [
      'a non-cumulative histogram',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n',
    ],
    ['a +Inf bucket unlike _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 1\n'],
    ['no final newline', 'a 1'],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(() => parseExposition(text)).to.throw();
    });
  }
});
