// Writing an ArenaEpisode's status, and knowing which copy of the episode is newest without asking.
// - Every write names the resourceVersion it was computed from, so a write from a stale copy fails with a Conflict
//   (the reconciler then starts again from a fresh read) instead of repeating a transition.
// - The answer to each write is kept (the own-write cache): the next reconcile starts from it unless the informer
//   holds a version we did not write.
// - A deferred write only applies the change to the episode object; it is sent with the next write, together with the
//   Events about it and the trace ConfigMaps it names (see reconciler.ts on batched in-process steps).
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { ArenaEpisode, ArenaEpisodeStatus } from '../api/episode.js';
import { GROUP, PLURAL, VERSION } from '../api/names.js';
import { setCondition, type Condition } from '../controller/conditions.js';
import type { EventRecorder } from '../controller/events.js';
import { patchCustomObjectStatus } from '../kube/custom-objects.js';
import { isNotFound } from '../kube/errors.js';
import { BoundedMap, BoundedSet } from '../util/bounded-map.js';
import type { TraceStore } from './trace-store.js';

export type StatusPatch = Partial<ArenaEpisodeStatus>;
export type ConditionChange = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

interface UnsentEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export interface StatusWriterOptions {
  custom: CustomObjectsApi;
  traces: TraceStore;
  events?: EventRecorder;
  /** The informer's copy of an episode (never modified here), used when it is exactly our last write. */
  cached?: (namespace: string, name: string) => ArenaEpisode | undefined;
  now: () => Date;
}

export class StatusWriter {
  /**
   * Per episode key (`namespace/name`): our newest copy (the answer to our last write) and the resourceVersions it
   * went through since we last read someone else's (that read's version first). An informer copy at one of those
   * versions is older than ours.
   */
  private readonly own = new BoundedMap<string, { ep: ArenaEpisode; versions: string[] }>({ maxEntries: 100_000 });
  /** Episodes whose last write conflicted: read live next time. */
  private readonly readLive = new BoundedSet<string>(100_000);
  /** Status changes applied to an episode object but not yet written (see write's `defer`). */
  private readonly unsent = new WeakMap<
    ArenaEpisode,
    { patch: StatusPatch; written: ArenaEpisodeStatus | undefined; events: UnsentEvent[]; effects: Array<() => void> }
  >();

  constructor(private readonly opts: StatusWriterOptions) {}

  /**
   * The newest copy of an episode we know, without asking when we can: our own last write, unless the informer holds
   * a version we did not write (someone else's change). A stale start costs a Conflict on the first write, never a
   * repeat. Undefined when the episode is gone.
   */
  async load(key: string, namespace: string, name: string): Promise<ArenaEpisode | undefined> {
    const cached = this.readLive.has(key) ? undefined : this.opts.cached?.(namespace, name);
    const own = this.own.get(key);
    if (cached && own && own.versions.includes(cached.metadata?.resourceVersion ?? '')) return structuredClone(own.ep);
    let ep: ArenaEpisode;
    if (cached) {
      ep = structuredClone(cached);
    } else {
      try {
        ep = (await this.opts.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
        })) as ArenaEpisode;
      } catch (e) {
        if (isNotFound(e)) {
          this.own.delete(key);
          this.readLive.delete(key);
          return undefined;
        }
        throw e;
      }
      this.readLive.delete(key);
    }
    this.remember(key, ep, false);
    return ep;
  }

  /** Someone else changed the episode since the copy we started from: the next load reads it live. */
  conflicted(key: string): void {
    this.own.delete(key);
    this.readLive.add(key);
  }

  /**
   * Merge-patches the status, only onto the version of the episode `ep` was read at (else the write fails with a
   * Conflict). With `defer` the change is only applied to `ep` and sent with the next write.
   */
  async write(
    ep: ArenaEpisode,
    patch: StatusPatch,
    conditions: ConditionChange[] = [],
    opts: { defer?: boolean } = {},
  ): Promise<void> {
    const generation = ep.metadata?.generation ?? 0;
    let conds = ep.status?.conditions ?? [];
    for (const c of conditions) conds = setCondition(conds, { ...c, observedGeneration: generation }, this.opts.now());
    const unsent = this.unsent.get(ep);
    const status: StatusPatch = { ...unsent?.patch, ...patch, observedGeneration: generation, conditions: conds };
    if (opts.defer) {
      this.unsent.set(ep, {
        patch: status,
        written: unsent ? unsent.written : ep.status,
        events: unsent?.events ?? [],
        effects: unsent?.effects ?? [],
      });
      ep.status = withoutNulls({ ...ep.status, ...status });
      return;
    }
    // The traces this status names exist before it does.
    const next = withoutNulls({ ...ep.status, ...status });
    await this.opts.traces.createNamed(ep, [next.traceConfigMap, next.pending?.traceConfigMap]);
    const updated = (await patchCustomObjectStatus(
      this.opts.custom,
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: ep.metadata!.namespace!, name: ep.metadata!.name! },
      status,
      ep.metadata?.resourceVersion,
    )) as ArenaEpisode;
    this.unsent.delete(ep);
    this.opts.traces.dropUnsent(ep);
    for (const e of unsent?.events ?? []) this.event(ep, e.type, e.reason, e.action, e.note);
    for (const f of unsent?.effects ?? []) f();
    // Later transitions in this reconcile see what we just wrote.
    ep.status = updated.status ?? next;
    ep.metadata = updated.metadata ?? ep.metadata;
    this.remember(`${ep.metadata!.namespace}/${ep.metadata!.name}`, ep, true);
  }

  /** Whether `ep` carries changes not written yet. */
  hasUnsent(ep: ArenaEpisode): boolean {
    return this.unsent.has(ep);
  }

  /** What was decided but not written is simply decided again: back to the status as written. */
  discardUnsent(ep: ArenaEpisode): void {
    const unsent = this.unsent.get(ep);
    if (unsent) ep.status = unsent.written;
    this.unsent.delete(ep);
    this.opts.traces.dropUnsent(ep);
  }

  /** Keep `ep` as our newest copy; `wrote`: it is the answer to our own write (else: a read). */
  remember(key: string, ep: ArenaEpisode, wrote: boolean): void {
    const rv = ep.metadata?.resourceVersion;
    if (!rv) {
      this.own.delete(key);
      return;
    }
    const prev = wrote ? (this.own.get(key)?.versions ?? []) : [];
    this.own.set(key, { ep: structuredClone(ep), versions: [...prev.slice(-15), rv] });
  }

  /** Runs `effect` (e.g. counting a step in the metrics) once what `ep` holds is written: now, or after the deferred write. */
  afterWrite(ep: ArenaEpisode, effect: () => void): void {
    const unsent = this.unsent.get(ep);
    if (unsent) unsent.effects.push(effect);
    else effect();
  }

  /** Emits an Event; one about an unwritten step waits for the write (a step taken again is reported once). */
  event(ep: ArenaEpisode, type: 'Normal' | 'Warning', reason: string, action: string, note: string): void {
    const unsent = this.unsent.get(ep);
    if (unsent) unsent.events.push({ type, reason, action, note });
    else void this.opts.events?.record({ regarding: ep, type, reason, action, note });
  }
}

/** Status values are merge patches: a null removes the field. */
function withoutNulls(status: StatusPatch): ArenaEpisodeStatus {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== null)) as ArenaEpisodeStatus;
}
