// Errors the CLI reports as one line (never a stack trace) and the exit code each gets.
import { TraceError } from '../trace/trace.js';
import { QuantityError } from '../trace/quantity.js';
import { UsageDataError } from '../trace/usage/format.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function isUserError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof TraceError || e instanceof QuantityError || e instanceof RangeError || (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT');
}

export function describeError(e: unknown): string {
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT') return `file not found: ${(e as NodeJS.ErrnoException).path ?? e.message}`;
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EISDIR') return `expected a file but found a directory: ${(e as NodeJS.ErrnoException).path ?? ''}`;
  if (e instanceof UsageDataError) return `invalid usage: ${e.message}`;
  if (e instanceof TraceError) return `invalid trace: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
