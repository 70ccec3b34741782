// The controller runtime's metrics: a work queue and the health server's /metrics, with real timers and a real socket.
import { expect } from 'chai';
import { startHealthServer } from '../../../src/controller/health.js';
import { TerminalError, WorkQueue } from '../../../src/controller/workqueue.js';
import { registry } from '../../../src/util/metrics.js';
import { parseExposition, sampleSum, scrape } from '../../support/prometheus.js';

describe('controller runtime metrics', () => {
  it('counts reconciles by result, errors, adds, retries and observes latencies per queue', async () => {
    const name = `metrics-test-${process.pid}`;
    const q = new WorkQueue({ name, workers: 2, backoff: { baseMs: 5, maxMs: 5 }, seed: 1 });
    const calls = new Map<string, number>();
    q.start(async (key) => {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      if (key === 'flaky' && n === 1) throw new Error('transient');
      if (key === 'fatal') throw new TerminalError('bad spec');
      if (key === 'again' && n === 1) return { requeueAfterMs: 0 };
      if (key === 'later' && n === 1) return { requeueAfterMs: 5 };
      return {};
    });
    for (const k of ['ok', 'flaky', 'fatal', 'again', 'later']) q.add(k);
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      !((calls.get('flaky') ?? 0) >= 2 && (calls.get('again') ?? 0) >= 2 && (calls.get('later') ?? 0) >= 2)
    )
      await new Promise((r) => setTimeout(r, 10));
    await q.whenIdle();
    await q.shutdown();
    const f = parseExposition(await registry.metrics());
    const c = { controller: name };
    expect(sampleSum(f, 'controller_runtime_reconcile_total', { ...c, result: 'success' })).to.equal(4); // ok, flaky#2, again#2, later#2
    expect(sampleSum(f, 'controller_runtime_reconcile_total', { ...c, result: 'error' })).to.equal(2); // flaky#1, fatal
    expect(sampleSum(f, 'controller_runtime_reconcile_total', { ...c, result: 'requeue' })).to.equal(1);
    expect(sampleSum(f, 'controller_runtime_reconcile_total', { ...c, result: 'requeue_after' })).to.equal(1);
    expect(sampleSum(f, 'controller_runtime_reconcile_errors_total', c)).to.equal(2);
    expect(sampleSum(f, 'controller_runtime_terminal_reconcile_errors_total', c)).to.equal(1);
    expect(sampleSum(f, 'controller_runtime_reconcile_time_seconds_count', c)).to.equal(8);
    expect(sampleSum(f, 'controller_runtime_max_concurrent_reconciles', c)).to.equal(2);
    expect(sampleSum(f, 'workqueue_adds_total', { name })).to.equal(8);
    expect(sampleSum(f, 'workqueue_retries_total', { name })).to.equal(1);
    expect(sampleSum(f, 'workqueue_queue_duration_seconds_count', { name })).to.equal(8);
    expect(sampleSum(f, 'workqueue_work_duration_seconds_count', { name })).to.equal(8);
    expect(sampleSum(f, 'workqueue_depth', { name })).to.equal(0);
  });

  it('serves /metrics from the health server, next to /healthz and /readyz', async () => {
    const h = await startHealthServer({ host: '127.0.0.1', port: 0, readiness: () => ({ ready: true }) });
    try {
      const f = await scrape(`http://127.0.0.1:${h.port}/metrics`);
      expect(f.get('controller_runtime_reconcile_total')?.type).to.equal('counter');
      expect(f.get('workqueue_depth')?.type).to.equal('gauge');
      expect(f.get('leader_election_master_status')?.type).to.equal('gauge');
      expect(f.has('process_resident_memory_bytes')).to.equal(true);
      expect((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status).to.equal(200);
    } finally {
      await h.close();
    }
  });
});
