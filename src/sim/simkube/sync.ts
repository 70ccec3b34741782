// trace-sync's work on one node: copy trace ConfigMaps to <dir>/<name>.sktrace and report back on the ConfigMap
// (see contract.ts). Runs in the DaemonSet (`sim-arena trace-sync`) and in-process in tests.
import { chmod, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../util/log.js';
import { apiErrorMessage, isNotFound } from '../../kube/errors.js';
import { Informer } from '../../controller/informer.js';
import { decodeTrace, TraceError } from '../../trace/trace.js';
import {
  configMapTraceBytes,
  INVALID_TRACE_PREFIX,
  sha256Hex,
  syncedAnnotation,
  syncErrorAnnotation,
  TRACE_FILE_SUFFIX,
  TRACE_KEY,
  traceFileName,
} from './contract.js';
import { TRACE_LABEL } from '../../api/names.js';
import { Kube, type Obj } from '../../kube/client.js';

export interface TraceSyncOptions {
  dir: string;
  namespace: string;
  node: string;
  /** Label selector for trace ConfigMaps. Default simarena.io/trace=true. */
  selector?: string;
  key?: string;
  logger?: Logger;
}

export interface TraceConfigMap extends Obj {
  binaryData?: Record<string, string>;
  data?: Record<string, string>;
}

export type SyncOutcome = 'written' | 'unchanged' | 'invalid' | 'error' | 'missing-key';

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class TraceSyncer {
  readonly dir: string;
  readonly namespace: string;
  readonly node: string;
  readonly selector: string;
  readonly key: string;
  private readonly log: Logger;

  constructor(
    private readonly kube: Kube,
    opts: TraceSyncOptions,
  ) {
    this.dir = path.resolve(opts.dir);
    this.namespace = opts.namespace;
    this.node = opts.node;
    this.selector = opts.selector ?? `${TRACE_LABEL}=true`;
    this.key = opts.key ?? TRACE_KEY;
    this.log = opts.logger ?? createLogger('trace-sync');
    if (!this.node)
      throw new Error('trace-sync needs a node name (--node, or env NODE_NAME from the downward API spec.nodeName)');
  }

  private cmPath(name: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps/${encodeURIComponent(name)}`;
  }

  filePath(name: string): string {
    return path.join(this.dir, traceFileName(name));
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
  }

  /** Writes one ConfigMap's trace (when valid and changed) and records the outcome on the ConfigMap. */
  async sync(cm: TraceConfigMap): Promise<SyncOutcome> {
    const name = cm.metadata?.name;
    if (!name || !NAME_RE.test(name)) return 'error';
    const ann = cm.metadata?.annotations ?? {};
    const syncedKey = syncedAnnotation(this.node);
    const errorKey = syncErrorAnnotation(this.node);
    const bytes = configMapTraceBytes(cm, this.key);
    if (!bytes) {
      await this.report(name, ann, {
        [errorKey]: `${INVALID_TRACE_PREFIX}the ConfigMap has no binaryData key "${this.key}"`,
        [syncedKey]: null,
      });
      return 'missing-key';
    }
    const sha = sha256Hex(bytes);
    if ((await this.fileSha(name)) === sha) {
      await this.report(name, ann, { [syncedKey]: sha, [errorKey]: null });
      return 'unchanged';
    }
    try {
      decodeTrace(bytes);
    } catch (e) {
      const problem = e instanceof TraceError ? e.message : (e as Error).message;
      this.log.warn('Not writing an invalid trace', { configMap: name, problem });
      await this.removeFile(name);
      await this.report(name, ann, {
        [errorKey]: `${INVALID_TRACE_PREFIX}${problem}`.slice(0, 1000),
        [syncedKey]: null,
      });
      return 'invalid';
    }
    try {
      await this.writeAtomic(name, bytes);
    } catch (e) {
      const problem = (e as Error).message;
      this.log.error('Could not write trace', { configMap: name, problem });
      await this.report(name, ann, {
        [errorKey]: `write ${this.filePath(name)}: ${problem}`.slice(0, 1000),
        [syncedKey]: null,
      });
      return 'error';
    }
    this.log.info('Wrote trace', { configMap: name, bytes: bytes.length, sha256: sha });
    await this.report(name, ann, { [syncedKey]: sha, [errorKey]: null });
    return 'written';
  }

  /** Removes trace files whose ConfigMap is gone (only `*.sktrace` files and our own temp files). */
  async prune(existing: Iterable<string>): Promise<string[]> {
    const keep = new Set(existing);
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return removed;
    }
    for (const f of entries) {
      if (f.startsWith('.') && f.includes('.sktrace.tmp-')) {
        // a temp file from a write that never finished (ours are never in flight during prune: writes are awaited)
        if (!f.endsWith(`.tmp-${process.pid}`)) await rm(path.join(this.dir, f), { force: true });
        continue;
      }
      if (!f.endsWith(TRACE_FILE_SUFFIX)) continue;
      const name = f.slice(0, -TRACE_FILE_SUFFIX.length);
      if (keep.has(name)) continue;
      await this.removeFile(name);
      removed.push(name);
    }
    return removed;
  }

  async removeFile(name: string): Promise<void> {
    await rm(this.filePath(name), { force: true });
  }

  /** Lists every trace ConfigMap once, syncs each and prunes the rest. */
  async syncAll(): Promise<Map<string, SyncOutcome>> {
    await this.init();
    const cms = await this.kube.list<TraceConfigMap>(
      `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps`,
      { labelSelector: this.selector },
    );
    const out = new Map<string, SyncOutcome>();
    for (const cm of cms) {
      const name = cm.metadata?.name ?? '';
      try {
        out.set(name, await this.sync(cm));
      } catch (e) {
        this.log.error('Sync failed', { configMap: name, error: apiErrorMessage(e) });
        out.set(name, 'error');
      }
    }
    await this.prune(cms.map((c) => c.metadata?.name ?? ''));
    return out;
  }

  private async fileSha(name: string): Promise<string | undefined> {
    try {
      return sha256Hex(await readFile(this.filePath(name)));
    } catch {
      return undefined;
    }
  }

  private async writeAtomic(name: string, bytes: Uint8Array): Promise<void> {
    await this.init();
    const final = this.filePath(name);
    const tmp = path.join(this.dir, `.${traceFileName(name)}.tmp-${process.pid}`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The driver runs as UID 65532: the file must be world-readable whatever the umask.
    await chmod(tmp, 0o644);
    await rename(tmp, final);
  }

  /** Merge-patches the annotations that differ (null removes). A vanished ConfigMap is fine. */
  private async report(
    name: string,
    current: Record<string, string>,
    want: Record<string, string | null>,
  ): Promise<void> {
    const patch: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(want)) {
      if (v === null ? k in current : current[k] !== v) patch[k] = v;
    }
    if (Object.keys(patch).length === 0) return;
    try {
      await this.kube.mergePatch(this.cmPath(name), { metadata: { annotations: patch } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/**
 * Keeps the directory in step with the ConfigMaps until stopped: an informer on the trace ConfigMaps, one sync at a
 * time (events are coalesced per ConfigMap), deletes remove the file.
 */
export class TraceSyncLoop {
  private readonly informer: Informer<KubernetesObject>;
  private readonly pending = new Map<string, TraceConfigMap | null>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly failed = new Set<string>();

  constructor(
    kc: KubeConfig,
    readonly syncer: TraceSyncer,
    opts: { logger?: Logger; resyncMs?: number } = {},
  ) {
    this.log = opts.logger ?? createLogger('trace-sync');
    this.informer = new Informer<KubernetesObject>({
      kc,
      path: `/api/v1/namespaces/${encodeURIComponent(syncer.namespace)}/configmaps`,
      labelSelector: syncer.selector,
      name: 'trace-configmaps',
      resyncMs: opts.resyncMs ?? 60_000,
      logger: this.log,
    });
    this.informer.on((obj, type) => {
      const name = obj.metadata?.name;
      if (!name) return;
      this.pending.set(name, type === 'delete' ? null : (obj as TraceConfigMap));
      this.kick();
    });
  }

  async start(): Promise<void> {
    await this.syncer.init();
    this.informer.start();
    await this.informer.hasSynced();
    await this.idle();
    await this.syncer.prune(this.informer.list().map((c) => c.metadata?.name ?? ''));
  }

  /** Resolves once everything queued so far has been handled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer.stop();
    await this.idle();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.size && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const [name, cm] = this.pending.entries().next().value as [string, TraceConfigMap | null];
      this.pending.delete(name);
      try {
        if (cm === null) {
          await this.syncer.removeFile(name);
          this.log.info('Removed trace of deleted ConfigMap', { configMap: name });
        } else {
          await this.syncer.sync(cm);
        }
      } catch (e) {
        this.log.error('Sync failed; retrying in 5s', { configMap: name, error: apiErrorMessage(e) });
        this.failed.add(name);
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          for (const n of this.failed) {
            const latest = this.informer.get(n, this.syncer.namespace);
            if (!this.pending.has(n)) this.pending.set(n, (latest as TraceConfigMap | undefined) ?? null);
          }
          this.failed.clear();
          this.kick();
        }, 5000);
        this.retryTimer.unref();
      }
    }
  }
}
