// The episode's traces in ConfigMaps: the user's starting trace, and the edited trace of each step in a
// content-addressed ConfigMap owned by the episode (its name carries a hash of its bytes, so the name fixes the
// content and a repeated create is harmless). Reads go through a cache of bytes that cannot change.
import { createHash } from 'node:crypto';
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { InvalidEpisode, type ArenaEpisode } from '../api/episode.js';
import {
  EPISODE_LABEL,
  EPISODE_UID_LABEL,
  GROUP,
  KIND,
  MANAGED_BY,
  ROLE_LABEL,
  SHA256_ANNOTATION,
  STEP_ANNOTATION,
  TRACE_KEY,
  VERSION,
} from '../api/names.js';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import { decodeTrace, encodeTrace, type Trace } from '../trace/trace.js';
import { BoundedMap } from '../util/bounded-map.js';

/** ConfigMaps hold at most 1 MiB; leave room for metadata. */
const MAX_TRACE_BYTES = 1_000_000;
/** Bytes of traces kept across reconciles. */
const CACHE_BYTES = 64 * 1024 * 1024;

/** The data key of trace ConfigMap `name`: the spec's key for the starting trace, TRACE_KEY for the operator's own. */
export function traceKeyOf(ep: ArenaEpisode, name: string): string {
  const ref = ep.spec.trace.configMapRef;
  return name === ref.name ? (ref.key ?? TRACE_KEY) : TRACE_KEY;
}

/** The name of the operator's trace ConfigMap for these bytes: `<episode>-trace-<sha256[:12]>`. */
export function traceConfigMapName(episodeName: string, bytes: Uint8Array): string {
  return `${episodeName.slice(0, 40)}-trace-${sha256(bytes).slice(0, 12)}`;
}

/** Whether `name` is one of the operator's trace ConfigMap names for exactly these bytes. */
export function isContentAddressed(name: string, bytes: Uint8Array): boolean {
  const m = /-trace-([0-9a-f]{12})$/.exec(name);
  return !!m && sha256(bytes).slice(0, 12) === m[1];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class TraceStore {
  /**
   * Trace bytes that cannot change: the operator's own content-addressed trace ConfigMaps (`<ns>/<name>/<key>`),
   * each episode's starting trace as first read (`start:<uid>`) and the trace of each run in flight
   * (`run:<uid>/<run name>`).
   */
  private readonly cache = new BoundedMap<string, Uint8Array>({
    maxWeight: CACHE_BYTES,
    weigh: (b) => b.length,
    lru: true,
  });
  /** Trace bytes read or written during one reconcile (keyed by the episode object of that reconcile). */
  private readonly memo = new WeakMap<ArenaEpisode, Map<string, Uint8Array>>();
  /** Trace ConfigMaps decided in this reconcile but not created yet: only the ones a status write names are made. */
  private readonly unsent = new WeakMap<ArenaEpisode, Map<string, V1ConfigMap>>();
  /** Trace ConfigMaps written per episode uid since its last collection. */
  private readonly written = new BoundedMap<string, number>({ maxEntries: 100_000 });

  constructor(private readonly core: CoreV1Api) {}

  /** A trace ConfigMap's trace, decoded afresh (callers edit it); only the bytes are cached. */
  async read(ep: ArenaEpisode, name: string): Promise<Trace> {
    return decodeTrace(await this.readBytes(ep, name)).trace;
  }

  /** The trace the episode is at: its last step's, or the starting one. */
  current(ep: ArenaEpisode): Promise<Trace> {
    return this.read(ep, ep.status?.traceConfigMap ?? ep.spec.trace.configMapRef.name);
  }

  async readBytes(ep: ArenaEpisode, name: string): Promise<Uint8Array> {
    const namespace = ep.metadata!.namespace!;
    const key = traceKeyOf(ep, name);
    // The starting trace is read once per episode (and again after a restart): edits to the user's ConfigMap
    // during an episode do not reach it.
    const starting = name === ep.spec.trace.configMapRef.name;
    const cacheKey = starting ? `start:${ep.metadata!.uid}` : `${namespace}/${name}/${key}`;
    let memo = this.memo.get(ep);
    const hit = memo?.get(cacheKey) ?? this.cache.get(cacheKey);
    if (hit) return hit;
    const bytes = await this.fetch(namespace, name, key);
    if (!memo) this.memo.set(ep, (memo = new Map()));
    memo.set(cacheKey, bytes);
    if (starting || (key === TRACE_KEY && isContentAddressed(name, bytes))) this.cache.set(cacheKey, bytes);
    return bytes;
  }

  /** The bytes a run replays: one fixed trace, read once per run rather than on every poll. */
  async runBytes(ep: ArenaEpisode, runName: string, name: string): Promise<Uint8Array> {
    const runKey = `run:${ep.metadata!.uid}/${runName}`;
    let bytes = this.cache.get(runKey);
    if (!bytes) {
      bytes = await this.readBytes(ep, name);
      this.cache.set(runKey, bytes);
    }
    return bytes;
  }

  forgetRun(ep: ArenaEpisode, runName: string): void {
    this.cache.delete(`run:${ep.metadata!.uid}/${runName}`);
  }

  forgetStart(ep: ArenaEpisode): void {
    this.cache.delete(`start:${ep.metadata!.uid}`);
  }

  private async fetch(namespace: string, name: string, key: string): Promise<Uint8Array> {
    let cm: V1ConfigMap;
    try {
      cm = await this.core.readNamespacedConfigMap({ name, namespace });
    } catch (e) {
      if (isNotFound(e))
        throw new InvalidEpisode(
          `ConfigMap ${namespace}/${name} does not exist; create it with: kubectl create configmap ${name} -n ${namespace} --from-file=${key}=TRACE.msgpack`,
        );
      throw e;
    }
    const b64 = cm.binaryData?.[key];
    const text = cm.data?.[key];
    if (b64 === undefined && text === undefined) {
      const keys = [...Object.keys(cm.binaryData ?? {}), ...Object.keys(cm.data ?? {})];
      throw new InvalidEpisode(
        `ConfigMap ${namespace}/${name} has no key "${key}"${keys.length ? ` (it has: ${keys.join(', ')}); set spec.trace.configMapRef.key` : ''}`,
      );
    }
    return b64 !== undefined ? Buffer.from(b64, 'base64') : Buffer.from(text!, 'base64');
  }

  /**
   * Store a trace in a content-addressed ConfigMap owned by the episode (AlreadyExists means: same bytes). With
   * `defer` it is only made once a status write names it (`createNamed`).
   */
  async store(ep: ArenaEpisode, trace: Trace, step: number, defer = false): Promise<string> {
    const bytes = encodeTrace(trace);
    if (bytes.length > MAX_TRACE_BYTES)
      throw new InvalidEpisode(
        `the edited trace is ${bytes.length} bytes, more than a ConfigMap holds (1 MiB); use a smaller trace`,
      );
    const name = traceConfigMapName(ep.metadata!.name!, bytes);
    const body: V1ConfigMap = {
      metadata: {
        name,
        namespace: ep.metadata!.namespace!,
        labels: {
          ...MANAGED_BY,
          [EPISODE_LABEL]: ep.metadata!.name!.slice(0, 63),
          [EPISODE_UID_LABEL]: ep.metadata!.uid!,
          [ROLE_LABEL]: 'trace',
        },
        annotations: { [STEP_ANNOTATION]: String(step), [SHA256_ANNOTATION]: sha256(bytes) },
        ownerReferences: [
          {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: KIND,
            name: ep.metadata!.name!,
            uid: ep.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      binaryData: { [TRACE_KEY]: Buffer.from(bytes).toString('base64') },
    };
    this.cache.set(`${ep.metadata!.namespace!}/${name}/${TRACE_KEY}`, bytes);
    if (defer) {
      let unsent = this.unsent.get(ep);
      if (!unsent) this.unsent.set(ep, (unsent = new Map()));
      unsent.set(name, body);
    } else {
      await this.create(ep, body);
    }
    return name;
  }

  /** Creates the deferred trace ConfigMaps among `names` (what a status about to be written names). */
  async createNamed(ep: ArenaEpisode, names: Iterable<string | undefined>): Promise<void> {
    const unsent = this.unsent.get(ep);
    if (!unsent) return;
    for (const name of new Set(names)) {
      const body = name ? unsent.get(name) : undefined;
      if (body) await this.create(ep, body);
    }
  }

  /** Forgets the deferred trace ConfigMaps of this reconcile (written, or decided again after a failure). */
  dropUnsent(ep: ArenaEpisode): void {
    this.unsent.delete(ep);
  }

  /** Trace ConfigMaps created for this episode since its last collection. */
  writtenSinceCollection(ep: ArenaEpisode): number {
    return this.written.get(ep.metadata!.uid!) ?? 0;
  }

  private async create(ep: ArenaEpisode, body: V1ConfigMap): Promise<void> {
    try {
      await this.core.createNamespacedConfigMap({ namespace: ep.metadata!.namespace!, body });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const uid = ep.metadata!.uid!;
    this.written.set(uid, (this.written.get(uid) ?? 0) + 1);
  }

  /**
   * Delete the trace ConfigMaps this episode wrote (selected by its uid, so never the user's starting ConfigMap nor
   * another episode's) except the ones still in use, in one request.
   */
  async collect(ep: ArenaEpisode, keep: string | undefined): Promise<void> {
    this.written.delete(ep.metadata!.uid!);
    const inUse = [...new Set([keep, ep.status?.pending?.traceConfigMap].filter((n): n is string => !!n))];
    await this.core.deleteCollectionNamespacedConfigMap({
      namespace: ep.metadata!.namespace!,
      labelSelector: `${EPISODE_UID_LABEL}=${ep.metadata!.uid},${ROLE_LABEL}=trace`,
      ...(inUse.length ? { fieldSelector: inUse.map((n) => `metadata.name!=${n}`).join(',') } : {}),
    });
  }
}
