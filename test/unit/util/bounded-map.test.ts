import { expect } from 'chai';
import { BoundedMap, BoundedSet } from '../../../src/util/bounded-map.js';

describe('util/bounded-map', () => {
  it('evicts the oldest-inserted entry beyond maxEntries; reads do not reorder without lru', () => {
    const m = new BoundedMap<string, number>({ maxEntries: 2 });
    m.set('a', 1).set('b', 2);
    expect(m.get('a')).to.equal(1);
    m.set('c', 3);
    expect([...m.keys()]).to.deep.equal(['b', 'c']);
    expect(m.get('a')).to.equal(undefined);
  });

  it('with lru, a read makes an entry the newest', () => {
    const m = new BoundedMap<string, number>({ maxEntries: 2, lru: true });
    m.set('a', 1).set('b', 2);
    m.get('a');
    m.set('c', 3);
    expect([...m.keys()]).to.deep.equal(['a', 'c']);
  });

  it('bounds the total weight, keeps it exact through replace and delete, and refuses a value heavier than the bound', () => {
    const m = new BoundedMap<string, Uint8Array>({ maxWeight: 10, weigh: (v) => v.length, lru: true });
    m.set('a', new Uint8Array(4)).set('b', new Uint8Array(4));
    expect(m.totalWeight).to.equal(8);
    m.set('a', new Uint8Array(2));
    expect(m.totalWeight).to.equal(6);
    m.set('c', new Uint8Array(6));
    expect([...m.keys()]).to.deep.equal(['a', 'c']);
    expect(m.totalWeight).to.equal(8);
    m.set('huge', new Uint8Array(11));
    expect(m.has('huge')).to.equal(false);
    expect(m.totalWeight).to.equal(8);
    m.delete('c');
    expect(m.totalWeight).to.equal(2);
    m.clear();
    expect([m.size, m.totalWeight]).to.deep.equal([0, 0]);
  });

  it('rejects a bound below one entry', () => {
    expect(() => new BoundedMap({ maxEntries: 0 })).to.throw(RangeError, /maxEntries/);
  });

  it('BoundedSet keeps the newest members', () => {
    const s = new BoundedSet<number>(3);
    for (let i = 0; i < 5; i++) s.add(i);
    expect([0, 1, 2, 3, 4].map((i) => s.has(i))).to.deep.equal([false, false, true, true, true]);
    expect(s.size).to.equal(3);
  });
});
