// The env server's HTTP layer (node:http, JSON in and out). Routes, limits and error mapping live here; what an
// env does lives in env.ts. The API and the observation are described in README.md beside this file.
import { BigBodyGate } from './big-body.js';
import { listenOn } from './listen.js';
import { describeSplits, splitScenarios, SPLITS } from '../trace/splits.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Backend, BackendName } from '../arena/backend.js';
import { createBackend } from '../sim/index.js';
import { type BackendOptions } from '../sim/options.js';
import { CANONICAL } from '../trace/generate.js';
import { formatWorkload } from '../trace/workload.js';
import { parseCreateRequest, uploadedTraceBytes } from './config.js';
import { checkContentType, checkOrigin, isLoopbackHost } from './guard.js';
import { ArenaEnv, parseClientAction, type ResetOptions } from './env.js';
import { badRequest, HttpError, toHttpError, type Refused } from './errors.js';
import { EnvRegistry, type Entry, type Slot } from './registry.js';
import { metricsExposition, secondsSince } from '../util/metrics.js';
import * as metrics from './metrics.js';

export const API_VERSION = 'v1';
export const CLIENT_TOKEN_HEADER = 'x-client-token';

export interface EnvServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The backend every env runs on (default embedded). */
  backend?: BackendName;
  backendOptions?: BackendOptions;
  /** Replaces createBackend (tests). */
  backendFactory?: (name: BackendName) => Promise<Backend>;
  /** Most envs held at once (default 64); one more is a 429. */
  maxEnvs?: number;
  /** Envs untouched this long are deleted (seconds, default 1800; 0 never). */
  idleTimeoutSeconds?: number;
  /** Largest request body (bytes, default 16 MiB); larger is a 413. */
  maxBodyBytes?: number;
  /** Most items in one step-batch (default 1024). */
  maxBatch?: number;
  /** When set, every /v1 request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Most envs one client token holds (x-client-token; clients without one share a quota). Default 32. */
  maxEnvsPerClient?: number;
  /** Largest uploaded trace per env, decoded (bytes, default 4 MiB); larger is a 413. */
  maxTraceBytes?: number;
  /** Uploaded trace bytes all envs hold together (default 32 MiB); a create beyond it is a 503. */
  traceBudgetBytes?: number;
  /** Create the backend before listening, so a bad kubeconfig fails at start instead of at the first create. */
  prepareBackend?: boolean;
  /** Origins (scheme://host[:port]) of web pages allowed to call the API besides loopback ones. */
  allowedOrigins?: string[];
  /** Where to write one line per failed request (5xx) and other notes. */
  log?: (line: string) => void;
  /** Told the ids of envs that idle expiry deleted (the multi-worker router keeps its table with it). */
  onExpire?: (ids: string[]) => void;
}

/** A request whose body was already read (by the multi-worker router, within --max-body), handed to a worker. */
export interface ForwardedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body text; undefined when the request had none. */
  body: string | undefined;
}

type AnyRequest = IncomingMessage | ForwardedRequest;

/** One item of a step-batch, checked and bound to its env, ready to run. */
export type BatchPlanItem =
  | { kind: 'reset'; id: string; entry: Entry; opts: ResetOptions }
  | { kind: 'step'; id: string; entry: Entry; action: unknown };

/** A refused step-batch item: `index` is its position in the request's steps. */
export class BatchItemError extends HttpError {
  constructor(
    readonly index: number,
    e: HttpError,
  ) {
    super(e.status, e.message, e.headers);
  }
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  maxEnvs: 64,
  maxEnvsPerClient: 32,
  idleTimeoutSeconds: 1800,
  maxBodyBytes: 16 * 1024 * 1024,
  maxTraceBytes: 4 * 1024 * 1024,
  traceBudgetBytes: 32 * 1024 * 1024,
  maxBatch: 1024,
} as const;

export { BIG_BODY_BYTES } from './big-body.js';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  refused?: Refused;
}

export const sha = (s: string) => createHash('sha256').update(s).digest();

export class EnvServer {
  readonly registry: EnvRegistry;
  readonly backendName: BackendName;
  private readonly server: Server;
  private readonly backends = new Map<BackendName, Promise<Backend>>();
  private readonly opts: Required<Pick<EnvServerOptions, 'maxBodyBytes' | 'maxBatch'>> & EnvServerOptions;
  private readonly tokenHash: Buffer | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private envCounter = 0;
  private unreportEnvs: (() => void) | undefined;
  private readonly bigBodies = new BigBodyGate();

  constructor(opts: EnvServerOptions = {}) {
    this.opts = {
      ...opts,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      maxBatch: opts.maxBatch ?? DEFAULTS.maxBatch,
    };
    this.backendName = opts.backend ?? 'embedded';
    const idle = (opts.idleTimeoutSeconds ?? DEFAULTS.idleTimeoutSeconds) * 1000;
    const maxEnvs = opts.maxEnvs ?? DEFAULTS.maxEnvs;
    this.registry = new EnvRegistry({
      maxEnvs,
      idleTimeoutMs: idle,
      maxEnvsPerClient: opts.maxEnvsPerClient ?? Math.min(maxEnvs, DEFAULTS.maxEnvsPerClient),
      traceBudgetBytes: opts.traceBudgetBytes ?? DEFAULTS.traceBudgetBytes,
      ...(opts.onExpire ? { onExpire: opts.onExpire } : {}),
    });
    this.tokenHash = opts.token ? sha(opts.token) : undefined;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.unreportEnvs = metrics.reportEnvsOpen(() => this.registry.size);
    if (idle > 0) {
      this.sweeper = setInterval(() => this.registry.expire(), Math.max(1000, Math.min(idle / 4, 60_000)));
      this.sweeper.unref();
    }
  }

  /** Listen; resolves with the address actually bound (port 0 picks one). */
  listen(): Promise<{ host: string; port: number; url: string }> {
    const host = this.opts.host ?? DEFAULTS.host;
    return listenOn(this.server, host, this.opts.port ?? DEFAULTS.port);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.unreportEnvs?.();
    this.registry.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const b of this.backends.values()) {
      try {
        await (await b).close?.();
      } catch {
        // a backend that failed to start has nothing to close
      }
    }
    this.backends.clear();
  }

  /** Start the server's backend now (for kwok/simkube this loads and checks the kubeconfig). */
  async prepareBackend(): Promise<void> {
    await this.backend(this.backendName);
  }

  private backend(name: BackendName): Promise<Backend> {
    let b = this.backends.get(name);
    if (!b) {
      b = this.opts.backendFactory
        ? this.opts.backendFactory(name)
        : createBackend(name, this.opts.backendOptions ?? {});
      b.catch(() => this.backends.delete(name));
      this.backends.set(name, b);
    }
    return b;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const route = metrics.routeOf(path);
    if (route === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      const { contentType, body } = await metricsExposition();
      res
        .writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : body);
      metrics.requests.inc({ route, method: req.method, code: '200' });
      return;
    }
    const reply = await this.reply(req);
    if (res.headersSent || res.destroyed) return;
    // A refusal sent before the body was read: discard the rest instead of buffering it.
    if (!req.complete) req.resume();
    const text = `${JSON.stringify(reply.body)}\n`;
    writeJson(res, reply.status, text, reply.headers);
    countRequest(route, req.method ?? 'GET', reply.status, started, reply.refused);
  }

  /** Answer a request the multi-worker router read and forwarded (everything but /metrics). */
  async dispatch(req: ForwardedRequest): Promise<{ status: number; text: string; headers: Record<string, string> }> {
    const started = process.hrtime.bigint();
    const route = metrics.routeOf((req.url.split('?')[0] ?? '/').replace(/\/+$/, '') || '/');
    const reply = await this.reply(req);
    countRequest(route, req.method, reply.status, started, reply.refused);
    return { status: reply.status, text: `${JSON.stringify(reply.body)}\n`, headers: reply.headers ?? {} };
  }

  private async reply(req: AnyRequest): Promise<Reply> {
    try {
      return await this.route(req);
    } catch (e) {
      const err = toHttpError(e);
      if (err.status >= 500)
        this.opts.log?.(
          `${req.method} ${req.url}: ${err.message}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`,
        );
      return { status: err.status, body: { error: err.message }, headers: err.headers, refused: err.refused };
    }
  }

  /** One step or reset of an env, timed and counted. */
  private timed<T>(kind: 'step' | 'reset', run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    return run().then((r) => {
      if (kind === 'step') {
        metrics.steps.inc();
        metrics.stepDuration.observe(secondsSince(started));
      } else metrics.resets.inc();
      return r;
    });
  }

  private authorize(req: { headers: IncomingHttpHeaders }): void {
    checkBearer(req, this.tokenHash);
  }

  private async route(req: AnyRequest): Promise<Reply> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const allow = (methods: string[]) => {
      if (!methods.includes(method))
        throw new HttpError(405, `${method} is not allowed on ${path} (allowed: ${methods.join(', ')})`, {
          Allow: methods.join(', '),
        });
    };
    if (path === '/healthz') {
      allow(['GET']);
      return { status: 200, body: { ok: true, backend: this.backendName, envs: this.registry.size } };
    }
    if (!path.startsWith(`/${API_VERSION}/`))
      throw new HttpError(404, `no route ${path} (the API is under /${API_VERSION}/, see GET /healthz)`);
    checkOrigin(req, {
      loopback: isLoopbackHost(this.opts.host ?? DEFAULTS.host),
      allowedOrigins: this.opts.allowedOrigins ?? [],
    });
    this.authorize(req);
    checkContentType(req);
    const client = headerValue(req, CLIENT_TOKEN_HEADER);
    let parts: string[];
    try {
      parts = path.split('/').slice(2).map(decodeURIComponent);
    } catch {
      throw badRequest(`malformed URL path ${path}`);
    }

    if (parts.length === 1 && parts[0] === 'envs') {
      allow(['POST']);
      return this.create(req, client);
    }
    if (parts.length === 1 && parts[0] === 'step-batch') {
      allow(['POST']);
      return this.batch(await readJson(req, this.opts.maxBodyBytes), client);
    }
    if (parts.length === 1 && parts[0] === 'scenarios') {
      allow(['GET']);
      return {
        status: 200,
        body: {
          scenarios: CANONICAL.map((c) => ({
            name: c.meta.name,
            description: c.meta.description,
            workload: formatWorkload(c.meta.workload),
            target: c.meta.target,
            problem: c.meta.problem,
          })),
        },
      };
    }
    if (parts.length === 1 && parts[0] === 'splits') {
      allow(['GET']);
      const d = describeSplits();
      return {
        status: 200,
        body: {
          splits: Object.fromEntries(
            SPLITS.map((sp) => [
              sp,
              {
                families: d[sp],
                scenarios: splitScenarios(sp).map((x, index) => ({
                  index,
                  id: x.id,
                  problem: x.problem,
                  target: x.target,
                  description: x.description,
                })),
              },
            ]),
          ),
        },
      };
    }
    if (parts[0] === 'envs' && parts.length >= 2 && parts.length <= 3) {
      const id = parts[1]!;
      const sub = parts[2];
      if (sub === undefined) {
        allow(['GET', 'DELETE']);
        if (method === 'DELETE') {
          this.registry.delete(id, client);
          return { status: 200, body: { id, deleted: true } };
        }
        const entry = this.registry.get(id, client);
        return { status: 200, body: { id, ...entry.env.status, env: entry.env.describe(), ...entry.env.spaces() } };
      }
      if (sub === 'spaces') {
        allow(['GET']);
        return { status: 200, body: this.registry.get(id, client).env.spaces() };
      }
      if (sub === 'reset') {
        allow(['POST']);
        const entry = this.registry.get(id, client);
        const body = await readJson(req, this.opts.maxBodyBytes, true);
        const opts = resetOptions(body, 'reset');
        return {
          status: 200,
          body: await this.timed('reset', () => this.registry.run(entry, (env) => env.reset(opts))),
        };
      }
      if (sub === 'step') {
        allow(['POST']);
        const entry = this.registry.get(id, client);
        const body = await readJson(req, this.opts.maxBodyBytes);
        if (!isObject(body) || !('action' in body))
          throw badRequest('the request body must be {"action": <integer 0-6>}');
        for (const k of Object.keys(body))
          if (k !== 'action') throw badRequest(`unknown field "${k}" (a step takes only {"action": <integer 0-6>})`);
        const action = body.action;
        parseClientAction(action);
        return {
          status: 200,
          body: await this.timed('step', () => this.registry.run(entry, (env) => env.stepAction(action))),
        };
      }
    }
    throw new HttpError(404, `no route ${method} ${path}`);
  }

  /**
   * Every limit is checked before the trace is decoded: the env cap and the client's quota before the body is read,
   * the body size from Content-Length, the trace's size and the memory budget from the base64 text's length. Big
   * bodies are read and decoded one at a time; the decode itself is bounded by --max-trace-bytes.
   */
  private async create(req: AnyRequest, client: string | undefined): Promise<Reply> {
    const room = this.registry.reserveSlot(client);
    let slot: Slot | undefined;
    try {
      const leave = this.bigBodies.enter(req);
      try {
        const body = await readJson(req, this.opts.maxBodyBytes);
        const traceBytes = uploadedTraceBytes(body);
        const maxTrace = this.opts.maxTraceBytes ?? DEFAULTS.maxTraceBytes;
        if (traceBytes > maxTrace)
          throw new HttpError(
            413,
            `the trace is ${traceBytes} bytes; at most ${maxTrace} per env (sim-arena serve --max-trace-bytes)`,
            {},
            'trace_too_large',
          );
        this.registry.release(room);
        slot = this.registry.reserveSlot(client, traceBytes);
        const config = parseCreateRequest(body, this.backendName);
        const backend = await this.backend(config.backend);
        const env = new ArenaEnv(config, backend, `env${++this.envCounter}`);
        const id = this.registry.add(env, client, undefined, slot);
        return {
          status: 201,
          body: { id, ...env.spaces(), env: env.describe() },
          headers: { Location: `/${API_VERSION}/envs/${id}` },
        };
      } finally {
        leave();
      }
    } finally {
      this.registry.release(room);
      if (slot && !slot.released) this.registry.release(slot);
    }
  }

  /** Step (or reset) many envs in one request. Everything is checked before anything runs: a bad item fails the batch. */
  private async batch(body: unknown, client: string | undefined): Promise<Reply> {
    const steps = this.batchSteps(body);
    const plan = this.planBatch(steps, client);
    return { status: 200, body: { results: await this.runBatch(plan) } };
  }

  /** The steps array of a step-batch body, or the error for a body that is not one (or too long). */
  batchSteps(body: unknown): unknown[] {
    return checkBatchBody(body, this.opts.maxBatch);
  }

  /**
   * Check every item and bind it to its env; the first bad item throws a BatchItemError. `indexOf(i)` is item i's
   * position in the client's request (the router sends a worker only its own items).
   */
  planBatch(steps: unknown[], client: string | undefined, indexOf: (i: number) => number = (i) => i): BatchPlanItem[] {
    const seen = new Set<string>();
    return steps.map((item, i) => {
      const at = indexOf(i);
      try {
        return this.planItem(item, `steps[${at}]`, seen, client);
      } catch (e) {
        throw new BatchItemError(at, toHttpError(e));
      }
    });
  }

  private planItem(item: unknown, where: string, seen: Set<string>, client: string | undefined): BatchPlanItem {
    checkBatchItem(item, where, seen);
    const id = item.id;
    let entry;
    try {
      entry = this.registry.get(id, client);
    } catch (e) {
      const err = toHttpError(e);
      throw new HttpError(err.status, `${where}: ${err.message}`, err.headers, err.refused);
    }
    if (item.reset !== undefined && item.reset !== null && item.reset !== false) {
      if ('action' in item) throw badRequest(`${where}: give action or reset, not both`);
      const opts = resetOptions(item.reset === true ? {} : item.reset, `${where}.reset`);
      return { kind: 'reset', id, entry, opts };
    }
    if (!('action' in item)) throw badRequest(`${where}: action is required (or reset)`);
    try {
      parseClientAction(item.action);
      const refusal = entry.busy === 0 ? entry.env.stepRefusal() : undefined;
      if (refusal) throw badRequest(refusal);
    } catch (e) {
      throw new HttpError(toHttpError(e).status, `${where} (env ${id}): ${(e as Error).message}`);
    }
    return { kind: 'step', id, entry, action: item.action };
  }

  /** Run a checked batch: the envs concurrently; an item that fails while it runs is {id, error, status}. */
  runBatch(plan: BatchPlanItem[]): Promise<Json[]> {
    return Promise.all(
      plan.map(async (p): Promise<Json> => {
        try {
          if (p.kind === 'reset')
            return {
              id: p.id,
              reset: true,
              ...(await this.timed('reset', () => this.registry.run(p.entry, (env) => env.reset(p.opts)))),
            };
          return {
            id: p.id,
            ...(await this.timed('step', () => this.registry.run(p.entry, (env) => env.stepAction(p.action)))),
          };
        } catch (e) {
          const err = toHttpError(e);
          if (err.status >= 500) this.opts.log?.(`step-batch ${p.id}: ${err.message}`);
          return { id: p.id, error: err.message, status: err.status };
        }
      }),
    );
  }
}

/** 401 unless `Authorization: Bearer <token>` matches (no check when the server has no token). */
export function checkBearer(req: { headers: IncomingHttpHeaders }, tokenHash: Buffer | undefined): void {
  if (!tokenHash) return;
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(h);
  if (!m || !timingSafeEqual(sha(m[1]!.trim()), tokenHash))
    throw new HttpError(
      401,
      'missing or wrong token: send Authorization: Bearer <token> (the token sim-arena serve was started with)',
      { 'WWW-Authenticate': 'Bearer' },
      'unauthorized',
    );
}

/** The steps array of a step-batch body (400 for a bad body, 413 beyond maxBatch). */
export function checkBatchBody(body: unknown, maxBatch: number): unknown[] {
  if (!isObject(body)) throw badRequest('the request body must be {"steps": [{"id": ..., "action": ...}, ...]}');
  const steps = body.steps;
  if (!Array.isArray(steps) || steps.length === 0)
    throw badRequest('steps must be a non-empty array of {"id", "action"} (or {"id", "reset": {"seed"?}})');
  if (steps.length > maxBatch)
    throw new HttpError(
      413,
      `too many steps in one batch: ${steps.length} (at most ${maxBatch})`,
      {},
      'batch_too_large',
    );
  return steps;
}

/**
 * One item of a step-batch body, checked the same way by the single-process server and the worker router: an
 * object with a non-empty env id not seen before in this batch (`seen` gets it) and no unknown field.
 */
export function checkBatchItem(item: unknown, where: string, seen: Set<string>): asserts item is Json & { id: string } {
  if (!isObject(item)) throw badRequest(`${where} must be an object {"id", "action"}`);
  const id = item.id;
  if (typeof id !== 'string' || id.length === 0) throw badRequest(`${where}.id must be an env id string`);
  if (seen.has(id)) throw badRequest(`${where}: env ${id} appears twice in one batch`);
  seen.add(id);
  for (const k of Object.keys(item))
    if (!['id', 'action', 'reset'].includes(k))
      throw badRequest(`${where}: unknown field "${k}" (use id, action, reset)`);
}

export function writeJson(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function countRequest(route: string, method: string, status: number, started: bigint, refused?: Refused): void {
  metrics.requests.inc({ route, method, code: String(status) });
  metrics.requestDuration.observe({ route }, secondsSince(started));
  if (refused) metrics.rejected.inc({ reason: refused });
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function headerValue(req: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

export function resetOptions(body: unknown, where: string): ResetOptions {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw badRequest(`${where}: the body must be {"seed"?: int, "options"?: object}`);
  for (const k of Object.keys(body))
    if (k !== 'seed' && k !== 'options') throw badRequest(`${where}: unknown field "${k}" (use seed, options)`);
  const seed = body.seed;
  if (seed !== undefined && seed !== null && (typeof seed !== 'number' || !Number.isSafeInteger(seed)))
    throw badRequest(`${where}: seed must be an integer, got ${JSON.stringify(seed)}`);
  const options = body.options;
  if (options !== undefined && options !== null && !isObject(options))
    throw badRequest(`${where}: options must be an object`);
  return { seed: seed as number | null | undefined, options: options as Json | null | undefined };
}

export const tooLarge = (limit: number) =>
  new HttpError(
    413,
    `request body too large: the limit is ${limit} bytes (sim-arena serve --max-body)`,
    { Connection: 'close' },
    'body_too_large',
  );

/** Read and parse a JSON body of at most `limit` bytes (413 beyond; the rest is discarded, not buffered). */
export function readJson(req: AnyRequest, limit: number, emptyOk = false): Promise<unknown> {
  if (!(req instanceof IncomingMessage)) return parseBody(req.body ?? '', limit, emptyOk);
  return readBody(req, limit).then((text) => parseBody(text, limit, emptyOk));
}

function parseBody(text: string, limit: number, emptyOk: boolean): Promise<unknown> {
  if (Buffer.byteLength(text) > limit) return Promise.reject(tooLarge(limit));
  if (text.trim() === '')
    return emptyOk
      ? Promise.resolve(undefined)
      : Promise.reject(badRequest('the request body is empty; send a JSON object'));
  try {
    return Promise.resolve(JSON.parse(text));
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    return Promise.reject(
      badRequest(
        `the request body is not valid JSON${at !== undefined ? ` (at character ${at})` : ''}; send a JSON object`,
      ),
    );
  }
}

/** Read a body of at most `limit` bytes (413 beyond; the rest is discarded, not buffered). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    // Far beyond the limit: answer at once and drop the connection rather than read it all (a little beyond, the
    // body is read and discarded, so the client sees the 413 instead of a reset connection).
    if (Number.isFinite(declared) && declared > limit * 4 + 1024 * 1024) {
      req.on('error', () => undefined);
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (over) return reject(tooLarge(limit));
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export async function startEnvServer(
  opts: EnvServerOptions = {},
): Promise<{ server: EnvServer; url: string; port: number; host: string }> {
  const server = new EnvServer(opts);
  if (opts.prepareBackend) {
    try {
      await server.prepareBackend();
    } catch (e) {
      await server.close();
      throw e;
    }
  }
  const addr = await server.listen();
  return { server, ...addr };
}
