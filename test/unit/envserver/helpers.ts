// A real env server on 127.0.0.1:0 for the tests, and a tiny JSON client for it.
import { startEnvServer, type EnvServer, type EnvServerOptions } from '../../../src/envserver/server.js';

export interface TestServer {
  server: EnvServer;
  url: string;
  call: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: any; headers: Headers }>;
  close: () => Promise<void>;
}

/** Calls to a server at `url`: JSON bodies out, the answer parsed as JSON when it is JSON. */
export function jsonClient(url: string): TestServer['call'] {
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(url + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // leave as text; tests assert JSON where they expect it
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export async function testServer(opts: EnvServerOptions = {}): Promise<TestServer> {
  const { server, url } = await startEnvServer({ host: '127.0.0.1', port: 0, ...opts });
  return { server, url, call: jsonClient(url), close: () => server.close() };
}

/** Create an env and return its id (asserting 201). */
export async function createEnv(
  s: TestServer,
  body: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<string> {
  const r = await s.call('POST', '/v1/envs', body, headers);
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

export const ACTION = {
  noop: 0,
  'bump-cpu': 1,
  'bump-mem': 2,
  'scale-up': 3,
  'reduce-cpu': 4,
  'reduce-mem': 5,
  'scale-down': 6,
} as const;
