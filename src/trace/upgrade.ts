// Version 1 traces (the predecessor's 100 generated traces) → version 2. Nothing is dropped: the v1 `metadata`
// key is kept (SimKube ignores unknown top-level keys); quantities are rounded up to what the API server stores.
import type { MsgMap, MsgValue } from './msgpack.js';
import { MsgFloat } from './msgpack.js';
import { describeType, getIn, isMap, setIn } from './model.js';
import { BUILTIN_POD_SPEC_TEMPLATE_PATHS } from './gvk.js';
import { formatQuantity, parseQuantity } from './quantity.js';
import { podSpecOf } from './workload.js';
import { TraceError, validateTrace, type Trace } from './trace.js';

export interface UpgradeResult {
  trace: Trace;
  changes: string[];
}

export function upgradeTrace(v1: MsgValue): UpgradeResult {
  if (!isMap(v1)) throw new TraceError('', `the top level is ${describeType(v1)}, a trace is a map`);
  const version = v1.get('version');
  if (version === 2) throw new TraceError('version', 'is already 2', 'nothing to upgrade');
  if (version !== 1 && version !== undefined)
    throw new TraceError('version', `cannot upgrade version ${String(version)}`);
  const events = v1.get('events');
  if (!Array.isArray(events)) throw new TraceError('events', `must be an array, found ${describeType(events)}`);

  const changes: string[] = [];
  const tracked: MsgMap = new Map();
  const index: MsgMap = new Map();
  const newEvents: MsgValue[] = events.map((ev, i) => {
    if (!isMap(ev)) throw new TraceError(`events[${i}]`, `must be a map, found ${describeType(ev)}`);
    let ts = ev.get('ts');
    if (ts instanceof MsgFloat) {
      ts = Math.floor(ts.value);
      changes.push(`events[${i}].ts: float rounded down to ${ts}`);
    }
    const out: MsgMap = new Map([
      ['ts', ts ?? 0],
      ['applied_objs', ev.get('applied_objs') ?? []],
      ['deleted_objs', ev.get('deleted_objs') ?? []],
    ]);
    for (const [k, v] of ev) if (!out.has(k)) out.set(k, v);
    for (const list of ['applied_objs', 'deleted_objs'] as const) {
      const objs = out.get(list);
      if (!Array.isArray(objs)) continue;
      objs.forEach((o, j) => {
        if (!isMap(o)) return;
        const where = `events[${i}].${list}[${j}]`;
        if (getIn(o, ['metadata', 'namespace']) === undefined && o.get('kind') !== 'Node') {
          setIn(o, ['metadata', 'namespace'], 'default');
          changes.push(`${where}: no namespace, set to "default"`);
        }
        const gvk = `${String(o.get('apiVersion'))}.${String(o.get('kind'))}`;
        if (o.get('kind') === 'Node') return;
        if (!tracked.has(gvk)) tracked.set(gvk, new Map());
        if (list === 'applied_objs') {
          let entries = index.get(gvk) as MsgMap | undefined;
          if (!entries) index.set(gvk, (entries = new Map()));
          entries.set(`${String(getIn(o, ['metadata', 'namespace']))}/${String(getIn(o, ['metadata', 'name']))}`, 0);
          canonicalizeRequests(o, where, changes);
        }
      });
    }
    return out;
  });
  for (const gvk of tracked.keys())
    if (BUILTIN_POD_SPEC_TEMPLATE_PATHS[gvk as string] === undefined)
      changes.push(`${String(gvk)} is not a built-in kind; add podSpecTemplatePaths for it by hand`);

  const v2: Trace = new Map<MsgValue, MsgValue>([
    ['version', 2],
    ['config', new Map([['trackedObjects', tracked]])],
    ['events', newEvents],
    ['index', index],
    ['pod_lifecycles', new Map()],
  ]);
  for (const [k, v] of v1) if (k !== 'version' && k !== 'events') v2.set(k, v);
  changes.unshift('version 1 → 2: added config.trackedObjects, index and pod_lifecycles');
  validateTrace(v2);
  return { trace: v2, changes };
}

function canonicalizeRequests(obj: MsgMap, where: string, changes: string[]): void {
  const spec = podSpecOf(obj);
  if (!spec) return;
  for (const list of ['containers', 'initContainers']) {
    const cs = spec.get(list);
    if (!Array.isArray(cs)) continue;
    cs.forEach((c, ci) => {
      for (const kind of ['requests', 'limits']) {
        const res = getIn(c, ['resources', kind]);
        if (!isMap(res)) continue;
        for (const [r, v] of res) {
          if (typeof v !== 'string' && typeof v !== 'number' && !(v instanceof MsgFloat)) continue;
          const q = parseQuantity(v instanceof MsgFloat ? v.value : v);
          const unit = r === 'cpu' ? 1_000_000n : 1_000_000_000n;
          const rem = q.nanos % unit;
          const rounded = { nanos: rem === 0n ? q.nanos : q.nanos - rem + unit, format: q.format };
          const text = formatQuantity(rounded);
          if (text !== v) {
            res.set(r, text);
            changes.push(
              `${where}.${list}[${ci}].resources.${kind}.${String(r)}: ${String(v instanceof MsgFloat ? v.value : v)} → ${text}`,
            );
          }
        }
      }
    });
  }
}
