// Errors of the embedded simulator.
import { TraceError } from '../../trace/trace.js';

/** The trace uses something the embedded simulator does not model and that could change which pods stay Pending. */
export class UnsupportedFeatureError extends TraceError {
  override name = 'UnsupportedFeatureError';
  constructor(
    field: string,
    readonly feature: string,
    detail?: string,
  ) {
    super(
      field,
      `${feature} is not simulated by the embedded backend${detail ? ` (${detail})` : ''}`,
      'remove it from the trace, or run this trace on the kwok or simkube backend',
    );
  }
}
