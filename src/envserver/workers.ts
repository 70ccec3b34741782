// `sim-arena serve --workers N`: the env server on N worker threads that share nothing. This thread (the router)
// owns the socket, keeps the table of which worker holds which env, enforces the limits that span workers (the env
// cap, each client's quota, the trace memory budget) and forwards every request to the worker that holds its env.
// A step-batch is split by worker and checked on every worker before any env moves, so a bad item still fails the
// whole batch; the results are joined in the request's order. Everything else an env does happens in its worker,
// with the same code as the one-process server (server.ts).
import { BigBodyGate } from './big-body.js';
import { listenOn } from './listen.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { registry } from '../util/metrics.js';
import { uploadedTraceBytes } from './config.js';
import { HttpError, toHttpError } from './errors.js';
import { checkContentType, checkOrigin, isLoopbackHost } from './guard.js';
import * as metrics from './metrics.js';
import { tooManyEnvs, tooManyForClient, traceBudgetUsedUp, unknownEnv } from './registry.js';
import {
  API_VERSION,
  CLIENT_TOKEN_HEADER,
  DEFAULTS,
  checkBatchBody,
  checkBatchItem,
  checkBearer,
  countRequest,
  headerValue,
  readBody,
  sha,
  writeJson,
  type EnvServerOptions,
} from './server.js';
import type { Refusal, ToWorker, WorkerData } from './worker-protocol.js';

export interface WorkerServerOptions extends Omit<EnvServerOptions, 'backendFactory' | 'onExpire'> {
  /** Worker threads (at least 1). */
  workers: number;
}

interface Held {
  worker: number;
  client: string;
  traceBytes: number;
}

type Distributive<T> = T extends unknown ? Omit<T, 'id'> : never;
type Message = Distributive<ToWorker>;
type Answer = { t: 'reply'; id: number; failed?: string } & Record<string, unknown>;

/** One worker thread and its pending calls. */
class WorkerHandle {
  private next = 1;
  private readonly calls = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  envs = 0;
  readonly ready: Promise<void>;

  constructor(
    readonly thread: Worker,
    onMessage: (m: Record<string, unknown>) => void,
  ) {
    this.ready = new Promise((resolve, reject) => {
      thread.on('message', (m: Record<string, unknown>) => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'failed') reject(new Error(String(m.message)));
        else if (m.t === 'reply') {
          const call = this.calls.get(m.id as number);
          this.calls.delete(m.id as number);
          if (m.failed !== undefined) call?.reject(new Error(String(m.failed)));
          else call?.resolve(m as Answer);
        } else onMessage(m);
      });
      thread.on('error', (e) => {
        reject(e);
        for (const c of this.calls.values()) c.reject(e);
        this.calls.clear();
      });
      thread.on('exit', (code) => {
        const e = new Error(`env server worker exited (code ${code})`);
        reject(e);
        for (const c of this.calls.values()) c.reject(e);
        this.calls.clear();
      });
    });
  }

  /** Send a message; resolves with the worker's reply. */
  call(m: Message): Promise<Answer> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.thread.postMessage({ ...m, id });
    });
  }
}

/** How a worker thread is started: the compiled .js directly, the TypeScript source through tsx. */
function spawnWorker(data: WorkerData): Worker {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new Worker(new URL('./worker-main.js', self), { workerData: data });
  const entry = new URL('./worker-main.ts', self).href;
  // tsx's ESM entry (import.meta.resolve is missing when the sources run through tsx's CommonJS transform).
  const tsx = pathToFileURL(
    createRequire(self)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

export class WorkerEnvServer {
  readonly backendName: string;
  private readonly handles: WorkerHandle[];
  private readonly server: Server;
  private readonly table = new Map<string, Held>();
  private readonly tokenHash: Buffer | undefined;
  private readonly maxEnvs: number;
  private readonly quota: number;
  private readonly budget: number;
  private readonly maxTrace: number;
  private readonly maxBody: number;
  private readonly maxBatch: number;
  private readonly idleMs: number;
  /** Creates in flight: their clients and trace bytes, counted against the limits until they end. */
  private readonly creating = new Set<{ client: string; traceBytes: number }>();
  private readonly bigBodies = new BigBodyGate();
  private rr = 0;
  private closed = false;

  constructor(private readonly opts: WorkerServerOptions) {
    if (!(Number.isInteger(opts.workers) && opts.workers >= 1))
      throw new RangeError(`workers must be a whole number of at least 1, got ${opts.workers}`);
    this.backendName = opts.backend ?? 'embedded';
    this.maxEnvs = opts.maxEnvs ?? DEFAULTS.maxEnvs;
    this.quota = opts.maxEnvsPerClient ?? Math.min(this.maxEnvs, DEFAULTS.maxEnvsPerClient);
    this.budget = opts.traceBudgetBytes ?? DEFAULTS.traceBudgetBytes;
    this.maxTrace = opts.maxTraceBytes ?? DEFAULTS.maxTraceBytes;
    this.maxBody = opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
    this.maxBatch = opts.maxBatch ?? DEFAULTS.maxBatch;
    this.idleMs = (opts.idleTimeoutSeconds ?? DEFAULTS.idleTimeoutSeconds) * 1000;
    this.tokenHash = opts.token ? sha(opts.token) : undefined;
    const data: WorkerData = {
      options: {
        host: opts.host ?? DEFAULTS.host,
        backend: opts.backend ?? 'embedded',
        backendOptions: opts.backendOptions ?? {},
        maxEnvs: this.maxEnvs,
        maxEnvsPerClient: this.quota,
        idleTimeoutSeconds: opts.idleTimeoutSeconds ?? DEFAULTS.idleTimeoutSeconds,
        maxBodyBytes: this.maxBody,
        maxBatch: this.maxBatch,
        maxTraceBytes: this.maxTrace,
        traceBudgetBytes: this.budget,
        prepareBackend: opts.prepareBackend ?? false,
        allowedOrigins: opts.allowedOrigins ?? [],
        ...(opts.token ? { token: opts.token } : {}),
      },
      log: opts.log !== undefined,
    };
    this.handles = Array.from(
      { length: opts.workers },
      () =>
        new WorkerHandle(spawnWorker(data), (m) => {
          if (m.t === 'expired') this.forget(m.ids as string[]);
          else if (m.t === 'log') this.opts.log?.(String(m.line));
        }),
    );
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  get size(): number {
    return this.table.size;
  }

  get workers(): number {
    return this.handles.length;
  }

  /** Envs each worker holds. */
  get load(): number[] {
    return this.handles.map((h) => h.envs);
  }

  /** Wait for every worker, then listen; resolves with the address bound. */
  async listen(): Promise<{ host: string; port: number; url: string }> {
    await Promise.all(this.handles.map((h) => h.ready));
    const host = this.opts.host ?? DEFAULTS.host;
    return listenOn(this.server, host, this.opts.port ?? DEFAULTS.port);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await Promise.all(
      this.handles.map(async (h) => {
        try {
          await Promise.race([h.call({ t: 'close' }), new Promise((r) => setTimeout(r, 5000).unref())]);
        } catch {
          // a worker that already died has nothing to close
        }
        await h.thread.terminate();
      }),
    );
    this.table.clear();
  }

  private forget(ids: string[]): void {
    for (const id of ids) {
      const held = this.table.get(id);
      if (!held) continue;
      this.table.delete(id);
      this.handles[held.worker]!.envs--;
    }
  }

  private nextWorker(): number {
    this.rr = (this.rr + 1) % this.handles.length;
    return this.rr;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const route = metrics.routeOf(path);
    const method = req.method ?? 'GET';
    try {
      if (route === '/metrics' && (method === 'GET' || method === 'HEAD')) {
        const body = await this.metricsText();
        res
          .writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' })
          .end(method === 'HEAD' ? undefined : body);
        metrics.requests.inc({ route, method, code: '200' });
        return;
      }
      if (path === '/healthz' && method === 'GET') {
        const text = `${JSON.stringify({ ok: true, backend: this.backendName, envs: this.table.size, workers: this.handles.length })}\n`;
        writeJson(res, 200, text);
        countRequest(route, method, 200, started);
        return;
      }
      let answer: { status: number; text: string; headers: Record<string, string> };
      if (path === `/${API_VERSION}/envs` && method === 'POST') answer = await this.create(req);
      else if (path === `/${API_VERSION}/step-batch` && method === 'POST') answer = await this.batch(req);
      else answer = await this.forward(req, this.workerOfPath(path));
      if (res.headersSent || res.destroyed) return;
      if (!req.complete) req.resume();
      writeJson(res, answer.status, answer.text, answer.headers);
    } catch (e) {
      const err = toHttpError(e);
      if (err.status >= 500) this.opts.log?.(`${method} ${req.url}: ${err.message}`);
      if (res.headersSent || res.destroyed) return;
      if (!req.complete) req.resume();
      writeJson(res, err.status, `${JSON.stringify({ error: err.message })}\n`, err.headers);
      countRequest(route, method, err.status, started, err.refused);
    }
  }

  /** The worker that holds the env a path names; any worker for other paths (they answer alike). */
  private workerOfPath(path: string): number {
    const parts = path.split('/');
    if (parts[2] === 'envs' && parts[3] !== undefined) {
      let id: string;
      try {
        id = decodeURIComponent(parts[3]);
      } catch {
        return this.nextWorker();
      }
      const held = this.table.get(id);
      if (held) return held.worker;
    }
    return this.nextWorker();
  }

  private async read(req: IncomingMessage): Promise<string | undefined> {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    return hasBody ? readBody(req, this.maxBody) : undefined;
  }

  /** Forward a request to a worker as it is; the worker answers it as the one-process server would. */
  private async forward(req: IncomingMessage, worker: number, body?: string) {
    const text = body ?? (await this.read(req));
    const a = await this.handles[worker]!.call({
      t: 'req',
      req: { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: text },
    });
    const answer = { status: a.status as number, text: a.text as string, headers: a.headers as Record<string, string> };
    if (answer.status === 200 && req.method === 'DELETE') {
      const id = (JSON.parse(answer.text) as { id?: string }).id;
      if (id) this.forget([id]);
    }
    return answer;
  }

  /** The checks every /v1 request gets first, so a refused client learns nothing about the env table. */
  private guard(req: IncomingMessage): void {
    checkOrigin(req, {
      loopback: isLoopbackHost(this.opts.host ?? DEFAULTS.host),
      allowedOrigins: this.opts.allowedOrigins ?? [],
    });
    checkBearer(req, this.tokenHash);
    checkContentType(req);
  }

  private heldBy(client: string): number {
    let n = 0;
    for (const h of this.table.values()) if (h.client === client) n++;
    for (const c of this.creating) if (c.client === client) n++;
    return n;
  }

  private heldTraceBytes(): number {
    let n = 0;
    for (const h of this.table.values()) n += h.traceBytes;
    for (const c of this.creating) n += c.traceBytes;
    return n;
  }

  /** The env cap and the client's quota, across workers; a full server first asks every worker to expire idle envs. */
  private async checkRoom(client: string): Promise<void> {
    const full = () => this.table.size + this.creating.size >= this.maxEnvs || this.heldBy(client) >= this.quota;
    if (full() && this.idleMs > 0) await Promise.all(this.handles.map((h) => h.call({ t: 'expire' })));
    if (this.table.size + this.creating.size >= this.maxEnvs) throw tooManyEnvs(this.maxEnvs, this.idleMs);
    if (this.heldBy(client) >= this.quota) throw tooManyForClient(this.quota);
  }

  private async create(req: IncomingMessage) {
    this.guard(req);
    const client = headerValue(req, CLIENT_TOKEN_HEADER) ?? '';
    await this.checkRoom(client);
    const room = { client, traceBytes: 0 };
    this.creating.add(room);
    try {
      const leave = this.bigBodies.enter(req);
      let text: string | undefined;
      try {
        text = await this.read(req);
      } finally {
        leave();
      }
      let traceBytes = 0;
      try {
        traceBytes = uploadedTraceBytes(JSON.parse(text ?? ''));
      } catch {
        // not JSON: the worker answers with the one-process server's 400
      }
      if (traceBytes > 0 && traceBytes <= this.maxTrace) {
        const free = this.budget - this.heldTraceBytes();
        if (traceBytes > free) throw traceBudgetUsedUp(traceBytes, free, this.budget);
        room.traceBytes = traceBytes;
      }
      const worker = this.leastLoaded();
      const answer = await this.forward(req, worker, text ?? '');
      if (answer.status === 201) {
        const id = (JSON.parse(answer.text) as { id: string }).id;
        this.table.set(id, { worker, client, traceBytes: room.traceBytes });
        this.handles[worker]!.envs++;
      }
      return answer;
    } finally {
      this.creating.delete(room);
    }
  }

  private leastLoaded(): number {
    let best = 0;
    for (let w = 1; w < this.handles.length; w++) if (this.handles[w]!.envs < this.handles[best]!.envs) best = w;
    return best;
  }

  /**
   * A step-batch across workers. The router checks what it can see (the shape of each item and that its env exists),
   * every worker checks its own items (ownership, actions, episodes waiting for a reset); the first bad item in the
   * request's order fails the whole batch and no env moves. Otherwise every worker runs its items.
   */
  private async batch(req: IncomingMessage) {
    this.guard(req);
    const client = headerValue(req, CLIENT_TOKEN_HEADER);
    const text = (await this.read(req)) ?? '';
    let steps: unknown[];
    try {
      steps = checkBatchBody(JSON.parse(text), this.maxBatch);
    } catch {
      // Not JSON or not a batch: the worker gives the one-process server's answer.
      return this.forward(req, this.nextWorker(), text);
    }
    const groups = new Map<number, { items: unknown[]; indices: number[] }>();
    const seen = new Set<string>();
    let first: HttpError | undefined;
    let firstAt = Infinity;
    for (let i = 0; i < steps.length; i++) {
      const item = steps[i];
      const where = `steps[${i}]`;
      try {
        checkBatchItem(item, where, seen);
        const id = item.id;
        const held = this.table.get(id);
        if (!held) throw new HttpError(404, `${where}: ${unknownEnv(id).message}`);
        let g = groups.get(held.worker);
        if (!g) groups.set(held.worker, (g = { items: [], indices: [] }));
        g.items.push(item);
        g.indices.push(i);
      } catch (e) {
        first = toHttpError(e);
        firstAt = i;
        break;
      }
    }
    const entries = [...groups.entries()];
    const runAtOnce = first === undefined && entries.length === 1;
    const answers = await Promise.all(
      entries.map(([w, g]) =>
        this.handles[w]!.call({ t: 'batch', client, items: g.items, indices: g.indices, run: runAtOnce }).then((a) => ({
          w,
          a,
        })),
      ),
    );
    let refusal: Refusal | undefined;
    for (const { a } of answers) {
      const r = a.refused as Refusal | undefined;
      if (r && (refusal === undefined || r.index < refusal.index)) refusal = r;
    }
    if (first !== undefined && (refusal === undefined || firstAt < refusal.index))
      refusal = { index: firstAt, status: first.status, message: first.message, headers: first.headers };
    if (refusal) {
      for (const { w, a } of answers) if (a.held) void this.handles[w]!.call({ t: 'drop', ref: a.id });
      return {
        status: refusal.status,
        text: `${JSON.stringify({ error: refusal.message })}\n`,
        headers: refusal.headers,
      };
    }
    const ran = runAtOnce
      ? answers
      : await Promise.all(
          answers.map(({ w, a }) => this.handles[w]!.call({ t: 'run', ref: a.id }).then((r) => ({ w, a: r }))),
        );
    const out = new Array<string>(steps.length);
    ran.forEach(({ w }, k) => {
      const results = ran[k]!.a.results as string[];
      const indices = groups.get(w)!.indices;
      for (let j = 0; j < indices.length; j++) out[indices[j]!] = results[j]!;
    });
    return { status: 200, text: `{"results":[${out.join(',')}]}\n`, headers: {} };
  }

  /** The router's own metrics and every worker's env server metrics, summed (prom-client's aggregator). */
  private async metricsText(): Promise<string> {
    const own = await registry.getMetricsAsJSON();
    const theirs = await Promise.all(this.handles.map((h) => h.call({ t: 'metrics' })));
    const all = [own, ...theirs.map((a) => a.metrics as MetricObjectWithValues<MetricValue<string>>[])];
    return AggregatorRegistry.aggregate(all).metrics();
  }
}

export async function startWorkerEnvServer(
  opts: WorkerServerOptions,
): Promise<{ server: WorkerEnvServer; url: string; port: number; host: string }> {
  const server = new WorkerEnvServer(opts);
  try {
    const addr = await server.listen();
    return { server, ...addr };
  } catch (e) {
    await server.close();
    throw e;
  }
}
