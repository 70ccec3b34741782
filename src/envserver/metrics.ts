// The env server's Prometheus metrics (served at GET /metrics, no token needed, like /healthz).
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../util/metrics.js';

const registers = [registry];
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export const requests = new Counter({
  name: 'sim_arena_envserver_requests_total',
  help: 'HTTP requests answered by the env server, by route template, method and status code.',
  labelNames: ['route', 'method', 'code'] as const,
  registers,
});
export const requestDuration = new Histogram({
  name: 'sim_arena_envserver_request_duration_seconds',
  help: 'Time to answer an env server request, by route template.',
  labelNames: ['route'] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
export const rejected = new Counter({
  name: 'sim_arena_envserver_rejected_requests_total',
  help: 'Requests refused before any work, by reason (unauthorized, forbidden, unsupported_media_type, body_too_large, trace_too_large, batch_too_large, quota, budget, busy).',
  labelNames: ['reason'] as const,
  registers,
});
export const steps = new Counter({
  name: 'sim_arena_envserver_steps_total',
  help: 'Env steps taken (single and batched); rate() of it is steps per second.',
  registers,
});
export const resets = new Counter({
  name: 'sim_arena_envserver_resets_total',
  help: 'Env resets (single and batched).',
  registers,
});
export const stepDuration = new Histogram({
  name: 'sim_arena_envserver_step_duration_seconds',
  help: 'Time of one env step (action applied, trace replayed, reward scored).',
  buckets: LATENCY_BUCKETS,
  registers,
});

const openCounts = new Set<() => number>();
export const envsOpen = new Gauge({
  name: 'sim_arena_envserver_envs_open',
  help: 'Envs currently held by the env server.',
  registers,
  collect() {
    let n = 0;
    for (const count of openCounts) n += count();
    this.set(n);
  },
});

/** Lets a running server report its env count to sim_arena_envserver_envs_open; returns the unregister function. */
export function reportEnvsOpen(count: () => number): () => void {
  openCounts.add(count);
  return () => openCounts.delete(count);
}

/** The route template of a path, so ids do not become label values. */
export function routeOf(path: string): string {
  if (path === '/healthz' || path === '/metrics') return path;
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) return 'unmatched';
  const [version, first, id, sub, ...rest] = parts;
  const base = `/${version}/${first}`;
  if (first === 'envs') {
    if (id === undefined) return base;
    if (rest.length > 0) return 'unmatched';
    return sub === undefined
      ? `${base}/:id`
      : ['spaces', 'reset', 'step'].includes(sub)
        ? `${base}/:id/${sub}`
        : 'unmatched';
  }
  return id === undefined && ['step-batch', 'scenarios'].includes(first!) ? base : 'unmatched';
}
