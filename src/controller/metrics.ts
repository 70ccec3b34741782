// The controller runtime's metrics, named as controller-runtime and client-go name theirs so that existing
// dashboards and alerts apply: reconciles by result, reconcile time, work-queue depth/adds/retries/latencies,
// leader-election status. Informer relists and watch restarts have no upstream name; they carry the sim_arena_ prefix.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../util/metrics.js';

const registers = [registry];
/** controller-runtime's reconcile-time buckets (seconds). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work-queue latency buckets: 10^-8 … 10^1 seconds. */
const QUEUE_BUCKETS = Array.from({ length: 10 }, (_, i) => 10 ** (i - 8));

export const reconcileTotal = new Counter({
  name: 'controller_runtime_reconcile_total',
  help: 'Total number of reconciliations per controller, by result (success, error, requeue, requeue_after).',
  labelNames: ['controller', 'result'] as const,
  registers,
});
export const reconcileErrors = new Counter({
  name: 'controller_runtime_reconcile_errors_total',
  help: 'Total number of reconciliation errors per controller.',
  labelNames: ['controller'] as const,
  registers,
});
export const terminalReconcileErrors = new Counter({
  name: 'controller_runtime_terminal_reconcile_errors_total',
  help: 'Total number of terminal reconciliation errors (not retried) per controller.',
  labelNames: ['controller'] as const,
  registers,
});
export const reconcileTime = new Histogram({
  name: 'controller_runtime_reconcile_time_seconds',
  help: 'Length of time per reconciliation per controller.',
  labelNames: ['controller'] as const,
  buckets: RECONCILE_BUCKETS,
  registers,
});
export const activeWorkers = new Gauge({
  name: 'controller_runtime_active_workers',
  help: 'Number of currently used workers per controller.',
  labelNames: ['controller'] as const,
  registers,
});
export const maxConcurrentReconciles = new Gauge({
  name: 'controller_runtime_max_concurrent_reconciles',
  help: 'Maximum number of concurrent reconciles per controller.',
  labelNames: ['controller'] as const,
  registers,
});

export const queueDepth = new Gauge({
  name: 'workqueue_depth',
  help: 'Current depth of the work queue (keys waiting, not delayed).',
  labelNames: ['name'] as const,
  registers,
});
export const queueAdds = new Counter({
  name: 'workqueue_adds_total',
  help: 'Total number of adds handled by the work queue.',
  labelNames: ['name'] as const,
  registers,
});
export const queueRetries = new Counter({
  name: 'workqueue_retries_total',
  help: 'Total number of retries (rate-limited re-adds) handled by the work queue.',
  labelNames: ['name'] as const,
  registers,
});
export const queueLatency = new Histogram({
  name: 'workqueue_queue_duration_seconds',
  help: 'How long in seconds a key stays in the work queue before being handled.',
  labelNames: ['name'] as const,
  buckets: QUEUE_BUCKETS,
  registers,
});
export const workDuration = new Histogram({
  name: 'workqueue_work_duration_seconds',
  help: 'How long in seconds handling a key from the work queue takes.',
  labelNames: ['name'] as const,
  buckets: QUEUE_BUCKETS,
  registers,
});

export const leaderStatus = new Gauge({
  name: 'leader_election_master_status',
  help: 'Whether this process holds the Lease (1) or not (0), by lease name.',
  labelNames: ['name'] as const,
  registers,
});

export const informerLists = new Counter({
  name: 'sim_arena_informer_lists_total',
  help: 'Total number of full lists (initial list and relists) an informer made, by resource path.',
  labelNames: ['resource'] as const,
  registers,
});
export const informerWatchRestarts = new Counter({
  name: 'sim_arena_informer_watch_restarts_total',
  help: 'Total number of list+watch restarts of an informer (after errors or a silent stream), by resource path and reason.',
  labelNames: ['resource', 'reason'] as const,
  registers,
});
