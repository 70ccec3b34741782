// Helpers that prove an action changed only what it should: undo the expected edits on a copy of the mutated
// trace and compare its encoding with the original bytes.
import { expect } from 'chai';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { cloneValue, getIn, setIn, type PathKey } from '../../../src/trace/model.js';
import { decodeTrace, encodeTrace, type Trace } from '../../../src/trace/trace.js';
import { findOccurrences, podSpecOf, type WorkloadRef } from '../../../src/trace/workload.js';
import { podSpecPath } from '../../../src/trace/gvk.js';

/** [path, original value]; undefined means the key did not exist and must be removed again. */
export type Edit = [PathKey[], MsgValue | undefined];

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** Decode `original`, compare with `mutated` after undoing `edits` (and restoring the original index). */
export function expectOnlyEdits(original: Uint8Array, mutated: Trace, edits: Edit[]): void {
  const copy = cloneValue(mutated);
  for (const [path, value] of edits) {
    if (value === undefined) {
      const parent = getIn(copy, path.slice(0, -1));
      expect(parent, `parent of ${path.join('.')}`).to.be.instanceOf(Map);
      (parent as MsgMap).delete(path[path.length - 1]!);
    } else {
      setIn(copy, path, value);
    }
  }
  const { trace: orig } = decodeTrace(original);
  copy.set('index', cloneValue(orig.get('index')!));
  expect(sameBytes(encodeTrace(copy), original), 'everything but the edited values is byte-identical').to.equal(true);
}

/** Trace paths of a workload's target container request in every template occurrence. */
export function requestPaths(
  trace: Trace,
  ref: WorkloadRef,
  resource: 'cpu' | 'memory',
  container?: string,
): PathKey[][] {
  const out: PathKey[][] = [];
  const specPath = podSpecPath(ref.kind)!;
  for (const o of findOccurrences(trace, ref)) {
    const spec = podSpecOf(o.obj);
    if (!spec) continue;
    for (const list of ['containers', 'initContainers'] as const) {
      const cs = spec.get(list);
      if (!Array.isArray(cs)) continue;
      cs.forEach((c, i) => {
        const name = (c as MsgMap).get('name');
        if (container === undefined ? list === 'containers' && i === 0 : name === container) {
          out.push(['events', o.event, o.list, o.position, ...specPath, list, i, 'resources', 'requests', resource]);
        }
      });
    }
  }
  return out;
}

export function replicaPaths(trace: Trace, ref: WorkloadRef): PathKey[][] {
  return findOccurrences(trace, ref)
    .filter((o) => podSpecOf(o.obj) !== undefined)
    .map((o) => ['events', o.event, o.list, o.position, 'spec', 'replicas']);
}
