// Errors the env server turns into a status code and a JSON {error: message}.
import { QuantityError } from '../trace/quantity.js';
import { TraceError } from '../trace/trace.js';
import { UsageDataError } from '../trace/usage/format.js';
import { isEngineRangeError, isInternalError, TOO_DEEP } from '../util/engine-errors.js';

/** Why a request was refused before any work (the `reason` label of sim_arena_envserver_rejected_requests_total). */
export type Refused =
  | 'unauthorized'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'trace_too_large'
  | 'batch_too_large'
  | 'quota'
  | 'budget'
  | 'busy';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Set on refusals: the request was turned away before any work, for this reason. */
    readonly refused?: Refused,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);

/** Errors that describe bad input (a bad trace, quantity, range): the client's fault, so 400. */
export function isInputError(e: unknown): e is Error {
  if (isEngineRangeError(e)) return false;
  return e instanceof TraceError || e instanceof QuantityError || e instanceof RangeError;
}

/** Any thrown value as an HttpError: input errors become 400, anything else 500. */
export function toHttpError(e: unknown, context = ''): HttpError {
  if (e instanceof HttpError) return e;
  const prefix = context ? `${context}: ` : '';
  if (e instanceof UsageDataError) return new HttpError(400, `${prefix}invalid usage: ${e.message}`);
  if (e instanceof TraceError) return new HttpError(400, `${prefix}invalid trace: ${e.message}`);
  if (isInputError(e)) return new HttpError(400, `${prefix}${e.message}`);
  if (isEngineRangeError(e)) return new HttpError(400, `${prefix}${TOO_DEEP}`);
  // The engine's wording ("x.map is not a function") is for the server log, never for the client.
  if (isInternalError(e))
    return new HttpError(
      500,
      `${prefix}internal error: the server could not handle this request (its log has the details)`,
    );
  return new HttpError(500, `${prefix}internal error: ${e instanceof Error ? e.message : String(e)}`);
}
