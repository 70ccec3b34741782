// Errors the CLI reports as one line (never a stack trace) and the exit code each gets.
import { TraceError } from '../trace/trace.js';
import { QuantityError } from '../trace/quantity.js';
import { UsageDataError } from '../trace/usage/format.js';
import { isEngineRangeError, isInternalError, TOO_DEEP } from '../util/engine-errors.js';

export { isEngineRangeError, isInternalError };

export class UsageError extends Error {
  override name = 'UsageError';
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'file not found',
  EISDIR: 'expected a file but found a directory',
  ENOTDIR: 'expected a folder but found a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EFBIG: 'file too large (a file size limit was reached)',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
};

function fileErrorCode(e: unknown): string | undefined {
  const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  return code && FILE_ERRORS[code] ? code : undefined;
}

export function isUserError(e: unknown): e is Error {
  if (isEngineRangeError(e)) return false;
  return (
    e instanceof UsageError ||
    e instanceof TraceError ||
    e instanceof QuantityError ||
    e instanceof RangeError ||
    fileErrorCode(e) !== undefined
  );
}

export function describeError(e: unknown): string {
  const code = fileErrorCode(e);
  if (code) {
    const path = (e as NodeJS.ErrnoException).path;
    return `${FILE_ERRORS[code]}${path ? `: ${path}` : ''}${code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? '' : '; nothing was changed'}`;
  }
  if (e instanceof UsageDataError) return `invalid usage: ${e.message}`;
  if (e instanceof TraceError) return `invalid trace: ${e.message}`;
  if (isEngineRangeError(e)) return TOO_DEEP;
  if (isUserError(e)) return e.message;
  if (e instanceof SyntaxError) return `invalid JSON: ${e.message}`;
  if (isInternalError(e) || !(e instanceof Error) || !e.message) return INTERNAL;
  return e.message;
}

const INTERNAL =
  'internal error: sim-arena could not handle this input; rerun with SIM_ARENA_DEBUG=1 for details and report it';
