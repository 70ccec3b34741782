// Tolerations, taints, node selection terms, and whether a pod's selection admits a node.

export const enum TolOp {
  Equal = 0,
  Exists = 1,
  Other = 2,
}

export interface Toleration {
  key: string;
  op: TolOp;
  value: string;
  effect: string;
}

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== '' && t.key !== taint.key) return false;
  if (t.op === TolOp.Exists) return true;
  if (t.op === TolOp.Equal) return t.value === taint.value;
  return false;
}

export const enum SelOp {
  In = 0,
  NotIn = 1,
  Exists = 2,
  DoesNotExist = 3,
  Gt = 4,
  Lt = 5,
  Invalid = 6,
}

export interface Requirement {
  key: string;
  op: SelOp;
  values: string[];
  /** Gt / Lt operand; NaN when it is not an integer (the term then matches nothing). */
  num: number;
}

export interface SelectorTerm {
  exprs: Requirement[];
  fields: Requirement[];
}

/** Node labels: either a decoded trace map or a plain Map for the default pool. */
export type Labels = ReadonlyMap<unknown, unknown>;

function labelOf(labels: Labels, key: string): string | undefined {
  const v = labels.get(key);
  return typeof v === 'string' ? v : undefined;
}

export const INT_RE = /^[+-]?\d+$/;

function matchReq(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case SelOp.In:
      return value !== undefined && r.values.includes(value);
    case SelOp.NotIn:
      return value === undefined || !r.values.includes(value);
    case SelOp.Exists:
      return value !== undefined;
    case SelOp.DoesNotExist:
      return value === undefined;
    case SelOp.Gt:
    case SelOp.Lt: {
      if (value === undefined || Number.isNaN(r.num) || !INT_RE.test(value)) return false;
      const n = Number(value);
      return r.op === SelOp.Gt ? n > r.num : n < r.num;
    }
    default:
      return false;
  }
}

function matchExprs(exprs: readonly Requirement[], node: SelectableNode): boolean {
  for (const r of exprs) if (!matchReq(r, labelOf(node.labels, r.key))) return false;
  return true;
}

function matchTerm(t: SelectorTerm, node: SelectableNode): boolean {
  if (t.exprs.length === 0 && t.fields.length === 0) return false;
  if (!matchExprs(t.exprs, node)) return false;
  for (const r of t.fields) {
    if (r.key !== 'metadata.name' || (r.op !== SelOp.In && r.op !== SelOp.NotIn)) return false;
    if (!matchReq(r, node.name)) return false;
  }
  return true;
}

/** What selection reads of a node (SimNode has it). */
export interface SelectableNode {
  readonly name: string;
  readonly labels: Labels;
  /** NoSchedule / NoExecute taints. */
  readonly hardTaints: readonly Taint[];
}

/** What selection reads of a pod (PodShape has it). */
export interface PodSelection {
  readonly nodeSelector: readonly (readonly [string, string])[];
  /** Required node affinity terms (OR), or null for none. */
  readonly affinity: readonly SelectorTerm[] | null;
  readonly tolerations: readonly Toleration[];
}

/** nodeSelector and required node affinity (both must match). `dsNode` is the DaemonSet's node-name affinity. */
export function matchesNodeSelection(shape: PodSelection, node: SelectableNode, dsNode: string | null): boolean {
  if (dsNode !== null && node.name !== dsNode) return false;
  const sel = shape.nodeSelector;
  for (let i = 0; i < sel.length; i++) {
    const kv = sel[i]!;
    if (node.labels.get(kv[0]) !== kv[1]) return false;
  }
  const terms = shape.affinity;
  if (terms !== null) {
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      // The DaemonSet controller replaces each term's matchFields with its node-name requirement (checked above).
      if (dsNode !== null ? matchExprs(t.exprs, node) : matchTerm(t, node)) return true;
    }
    return false;
  }
  return true;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, or null. */
export function untoleratedTaint(shape: PodSelection, node: SelectableNode): Taint | null {
  const taints = node.hardTaints;
  const tols = shape.tolerations;
  outer: for (let i = 0; i < taints.length; i++) {
    const taint = taints[i]!;
    for (let j = 0; j < tols.length; j++) if (tolerates(tols[j]!, taint)) continue outer;
    return taint;
  }
  return null;
}
