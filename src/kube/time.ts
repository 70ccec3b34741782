// Kubernetes time values.
import type { V1MicroTime } from '@kubernetes/client-node';

/**
 * A MicroTime string with exactly 6 fractional digits (2026-01-01T00:00:00.123000Z).
 * The API server rejects the 3-digit form that Date#toISOString (and so client-node) produces.
 */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * A MicroTime for a typed client-node field (Lease renewTime/acquireTime, Event eventTime). client-node
 * types these as Date subclasses but passes strings through untouched, while a plain Date would be sent
 * with 3 fractional digits and rejected; so the value is the 6-digit string, typed as the field wants.
 */
export function microTimeField(date: Date = new Date()): V1MicroTime {
  return microTime(date) as unknown as V1MicroTime;
}

/** Milliseconds since the epoch of a Kubernetes timestamp (string or Date), or undefined when absent or invalid. */
export function timeMs(t: string | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}
