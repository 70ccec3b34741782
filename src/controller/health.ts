import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsExposition } from '../util/metrics.js';

export interface Readiness {
  ready: boolean;
  /** Why not ready (shown in the /readyz body). */
  reason?: string;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * /healthz: 200 while the process lives. /readyz: 200 when `readiness()` says so, else 503 with the reason.
 * /metrics: every Prometheus metric of the process (text exposition format).
 */
export async function startHealthServer(opts: {
  host?: string;
  port?: number;
  readiness: () => Readiness;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (path === '/readyz') {
      const r = opts.readiness();
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.ready ? 'ok' : `not ready: ${r.reason ?? 'unknown'}`);
      return;
    }
    if (path === '/metrics') {
      metricsExposition().then(
        ({ contentType, body }) =>
          res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
        (err: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics: ${err instanceof Error ? err.message : String(err)}`),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8081, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
