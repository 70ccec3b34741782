// Request checks that keep web pages out (CSRF, DNS rebinding): a body must be declared as JSON, which a page can
// only send after a CORS preflight this server never grants; a browser's Origin must be a loopback one (or listed);
// and a server bound to loopback answers only requests addressed to a loopback name.
import type { IncomingHttpHeaders } from 'node:http';

/** What the checks read of a request: its headers (a node:http request, or one the worker router forwarded). */
export interface HasHeaders {
  headers: IncomingHttpHeaders;
}
import { HttpError } from './errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The host name of a Host header or an origin's authority (without the port; IPv6 keeps its brackets). */
function hostName(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(authority.trim().toLowerCase());
  return m ? m[1]! : authority;
}

export function hasBody(req: HasHeaders): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len.trim() !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** 415 unless a request with a body says `Content-Type: application/json`. */
export function checkContentType(req: HasHeaders): void {
  if (!hasBody(req)) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      `the request body must be sent with Content-Type: application/json${type ? `, got ${type}` : ''}`,
      { Connection: 'close' },
      'unsupported_media_type',
    );
  }
}

export interface OriginPolicy {
  /** The server listens on a loopback address: the Host header must name a loopback host too. */
  loopback: boolean;
  /** Origins (scheme://host[:port]) allowed besides loopback ones. */
  allowedOrigins: readonly string[];
}

/** 403 for a browser request from a page that is not loopback or allowed, or a loopback server reached by another name. */
export function checkOrigin(req: HasHeaders, policy: OriginPolicy): void {
  if (policy.loopback) {
    const host = req.headers.host;
    if (host !== undefined && !isLoopbackHost(hostName(host))) {
      throw new HttpError(
        403,
        `Host "${host}" is not a loopback name; this server listens on loopback only (start it with --host to serve other names)`,
        { Connection: 'close' },
        'forbidden',
      );
    }
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (policy.allowedOrigins.includes(origin)) return;
  let ok: boolean;
  try {
    const u = new URL(origin);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHost(u.hostname);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new HttpError(
      403,
      `requests from web pages at ${origin} are refused (sim-arena serve --allow-origin ${origin} allows one)`,
      { Connection: 'close' },
      'forbidden',
    );
}
