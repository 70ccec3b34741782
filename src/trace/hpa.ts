// HorizontalPodAutoscalers in a trace that scale a workload. Without metrics (a replay has none) an HPA still
// clamps its target's replicas into [minReplicas, maxReplicas], so scale actions keep every HPA occurrence's
// bounds wide enough for every replica count the workload's occurrences hold: the replay then means the same with
// or without an HPA controller.
import type { MsgMap, MsgValue } from './msgpack.js';
import { getIn, setIn } from './model.js';
import type { Trace } from './trace.js';
import { noteEdited } from './edits.js';
import type { WorkloadRef } from './workload.js';

export interface HpaBounds {
  namespace: string;
  name: string;
  minReplicas: number;
  maxReplicas: number;
}

function num(v: MsgValue | undefined): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** Applied HPA objects (any autoscaling version) whose scaleTargetRef names the workload. */
export function hpaOccurrences(trace: Trace, ref: WorkloadRef): MsgMap[] {
  const out: MsgMap[] = [];
  for (const ev of trace.get('events') as MsgValue[]) {
    for (const o of (ev as MsgMap).get('applied_objs') as MsgValue[]) {
      const obj = o as MsgMap;
      if (obj.get('kind') !== 'HorizontalPodAutoscaler' || !String(obj.get('apiVersion')).startsWith('autoscaling/'))
        continue;
      if (getIn(obj, ['metadata', 'namespace']) !== ref.namespace) continue;
      if (
        getIn(obj, ['spec', 'scaleTargetRef', 'kind']) === ref.kind &&
        getIn(obj, ['spec', 'scaleTargetRef', 'name']) === ref.name
      )
        out.push(obj);
    }
  }
  return out;
}

/** The last applied HPA for the workload, if any. */
export function hpaBounds(trace: Trace, ref: WorkloadRef): HpaBounds | undefined {
  const all = hpaOccurrences(trace, ref);
  const h = all[all.length - 1];
  if (!h) return undefined;
  return {
    namespace: ref.namespace,
    name: String(getIn(h, ['metadata', 'name'])),
    minReplicas: num(getIn(h, ['spec', 'minReplicas'])) ?? 1,
    maxReplicas: num(getIn(h, ['spec', 'maxReplicas'])) ?? 1,
  };
}

/**
 * Widen every HPA occurrence of the workload so [minReplicas, maxReplicas] holds each of `replicas` (minReplicas
 * never below 1, the API's own floor). Returns one note per change.
 */
export function fitHpasToReplicas(trace: Trace, ref: WorkloadRef, replicas: number[]): string[] {
  if (replicas.length === 0) return [];
  const lo = Math.max(1, Math.min(...replicas));
  const hi = Math.max(...replicas);
  const notes = new Set<string>();
  for (const h of hpaOccurrences(trace, ref)) {
    const name = String(getIn(h, ['metadata', 'name']));
    const min = num(getIn(h, ['spec', 'minReplicas'])) ?? 1;
    const max = num(getIn(h, ['spec', 'maxReplicas'])) ?? 1;
    if (min > lo) {
      setIn(h, ['spec', 'minReplicas'], lo);
      noteEdited(trace, h);
      notes.add(`HorizontalPodAutoscaler ${ref.namespace}/${name} minReplicas ${min} → ${lo}`);
    }
    if (max < hi) {
      setIn(h, ['spec', 'maxReplicas'], hi);
      noteEdited(trace, h);
      notes.add(`HorizontalPodAutoscaler ${ref.namespace}/${name} maxReplicas ${max} → ${hi}`);
    }
  }
  return [...notes];
}
