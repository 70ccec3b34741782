// The process's one Prometheus registry. Every metric of sim-arena registers here; /metrics (the operator's health
// server, the env server) serves its text. Node's process and runtime metrics are included.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** The exposition text of every metric, with its content type. */
export async function metricsExposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Seconds elapsed since `startNs` (from process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
