import { expect } from 'chai';
import { compareDistributions, countsOf, formatCounts, totalVariation } from '../../support/distribution.js';

describe('distribution comparison for racy replays', () => {
  it('total variation is 0 for the same distribution and 1 for disjoint ones', () => {
    expect(totalVariation([2, 3, 4, 4], [4, 3, 2, 4])).to.equal(0);
    expect(totalVariation([2, 2], [5, 6, 7])).to.be.closeTo(1, 1e-12);
  });

  it('weighs samples of different sizes by frequency', () => {
    expect(totalVariation([2, 4], [2, 2, 4, 4])).to.equal(0);
    expect(totalVariation([2, 2, 2, 4], [2, 4])).to.be.closeTo(0.25, 1e-12);
  });

  it("the issue's kwok repeats (4/6, 3/7, 4/6, 2/8) against embedded's 2 every time disagree at tolerance 0.5", () => {
    const v = compareDistributions([2, 2, 2, 2], [4, 3, 4, 2], 0.5);
    expect(v.tv).to.be.closeTo(0.75, 1e-12);
    expect(v.agree).to.equal(false);
  });

  it('agrees within the tolerance and fails outside the range slack', () => {
    expect(compareDistributions([2, 3, 4, 4], [4, 3, 4, 2], 0.3).agree).to.equal(true);
    expect(compareDistributions([3, 3, 3, 3], [3, 3, 3, 6], 0.3).agree).to.equal(false);
  });

  it('refuses an empty sample with a message', () => {
    expect(() => totalVariation([], [1])).to.throw(/at least one value/);
  });

  it('prints counts in outcome order', () => {
    expect(formatCounts([4, 2, 4, 3])).to.equal('2×1 3×1 4×2');
    expect(countsOf([1, 1]).get(1)).to.equal(2);
  });
});
