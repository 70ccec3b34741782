import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { createLogger, type Logger } from '../util/log.js';
import { backoffDelay, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
import { apiErrorMessage } from '../kube/errors.js';
import { kubeRequest } from '../kube/request.js';
import { objectKey } from './keys.js';
import { informerLists, informerWatchRestarts } from './metrics.js';

export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (obj: T, type: InformerEventType) => void;

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Collection path to list and watch, e.g. /api/v1/namespaces/ns/configmaps or /apis/simarena.io/v1alpha1/arenaepisodes. */
  path: string;
  name?: string;
  /** LIST call; defaults to a GET of `path` with the selectors. */
  list?: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit every cached object as 'resync' this often. Default 300000; 0 disables. */
  resyncMs?: number;
  /** Restart the list+watch when nothing (event, bookmark, reconnect) arrived for this long. Default 180000; 0 disables. */
  idleTimeoutMs?: number;
  /** Server-side watch timeout; the server then closes the watch cleanly and it is resumed. Default: server's choice. */
  watchTimeoutSeconds?: number;
  /** Delay before restarting after an error. Default 1 s doubling to 30 s. */
  restartBackoff?: BackoffOptions;
  logger?: Logger;
}

/**
 * A ListWatch whose stream is cut off for good once retired: a watch still connecting when the
 * informer restarts is aborted as soon as it connects, and nothing from it reaches the ListWatch.
 */
class GenerationWatch extends Watch {
  private retired = false;
  private readonly open = new Set<AbortController>();

  constructor(
    kc: KubeConfig,
    private readonly extraQuery: Record<string, string | number | boolean | undefined>,
    private readonly onLine: () => void,
  ) {
    super(kc);
  }

  // client-node's Watch.watch signature, which types the watched objects as any.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    /* eslint-enable @typescript-eslint/no-explicit-any */
    if (this.retired) return new AbortController();
    let controller: AbortController | undefined;
    let finished = false;
    const onLine = (phase: string, obj: unknown, raw: unknown): void => {
      if (this.retired) return;
      this.onLine();
      callback(phase, obj, raw);
    };
    const onDone = (err: unknown): void => {
      finished = true;
      if (controller) this.open.delete(controller);
      if (!this.retired) done(err);
    };
    try {
      controller = await super.watch(path, { ...query, ...this.extraQuery }, onLine, onDone);
    } catch (err) {
      // ListWatch calls watch() from a callback nobody awaits; report through done instead of rejecting.
      setImmediate(() => onDone(err));
      return new AbortController();
    }
    if (this.retired) controller.abort();
    else if (!finished) this.open.add(controller);
    return controller;
  }

  retire(): void {
    this.retired = true;
    for (const c of this.open) c.abort();
    this.open.clear();
  }
}

interface Generation<T extends KubernetesObject> {
  id: number;
  lw: ListWatch<T>;
  watch: GenerationWatch;
}

/**
 * A cache of one resource kept current by client-node's ListWatch, hardened for long runs:
 * restarts after errors with backoff (never after stop()), restarts a silent (half-open) stream,
 * and periodically re-emits every cached object. Each (re)start is a fresh ListWatch; the cache here
 * survives restarts and the relist after a restart emits deletes for objects that vanished meanwhile.
 */
export class Informer<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  private readonly kc: KubeConfig;
  private readonly path: string;
  private readonly labelSelector: string | undefined;
  private readonly fieldSelector: string | undefined;
  private readonly listFn: () => Promise<KubernetesListObject<T>>;
  private readonly resyncMs: number;
  private readonly idleTimeoutMs: number;
  private readonly extraQuery: Record<string, string | number | boolean | undefined>;
  private readonly backoff: ResolvedBackoff;
  private readonly log: Logger;

  private readonly cache = new Map<string, T>();
  private handlers: Array<InformerHandler<T>> = [];
  private current: Generation<T> | undefined;
  private generation = 0;
  private started = false;
  private stopped = false;
  private isSynced = false;
  private failures = 0;
  private lastActivity = Date.now();
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private restartCount = 0;
  private readonly synced: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (err: Error) => void;

  constructor(opts: InformerOptions<T>) {
    this.kc = opts.kc;
    this.path = opts.path;
    this.name = opts.name ?? opts.path;
    this.labelSelector = opts.labelSelector;
    this.fieldSelector = opts.fieldSelector;
    this.listFn =
      opts.list ??
      (() =>
        kubeRequest<KubernetesListObject<T>>(this.kc, {
          method: 'GET',
          path: this.path,
          query: { labelSelector: this.labelSelector, fieldSelector: this.fieldSelector },
        }));
    this.resyncMs = opts.resyncMs ?? 300_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 180_000;
    this.extraQuery = { allowWatchBookmarks: true, timeoutSeconds: opts.watchTimeoutSeconds };
    this.backoff = resolveBackoff({ baseMs: 1000, maxMs: 30_000, ...opts.restartBackoff });
    this.log = opts.logger ?? createLogger(`informer/${this.name}`);
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => undefined); // stop() before sync must not become an unhandled rejection
  }

  /** Registers a handler; returns a function that unregisters it. */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }

  start(): void {
    if (this.started) throw new Error(`informer ${this.name} was already started`);
    this.started = true;
    this.startGeneration();
    if (this.idleTimeoutMs > 0) {
      const every = Math.max(20, Math.min(this.idleTimeoutMs / 4, 15_000));
      this.watchdogTimer = setInterval(() => this.checkIdle(), every);
      this.watchdogTimer.unref();
    }
    if (this.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdogTimer);
    clearInterval(this.resyncTimer);
    this.retire();
    if (!this.isSynced) this.rejectSynced(new Error(`informer ${this.name} stopped before it synced`));
  }

  /** Resolves after the first complete list has been applied to the cache. */
  hasSynced(): Promise<void> {
    return this.synced;
  }

  get synchronized(): boolean {
    return this.isSynced;
  }

  /** How many times the list+watch was restarted (after errors or a silent stream). */
  get restarts(): number {
    return this.restartCount;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Drops the current stream and starts a fresh list+watch now. */
  restart(reason: string): void {
    if (this.stopped || !this.started) return;
    this.log.info('Restarting list+watch', { reason });
    clearTimeout(this.restartTimer);
    this.retire();
    this.restartCount++;
    informerWatchRestarts.inc({
      resource: this.path,
      reason: reason.startsWith('no watch activity') ? 'idle' : 'requested',
    });
    this.startGeneration();
  }

  private startGeneration(): void {
    const id = ++this.generation;
    const watch = new GenerationWatch(this.kc, this.extraQuery, () => this.touch(id, true));
    const lw = new ListWatch<T>(
      this.path,
      watch,
      () => this.listFor(id),
      false,
      this.labelSelector,
      this.fieldSelector,
    );
    lw.on('add', (o) => this.upsert(id, o));
    lw.on('update', (o) => this.upsert(id, o));
    lw.on('delete', (o) => this.remove(id, o));
    lw.on('connect', () => this.touch(id, false));
    lw.on('error', (err) => this.failed(id, err));
    this.current = { id, lw, watch };
    this.lastActivity = Date.now();
    lw.start().catch((err: unknown) => this.failed(id, err));
  }

  private retire(): void {
    const gen = this.current;
    this.current = undefined;
    if (!gen) return;
    gen.watch.retire();
    void gen.lw.stop();
  }

  private async listFor(id: number): Promise<KubernetesListObject<T>> {
    const list = await this.listFn();
    informerLists.inc({ resource: this.path });
    if (id === this.generation && !this.stopped) this.applyList(list);
    return list;
  }

  private applyList(list: KubernetesListObject<T>): void {
    // List items carry no apiVersion/kind; restore them so handlers see whole objects.
    const kind = list.kind?.endsWith('List') ? list.kind.slice(0, -4) : undefined;
    const seen = new Set<string>();
    for (const item of list.items ?? []) {
      if (kind && !item.kind) item.kind = kind;
      if (list.apiVersion && !item.apiVersion) item.apiVersion = list.apiVersion;
      seen.add(objectKey(item));
      this.store(item);
    }
    for (const [key, obj] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit(obj, 'delete');
      }
    }
    this.lastActivity = Date.now();
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
    }
  }

  private upsert(id: number, obj: T): void {
    if (id !== this.generation || this.stopped) return;
    this.store(obj);
  }

  private store(obj: T): void {
    const key = objectKey(obj);
    const prev = this.cache.get(key);
    const rv = obj.metadata?.resourceVersion;
    if (prev && rv !== undefined && prev.metadata?.resourceVersion === rv) return;
    this.cache.set(key, obj);
    this.emit(obj, prev ? 'update' : 'add');
  }

  private remove(id: number, obj: T): void {
    if (id !== this.generation || this.stopped) return;
    const key = objectKey(obj);
    if (!this.cache.delete(key)) return;
    this.emit(obj, 'delete');
  }

  private touch(id: number, fromStream: boolean): void {
    if (id !== this.generation) return;
    this.lastActivity = Date.now();
    if (fromStream) this.failures = 0;
  }

  private failed(id: number, err: unknown): void {
    if (this.stopped || id !== this.generation || !this.current) return;
    this.retire();
    const delay = backoffDelay(this.failures, this.backoff, Math.random);
    this.failures++;
    this.log.warn('List/watch failed; restarting after backoff', { error: apiErrorMessage(err), retryInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.restartCount++;
      informerWatchRestarts.inc({ resource: this.path, reason: 'error' });
      this.startGeneration();
    }, delay);
  }

  private checkIdle(): void {
    if (this.stopped || !this.current) return;
    const idle = Date.now() - this.lastActivity;
    if (idle > this.idleTimeoutMs) this.restart(`no watch activity for ${idle} ms`);
  }

  private resync(): void {
    if (this.stopped || !this.isSynced) return;
    for (const obj of this.cache.values()) this.emit(obj, 'resync');
  }

  private emit(obj: T, type: InformerEventType): void {
    for (const h of this.handlers) {
      try {
        h(obj, type);
      } catch (err) {
        this.log.error('Informer handler threw', { type, key: objectKey(obj), error: apiErrorMessage(err) });
      }
    }
  }
}
