// Incremental replay for traces whose in-place edits are journaled (src/trace/edits.ts; every arena action is):
// a replay resumes from a saved simulation state taken just before the first trace object edited since the last
// replay, instead of from the first event; and a trace state already replayed (the random policy often comes back
// to one) returns that replay's result. A replay is a pure function of the trace and the options, so both give
// exactly what a full replay gives (test/unit/sim/embedded/incremental.test.ts checks it).
import { editJournal, type EditJournal } from '../../trace/edits.js';
import { encodeMsgpack, type MsgMap, type MsgValue } from '../../trace/msgpack.js';
import type { Trace } from '../../trace/trace.js';
import { Simulation, type ReplayPoint, type SimState, type SimulateOptions } from './replay.js';

/** Saved states per options (kept: the latest few positions an edit started from). */
const MAX_SNAPSHOTS = 4;
/** Replayed trace states remembered per options: at most this many, and this many pods over all of them. */
const MAX_MEMO = 256;
const MAX_MEMO_PODS = 50_000;
/**
 * Below this much scheduling work (pods created × nodes, of the first replay) a full replay is cheaper than the
 * bookkeeping (encoding the edited objects, copying a saved state): such traces are always replayed in full.
 */
export const incrementalSettings = { smallWork: 1000 }; // tests set 0 to take the incremental path everywhere
/** Option sets remembered per trace (an episode uses one or two: its first observation and its steps). */
const MAX_OPTION_SETS = 3;

interface Snapshot {
  point: ReplayPoint;
  /** Paused before `point`; never run itself, only forked. */
  sim: Simulation;
}

interface OptionsCache {
  key: string;
  /** The journal version the cache has accounted for. */
  version: number;
  /** The result for the trace as it was at `version`, when replayed. */
  last: SimState | null;
  snapshots: Snapshot[];
  memo: Map<string, SimState>;
  memoPods: number;
  /** The trace index's entries at `version` (`gvk|namespace/name`), to see which an edit added. */
  indexKeys: Set<string>;
}

interface TraceCache {
  /** Where each event object is replayed. */
  positions: Map<MsgMap, ReplayPoint>;
  /** The first applied occurrence of each object (`apiVersion.kind|namespace/name`). */
  firstApplied: Map<string, ReplayPoint>;
  byOptions: OptionsCache[];
  /** The first replay was small (incrementalSettings.smallWork): replay in full. */
  small: boolean;
  /** Content ids of edited objects (by their journal version), for signatures. */
  contents: WeakMap<MsgMap, { version: number; id: number }>;
  /** Content text -> id; bounded (ids are never reused, so clearing it only costs misses). */
  ids: Map<string, number>;
}

/** Distinct contents interned per trace before its table starts over. */
const MAX_CONTENT_IDS = 256;
let nextContentId = 0;

const caches = new WeakMap<Trace, TraceCache>();

/** Replays since start, for the bench's report: full, resumed from a saved state, or answered from memory. */
export const incrementalStats = { full: 0, resumed: 0, remembered: 0 };

function before(a: ReplayPoint, b: ReplayPoint): boolean {
  return a.event < b.event || (a.event === b.event && a.pos < b.pos);
}

function str(v: MsgValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function objectKey(o: MsgMap): string {
  const md = o.get('metadata');
  const m = md instanceof Map ? md : undefined;
  return `${str(o.get('apiVersion'))}.${str(o.get('kind'))}|${str(m?.get('namespace'))}/${str(m?.get('name'))}`;
}

function traceCache(trace: Trace): TraceCache {
  let tc = caches.get(trace);
  if (tc !== undefined) return tc;
  const positions = new Map<MsgMap, ReplayPoint>();
  const firstApplied = new Map<string, ReplayPoint>();
  const events = trace.get('events');
  if (Array.isArray(events)) {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (!(ev instanceof Map)) continue;
      const applied = ev.get('applied_objs');
      const deleted = ev.get('deleted_objs');
      const na = Array.isArray(applied) ? applied.length : 0;
      if (Array.isArray(applied))
        applied.forEach((o, j) => {
          if (!(o instanceof Map)) return;
          positions.set(o, { event: i, pos: j });
          const k = objectKey(o);
          if (!firstApplied.has(k)) firstApplied.set(k, { event: i, pos: j });
        });
      if (Array.isArray(deleted))
        deleted.forEach((o, j) => {
          if (o instanceof Map) positions.set(o, { event: i, pos: na + j });
        });
    }
  }
  tc = { positions, firstApplied, byOptions: [], small: false, contents: new WeakMap(), ids: new Map() };
  caches.set(trace, tc);
  return tc;
}

function indexKeys(trace: Trace): Set<string> {
  const out = new Set<string>();
  const index = trace.get('index');
  if (!(index instanceof Map)) return out;
  for (const [gvk, entries] of index) {
    if (typeof gvk !== 'string' || !(entries instanceof Map)) continue;
    const g = gvk.startsWith('/') ? gvk.slice(1) : gvk;
    for (const k of entries.keys()) if (typeof k === 'string') out.add(`${g}|${k}`);
  }
  return out;
}

function optionsKey(opts: SimulateOptions): string {
  return JSON.stringify([opts.seed ?? 0, opts.nodePool ?? null, opts.durationSeconds ?? null, opts.maxPods ?? null]);
}

/**
 * The edited objects' current contents as interned ids, in the journal's fixed order: equal signatures mean equal
 * traces. Only objects edited since their id was taken are read again.
 */
function signature(tc: TraceCache, journal: EditJournal): string {
  let sig = '';
  for (const [obj, version] of journal.edited) {
    let c = tc.contents.get(obj);
    if (c === undefined || c.version !== version) {
      const text = Buffer.from(encodeMsgpack(obj)).toString('latin1');
      let id = tc.ids.get(text);
      if (id === undefined) {
        if (tc.ids.size >= MAX_CONTENT_IDS) tc.ids.clear();
        id = nextContentId++;
        tc.ids.set(text, id);
      }
      c = { version, id };
      tc.contents.set(obj, c);
    }
    sig += `${c.id},`;
  }
  return sig;
}

/** The earliest place an edit since `oc.version` touches; null when nothing was edited. */
function firstEdit(trace: Trace, tc: TraceCache, oc: OptionsCache, journal: EditJournal): ReplayPoint | null {
  let from: ReplayPoint | null = null;
  const consider = (p: ReplayPoint) => {
    if (from === null || before(p, from)) from = p;
  };
  const index = trace.get('index');
  for (const [obj, v] of journal.edited) {
    if (v <= oc.version) continue;
    if (obj === index) {
      // An owner newly in the index gets its pod lifecycles from its first application on.
      const now = indexKeys(trace);
      for (const k of now) {
        if (oc.indexKeys.has(k)) continue;
        const p = tc.firstApplied.get(k);
        if (p !== undefined) consider(p);
      }
      oc.indexKeys = now;
      continue;
    }
    consider(tc.positions.get(obj) ?? { event: 0, pos: 0 });
  }
  return from;
}

/** The earliest place any journaled object sits: where the next edit most likely starts. */
function earliestEdited(tc: TraceCache, journal: EditJournal): ReplayPoint | null {
  let from: ReplayPoint | null = null;
  for (const obj of journal.edited.keys()) {
    const p = tc.positions.get(obj);
    if (p !== undefined && (from === null || before(p, from))) from = p;
  }
  return from;
}

function remember(oc: OptionsCache, sig: string, st: SimState): void {
  while (oc.memo.size > 0 && (oc.memo.size >= MAX_MEMO || oc.memoPods + st.podsCreated > MAX_MEMO_PODS)) {
    const [k, old] = oc.memo.entries().next().value as [string, SimState];
    oc.memo.delete(k);
    oc.memoPods -= old.podsCreated;
  }
  if (st.podsCreated > MAX_MEMO_PODS) return;
  oc.memo.set(sig, st);
  oc.memoPods += st.podsCreated;
}

/** Replay the trace: incrementally when its edits are journaled, else in full. */
export function simulateIncremental(trace: Trace, opts: SimulateOptions): SimState {
  const journal = editJournal(trace);
  if (journal === undefined) {
    incrementalStats.full++;
    return new Simulation(trace, opts).run();
  }
  const tc = traceCache(trace);
  if (tc.small) {
    incrementalStats.full++;
    return new Simulation(trace, opts).run();
  }
  const key = optionsKey(opts);
  let oc = tc.byOptions.find((o) => o.key === key);
  let target: ReplayPoint | null;
  if (oc === undefined) {
    oc = {
      key,
      version: journal.version,
      last: null,
      snapshots: [],
      memo: new Map(),
      memoPods: 0,
      indexKeys: indexKeys(trace),
    };
    tc.byOptions.push(oc);
    if (tc.byOptions.length > MAX_OPTION_SETS) tc.byOptions.shift();
    target = earliestEdited(tc, journal);
  } else {
    target = null;
    if (oc.version !== journal.version) {
      target = firstEdit(trace, tc, oc, journal);
      const t = target;
      // A state saved after an edited object no longer matches the trace.
      if (t !== null) oc.snapshots = oc.snapshots.filter((s) => !before(t, s.point));
      oc.version = journal.version;
      oc.last = null;
    }
    if (oc.last !== null) {
      incrementalStats.remembered++;
      return oc.last;
    }
  }
  const sig = signature(tc, journal);
  const known = oc.memo.get(sig);
  if (known !== undefined) {
    incrementalStats.remembered++;
    oc.last = known;
    return known;
  }

  // Resume from the latest saved state at or before the target; save one at the target if there is none.
  let base: Snapshot | null = null;
  if (target !== null)
    for (const s of oc.snapshots)
      if (!before(target, s.point) && (base === null || before(base.point, s.point))) base = s;
  let sim: Simulation;
  if (base !== null) {
    sim = base.sim.fork();
    incrementalStats.resumed++;
  } else {
    sim = new Simulation(trace, opts);
    sim.begin();
    incrementalStats.full++;
  }
  const cache = oc;
  const t = target;
  const pause =
    t !== null && (base === null || before(base.point, t))
      ? {
          ...t,
          take: (s: Simulation) => {
            cache.snapshots.push({ point: t, sim: s.fork() });
            if (cache.snapshots.length > MAX_SNAPSHOTS) cache.snapshots.shift();
          },
        }
      : undefined;
  const st = sim.replay(pause);
  if (base === null && st.podsCreated * Math.max(1, st.nodes.length) < incrementalSettings.smallWork) {
    tc.small = true;
    tc.byOptions.length = 0;
    return st;
  }
  oc.last = st;
  remember(oc, sig, st);
  return st;
}
