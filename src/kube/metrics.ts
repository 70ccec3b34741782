// API requests by HTTP method and status code, as client-go's rest_client_requests_total counts them. Counted at the
// connection agent, so typed client-node APIs, raw REST requests and watches are all seen.
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { Counter } from 'prom-client';
import { registry } from '../util/metrics.js';

export const restRequests = new Counter({
  name: 'rest_client_requests_total',
  help: 'Number of HTTP requests to the API server, partitioned by status code, method and host.',
  labelNames: ['code', 'method', 'host'] as const,
  registers: [registry],
});

/** An https.Agent that counts every request it carries in rest_client_requests_total. */
export class CountingAgent extends https.Agent {
  // addRequest is how http.ClientRequest hands itself to its agent (Node's public-but-undocumented agent contract).
  addRequest(req: ClientRequest, options: Record<string, unknown>): void {
    const host = String(options.host ?? options.hostname ?? '');
    req.once('response', (res: IncomingMessage) =>
      restRequests.inc({ code: String(res.statusCode ?? '<error>'), method: req.method, host }),
    );
    req.once('error', () => restRequests.inc({ code: '<error>', method: req.method, host }));
    (https.Agent.prototype as unknown as { addRequest(r: ClientRequest, o: unknown): void }).addRequest.call(
      this,
      req,
      options,
    );
  }
}
