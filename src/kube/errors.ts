// Kubernetes API errors. client-node 1.4.0 throws ApiException { code, body: <JSON string of a metav1.Status> };
// its Watch throws a plain Error with `statusCode`.
import { ApiException } from '@kubernetes/client-node';

interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

function statusBody(err: unknown): StatusBody | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined;
}

/** The HTTP status code of a Kubernetes API failure, or undefined for non-HTTP errors. */
export function apiErrorCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** The `reason` of the metav1.Status in an ApiException body (NotFound, Conflict, AlreadyExists, Invalid...). */
export function apiErrorReason(err: unknown): string | undefined {
  return statusBody(err)?.reason;
}

/** A one-line human message: the Status message when the server sent one, else the error's own message. */
export function apiErrorMessage(err: unknown): string {
  const status = statusBody(err);
  const code = apiErrorCode(err);
  if (status?.message) return code !== undefined ? `${code}: ${status.message}` : status.message;
  if (err instanceof ApiException && typeof err.body === 'string' && err.body.trim() !== '') {
    return `${err.code}: ${err.body.trim().slice(0, 500)}`;
  }
  if (err instanceof Error) return code !== undefined ? `${code}: ${err.message}` : err.message;
  return String(err);
}

export function isNotFound(err: unknown): boolean {
  return apiErrorCode(err) === 404;
}

/** A 409 caused by a stale resourceVersion (not by creating something that already exists). */
export function isConflict(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) !== 'AlreadyExists';
}

export function isAlreadyExists(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) === 'AlreadyExists';
}

const transientNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Errors worth retrying: throttling, server-side timeouts and 5xx, dropped connections. */
export function isTransient(err: unknown): boolean {
  const code = apiErrorCode(err);
  if (code !== undefined) return code === 429 || code >= 500;
  const e = err as { code?: unknown; errno?: unknown; type?: unknown; cause?: { code?: unknown } } | null;
  const sysCode = e?.code ?? e?.errno ?? e?.cause?.code;
  return (typeof sysCode === 'string' && transientNetworkCodes.has(sysCode)) || e?.type === 'system';
}
