import { hostname } from 'node:os';
import {
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1ObjectReference,
} from '@kubernetes/client-node';
import { createLogger, type Logger } from '../util/log.js';
import { apiErrorMessage, isAlreadyExists, isNotFound, isTransient } from '../kube/errors.js';
import { mergePatchOptions } from '../kube/custom-objects.js';
import { microTimeField } from '../kube/time.js';

export type EventType = 'Normal' | 'Warning';

export interface EventInput {
  /** The object the event is about. */
  regarding: KubernetesObject;
  type: EventType;
  /** Short UpperCamelCase reason, e.g. "StepCompleted". */
  reason: string;
  /** What was done or failed, e.g. "Reconcile". */
  action: string;
  /** Human-readable detail (truncated to 1 KiB). */
  note?: string;
  related?: KubernetesObject;
}

export interface EventRecorderOptions {
  kc?: KubeConfig;
  api?: EventsV1Api;
  reportingController?: string;
  /** Defaults to the host (pod) name. */
  reportingInstance?: string;
  /** A repeat within this window bumps the first event's series count instead of creating a new Event. Default 600000. */
  seriesWindowMs?: number;
  /**
   * How long a failure that may pass (no connection, 5xx, 429: an API server restarting, etcd away) is retried before
   * the event is given up, doubling the pause from 200 ms to 5 s. Default 120000; 0: no retry.
   */
  retryForMs?: number;
  logger?: Logger;
}

interface SeriesState {
  name: string;
  namespace: string;
  count: number;
  lastSeen: number;
}

const maxTracked = 4096;
const noteLimit = 1024;

function reference(obj: KubernetesObject): V1ObjectReference {
  const m = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: m.name,
    ...(m.namespace ? { namespace: m.namespace } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
  };
}

function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  return (
    buf
      .subarray(0, maxBytes - 3)
      .toString('utf8')
      .replace(/\uFFFD+$/, '') + '...'
  );
}

/**
 * Posts events.k8s.io/v1 Events. Repeats of the same event (same object, type, reason, action and
 * note) within the series window update the first Event's `series` instead of adding new Events.
 * Transient failures are retried in the background (see retryForMs) with the same Event name, so an attempt that
 * reached the server but lost its answer is not posted twice (AlreadyExists counts as done).
 * Never throws: failures are logged, because an event must not fail a reconcile.
 */
export class EventRecorder {
  private readonly api: EventsV1Api;
  readonly reportingController: string;
  readonly reportingInstance: string;
  private readonly windowMs: number;
  private readonly retryForMs: number;
  private readonly log: Logger;
  private readonly series = new Map<string, SeriesState>();

  constructor(opts: EventRecorderOptions) {
    if (!opts.api && !opts.kc) throw new Error('EventRecorder needs kc or api');
    this.api = opts.api ?? opts.kc!.makeApiClient(EventsV1Api);
    this.reportingController = opts.reportingController ?? 'simarena.io/operator';
    this.reportingInstance = (opts.reportingInstance ?? hostname()).slice(0, 128);
    this.windowMs = opts.seriesWindowMs ?? 600_000;
    this.retryForMs = opts.retryForMs ?? 120_000;
    this.log = opts.logger ?? createLogger('events');
  }

  normal(
    regarding: KubernetesObject,
    reason: string,
    action: string,
    note?: string,
  ): Promise<EventsV1Event | undefined> {
    return this.record({ regarding, type: 'Normal', reason, action, ...(note !== undefined ? { note } : {}) });
  }

  warning(
    regarding: KubernetesObject,
    reason: string,
    action: string,
    note?: string,
  ): Promise<EventsV1Event | undefined> {
    return this.record({ regarding, type: 'Warning', reason, action, ...(note !== undefined ? { note } : {}) });
  }

  /** Creates (or bumps the series of) an Event; resolves to it, or undefined when that failed. */
  async record(input: EventInput): Promise<EventsV1Event | undefined> {
    const note = input.note !== undefined ? truncateUtf8(input.note, noteLimit) : undefined;
    const ref = reference(input.regarding);
    const key = [
      ref.uid ?? '',
      ref.kind,
      ref.namespace ?? '',
      ref.name,
      input.type,
      input.reason,
      input.action,
      note ?? '',
    ].join('\u0000');
    const now = Date.now();
    const name = `${(ref.name ?? 'object').slice(0, 200)}.${now.toString(16)}${Math.floor(Math.random() * 0x10000)
      .toString(16)
      .padStart(4, '0')}`;
    const deadline = now + this.retryForMs;
    for (let pauseMs = 200; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        const seen = this.series.get(key);
        if (seen && now - seen.lastSeen < this.windowMs) {
          const bumped = await this.bump(seen, now);
          if (bumped) return bumped;
        }
        return await this.create(key, name, input, ref, note, now);
      } catch (err) {
        if (isTransient(err) && Date.now() + pauseMs <= deadline) {
          await new Promise((r) => setTimeout(r, pauseMs));
          continue;
        }
        this.log.warn('Could not record event', { reason: input.reason, error: apiErrorMessage(err) });
        return undefined;
      }
    }
  }

  private async bump(seen: SeriesState, now: number): Promise<EventsV1Event | undefined> {
    const count = seen.count + 1;
    try {
      const ev = await this.api.patchNamespacedEvent(
        {
          name: seen.name,
          namespace: seen.namespace,
          body: { series: { count, lastObservedTime: microTimeField(new Date(now)) } },
        },
        mergePatchOptions(),
      );
      seen.count = count;
      seen.lastSeen = now;
      return ev;
    } catch (err) {
      if (isNotFound(err)) return undefined; // the Event expired; start a new one
      throw err;
    }
  }

  private async create(
    key: string,
    name: string,
    input: EventInput,
    ref: V1ObjectReference,
    note: string | undefined,
    now: number,
  ): Promise<EventsV1Event> {
    const namespace = ref.namespace ?? 'default';
    const body: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTimeField(new Date(now)),
      type: input.type,
      reason: input.reason.slice(0, 128),
      action: input.action.slice(0, 128),
      ...(note !== undefined ? { note } : {}),
      regarding: ref,
      ...(input.related ? { related: reference(input.related) } : {}),
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
    };
    // AlreadyExists: an earlier attempt of this same event was stored, only its answer was lost.
    const ev = await this.api.createNamespacedEvent({ namespace, body }).catch((e: unknown) => {
      if (isAlreadyExists(e)) return body;
      throw e;
    });
    this.series.delete(key);
    this.series.set(key, { name: ev.metadata?.name ?? body.metadata!.name!, namespace, count: 1, lastSeen: now });
    if (this.series.size > maxTracked) {
      const oldest = this.series.keys().next().value;
      if (oldest !== undefined) this.series.delete(oldest);
    }
    return ev;
  }
}
