// Usage from whatever the user has: sim-arena's own format or a Prometheus export (read against the trace).
import type { Trace } from '../trace.js';
import { parseUsageJson, validateUsage, type UsageFile } from './format.js';
import { isPrometheusExport, usageFromPrometheus } from './prometheus.js';

export interface LoadedUsage {
  usage: UsageFile;
  kind: 'sim-arena' | 'prometheus';
  warnings: string[];
}

/** Parse usage text (or an already parsed JSON value). Throws TraceError with a one-line message on bad input. */
export function loadUsage(input: string | unknown, trace: Trace): LoadedUsage {
  const value = typeof input === 'string' ? parseUsageJson(input) : input;
  if (isPrometheusExport(value)) {
    const { usage, unmatched } = usageFromPrometheus(value, trace);
    const warnings = unmatched.length
      ? [
          `${unmatched.length} pod(s) in the export belong to no workload of the trace and were skipped: ${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ', …' : ''}`,
        ]
      : [];
    return { usage, kind: 'prometheus', warnings };
  }
  return { usage: validateUsage(value), kind: 'sim-arena', warnings: [] };
}
