// A journal of in-place trace edits, so consumers that cache work per trace (the embedded simulator's incremental
// replay) know what changed since they last looked. A trace gets a journal when an action first edits it
// (src/arena/actions.ts); from then on every in-place edit must be noted here, or caches would go stale.
import type { MsgMap } from './msgpack.js';
import type { Trace } from './trace.js';

export interface EditJournal {
  /** Bumped at every noted edit. */
  version: number;
  /**
   * Every object edited so far (event objects, or the trace's `index` map), in order of first edit (fixed, so a
   * sequence of their contents identifies the trace's state), with the version of its last edit.
   */
  readonly edited: Map<MsgMap, number>;
}

const journals = new WeakMap<Trace, EditJournal>();

/** Start (or keep) journaling the trace's edits. */
export function trackEdits(trace: Trace): EditJournal {
  let j = journals.get(trace);
  if (j === undefined) {
    j = { version: 0, edited: new Map() };
    journals.set(trace, j);
  }
  return j;
}

/** The trace's journal, or undefined when nobody edits it through the journal. */
export function editJournal(trace: Trace): EditJournal | undefined {
  return journals.get(trace);
}

/** Record that `obj` (an object of the trace's events, or its `index` map) was just changed in place. */
export function noteEdited(trace: Trace, obj: MsgMap): void {
  const j = journals.get(trace);
  if (j === undefined) return;
  j.version++;
  j.edited.set(obj, j.version);
}
