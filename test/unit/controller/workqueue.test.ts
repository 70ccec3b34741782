import { expect } from 'chai';
import { backoffDelay, resolveBackoff, seededRandom } from '../../../src/controller/backoff.js';
import {
  TerminalError,
  WorkQueue,
  type ReconcileFn,
  type WorkQueueOptions,
} from '../../../src/controller/workqueue.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeTimers, deferred, flush } from './fake-timers.js';

function makeQueue(opts: WorkQueueOptions = {}): { q: WorkQueue; timers: FakeTimers } {
  const timers = new FakeTimers();
  const q = new WorkQueue({ timers, logger: silentLogger(), random: () => 0, ...opts });
  return { q, timers };
}

describe('controller/workqueue', () => {
  describe('de-duplication', () => {
    it('handles a key added several times before it runs only once', async () => {
      const { q } = makeQueue();
      const seen: string[] = [];
      q.add('ns/a');
      q.add('ns/a');
      q.add('ns/b');
      q.add('ns/a');
      expect(q.length).to.equal(2);
      q.start(async (k) => {
        seen.push(k);
      });
      await q.whenIdle();
      expect(seen).to.deep.equal(['ns/a', 'ns/b']);
    });

    it('re-handles a key once after it was added (any number of times) while in flight', async () => {
      const { q } = makeQueue({ workers: 4 });
      const gate = deferred();
      let calls = 0;
      q.start(async () => {
        calls++;
        if (calls === 1) await gate.promise;
      });
      q.add('k');
      await flush();
      expect(q.inFlight).to.equal(1);
      q.add('k');
      q.add('k');
      q.add('k');
      await flush();
      expect(calls, 'no second worker may take the same key').to.equal(1);
      expect(q.length).to.equal(0);
      gate.resolve();
      await q.whenIdle();
      expect(calls).to.equal(2);
    });

    it('does not run the handler synchronously inside add()', async () => {
      const { q } = makeQueue();
      let ran = false;
      q.start(async () => {
        ran = true;
      });
      q.add('k');
      expect(ran).to.equal(false);
      await q.whenIdle();
      expect(ran).to.equal(true);
    });
  });

  describe('concurrency', () => {
    it('runs up to N different keys at once and never the same key twice at once', async () => {
      const { q } = makeQueue({ workers: 3 });
      let active = 0;
      let maxActive = 0;
      const activeKeys = new Set<string>();
      let overlap = false;
      const handler: ReconcileFn = async (key) => {
        if (activeKeys.has(key)) overlap = true;
        activeKeys.add(key);
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        activeKeys.delete(key);
      };
      q.start(handler);
      for (let round = 0; round < 5; round++) {
        for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
        await new Promise((r) => setTimeout(r, 1));
      }
      await q.whenIdle();
      expect(maxActive).to.equal(3);
      expect(overlap).to.equal(false);
    });
  });

  describe('backoff', () => {
    it('grows exponentially per key up to the cap, and forget() on success resets it', async () => {
      const { q, timers } = makeQueue({ backoff: { baseMs: 100, factor: 2, maxMs: 1000 } });
      let fail = true;
      let calls = 0;
      q.start(async () => {
        calls++;
        if (fail) throw new Error('boom');
      });
      q.add('k');
      await q.whenIdle();
      for (let i = 0; i < 5; i++) {
        timers.advance(10_000);
        await q.whenIdle();
      }
      expect(calls).to.equal(6);
      expect(timers.scheduled).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
      expect(q.failures('k')).to.equal(6);

      fail = false;
      timers.advance(10_000);
      await q.whenIdle();
      expect(q.failures('k')).to.equal(0);

      fail = true;
      q.add('k');
      await q.whenIdle();
      expect(timers.scheduled.at(-1)).to.equal(100);
    });

    it('keeps backoff separate for each key', async () => {
      const { q, timers } = makeQueue({ backoff: { baseMs: 10 } });
      q.start(async (k) => {
        if (k === 'bad') throw new Error('nope');
      });
      q.add('bad');
      q.add('good');
      await q.whenIdle();
      timers.advance(10);
      await q.whenIdle();
      expect(q.failures('bad')).to.equal(2);
      expect(q.failures('good')).to.equal(0);
    });

    it('adds jitter from an injected or seeded source', () => {
      const opts = resolveBackoff({ baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.5 });
      expect(backoffDelay(0, opts, () => 0)).to.equal(1000);
      expect(backoffDelay(0, opts, () => 0.5)).to.equal(1250);
      expect(backoffDelay(3, opts, () => 0)).to.equal(8000);
      expect(backoffDelay(20, opts, () => 0.99)).to.equal(60_000);
      const a = seededRandom(42);
      const b = seededRandom(42);
      const seqA = [0, 1, 2, 3].map((n) => backoffDelay(n, opts, a));
      const seqB = [0, 1, 2, 3].map((n) => backoffDelay(n, opts, b));
      expect(seqA).to.deep.equal(seqB);
      seqA.forEach((d, n) => {
        const base = 1000 * 2 ** n;
        expect(d).to.be.within(base, base * 1.5);
      });
      expect(new Set(seqA.map((d, n) => d / 2 ** n)).size, 'jitter varies').to.be.greaterThan(1);
    });

    it('uses the seed option for reproducible retry delays', async () => {
      const delays: number[][] = [];
      for (let run = 0; run < 2; run++) {
        const timers = new FakeTimers();
        const q = new WorkQueue({ timers, logger: silentLogger(), seed: 7, backoff: { baseMs: 100, jitter: 1 } });
        q.start(async () => {
          throw new Error('x');
        });
        q.add('k');
        await q.whenIdle();
        timers.advance(1000);
        await q.whenIdle();
        delays.push(timers.scheduled);
      }
      expect(delays[0]).to.deep.equal(delays[1]);
      expect(delays[0]![0]).to.be.within(100, 200);
    });

    it('does not retry a TerminalError', async () => {
      const { q, timers } = makeQueue();
      let calls = 0;
      q.start(async () => {
        calls++;
        throw new TerminalError('bad spec');
      });
      q.add('k');
      await q.whenIdle();
      timers.advance(3_600_000);
      await q.whenIdle();
      expect(calls).to.equal(1);
      expect(timers.size).to.equal(0);
      expect(q.failures('k')).to.equal(0);
    });
  });

  describe('delays', () => {
    it('addAfter holds a key until its time', async () => {
      const { q, timers } = makeQueue();
      const seen: string[] = [];
      q.start(async (k) => {
        seen.push(k);
      });
      q.addAfter('k', 500);
      await flush();
      timers.advance(499);
      await flush();
      expect(seen).to.deep.equal([]);
      timers.advance(1);
      await q.whenIdle();
      expect(seen).to.deep.equal(['k']);
    });

    it('keeps the sooner of two delays for the same key', async () => {
      const { q, timers } = makeQueue();
      let calls = 0;
      q.start(async () => {
        calls++;
      });
      q.addAfter('k', 1000);
      q.addAfter('k', 100);
      q.addAfter('k', 5000);
      expect(timers.size).to.equal(1);
      timers.advance(100);
      await q.whenIdle();
      expect(calls).to.equal(1);
      timers.advance(10_000);
      await q.whenIdle();
      expect(calls).to.equal(1);
    });

    it('requeues after requeueAfterMs from the result', async () => {
      const { q, timers } = makeQueue();
      let calls = 0;
      q.start(async () => {
        calls++;
        return calls < 3 ? { requeueAfterMs: 250 } : {};
      });
      q.add('k');
      await q.whenIdle();
      timers.advance(250);
      await q.whenIdle();
      timers.advance(250);
      await q.whenIdle();
      timers.advance(10_000);
      await q.whenIdle();
      expect(calls).to.equal(3);
      expect(timers.scheduled).to.deep.equal([250, 250]);
    });

    it('unrefs real timers so a pending delay does not keep the process alive', () => {
      const q = new WorkQueue({ logger: silentLogger() });
      q.addAfter('k', 60_000);
      const handle = (q as unknown as { delayed: Map<string, { handle: NodeJS.Timeout }> }).delayed.get('k')!.handle;
      expect(handle.hasRef()).to.equal(false);
      void q.shutdown();
    });
  });

  describe('pause and shutdown', () => {
    it('shutdown waits for in-flight work, drops waiting and delayed keys, and refuses new ones', async () => {
      const { q, timers } = makeQueue({ workers: 1 });
      const gate = deferred();
      const seen: string[] = [];
      q.start(async (k) => {
        seen.push(k);
        if (k === 'a') await gate.promise;
      });
      q.add('a');
      q.add('b');
      q.addAfter('c', 100);
      await flush();
      let done = false;
      const stopping = q.shutdown().then(() => {
        done = true;
      });
      await flush();
      expect(done, 'must wait for the in-flight key').to.equal(false);
      q.add('d');
      gate.resolve();
      await stopping;
      timers.advance(1000);
      await flush();
      expect(seen).to.deep.equal(['a']);
      expect(timers.size).to.equal(0);
      expect(q.isShutDown).to.equal(true);
      expect(() => q.start(async () => undefined)).to.throw(/shut down/);
    });

    it('does not schedule a retry for a failure that ends during shutdown', async () => {
      const { q, timers } = makeQueue();
      const gate = deferred();
      q.start(async () => {
        await gate.promise;
        throw new Error('late');
      });
      q.add('k');
      await flush();
      const stopping = q.shutdown();
      gate.resolve();
      await stopping;
      expect(timers.size).to.equal(0);
    });

    it('pause keeps keys waiting until start resumes', async () => {
      const { q } = makeQueue();
      const seen: string[] = [];
      const handler: ReconcileFn = async (k) => {
        seen.push(k);
      };
      q.start(handler);
      await q.pause();
      q.add('x');
      await flush();
      expect(seen).to.deep.equal([]);
      expect(q.length).to.equal(1);
      q.start(handler);
      await q.whenIdle();
      expect(seen).to.deep.equal(['x']);
    });
  });
});
