import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { ShardManager, shardOf } from '../../../src/controller/shards.js';

describe('controller: shards', () => {
  it('shardOf is FNV-1a of the key: the same on every replica and every run', () => {
    // FNV-1a 32-bit of "" is the offset basis 0x811c9dc5; of "a" is 0xe40c292c.
    expect(shardOf('', 1 << 30)).to.equal(0x811c9dc5 % (1 << 30));
    expect(shardOf('a', 0x7fffffff)).to.equal(0xe40c292c % 0x7fffffff);
    expect(shardOf('ns/episode-1', 8)).to.equal(shardOf('ns/episode-1', 8));
  });

  it('spreads keys over the shards', () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`team-${i % 7}/episode-${i}`, 8)]++;
    for (const c of counts) expect(c).to.be.within(850, 1150);
  });

  it('refuses a shard count outside 1-1024', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    for (const shards of [0, -1, 1.5, 1025])
      expect(() => new ShardManager({ kc, namespace: 'ns', prefix: 'p', shards, identity: 'me' })).to.throw(
        RangeError,
        /shards must be an integer from 1 to 1024/,
      );
  });
});
