// The SimKube trace (format v2): decode with validation that names the failing field, encode, and read events.
import { decodeMsgpack, encodeMsgpack, MsgpackError, type MsgMap, type MsgValue } from './msgpack.js';
import { asInteger, describeType, getIn, isMap } from './model.js';
import { BUILTIN_POD_SPEC_TEMPLATE_PATHS, parseGvk } from './gvk.js';

export const TRACE_VERSION = 2;
export const TOP_LEVEL_KEYS = ['version', 'config', 'events', 'index', 'pod_lifecycles'] as const;

/** A decoded trace: the root map, mutated in place by actions. */
export type Trace = MsgMap;

export class TraceError extends Error {
  override name = 'TraceError';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly hint?: string,
  ) {
    super(`${field ? `${field}: ` : ''}${problem}${hint ? ` (${hint})` : ''}`);
  }
}

export interface DecodeResult {
  trace: Trace;
  warnings: string[];
}

export interface TraceEvent {
  ts: number | bigint;
  applied: MsgMap[];
  deleted: MsgMap[];
}

const TRACKED_KEYS = new Set(['podSpecTemplatePaths', 'podSpecTemplatePath', 'trackLifecycle', 'skipOwned']);

/** Decode and validate trace bytes. Throws TraceError (never anything else) for bad input. */
export function decodeTrace(bytes: Uint8Array): DecodeResult {
  let root: MsgValue;
  try {
    root = decodeMsgpack(bytes);
  } catch (e) {
    if (e instanceof MsgpackError)
      throw new TraceError(
        '',
        `not a msgpack trace: ${e.message}`,
        looksLikeJson(bytes)
          ? 'this looks like JSON; traces are msgpack — convert it with `sim-arena trace convert`'
          : 'is the file complete and really a SimKube trace?',
      );
    throw new TraceError('', `could not decode the trace: ${(e as Error).message}`);
  }
  const warnings = validateTrace(root);
  return { trace: root as Trace, warnings };
}

function looksLikeJson(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x7b; // '{'
}

export function encodeTrace(trace: Trace): Uint8Array {
  return encodeMsgpack(trace);
}

/** Validate a decoded value as a v2 trace; returns warnings, throws TraceError on the first error. */
export function validateTrace(root: MsgValue): string[] {
  const warnings: string[] = [];
  if (!isMap(root))
    throw new TraceError(
      '',
      `the top level is ${describeType(root)}, a SimKube trace is a map`,
      'is this a SimKube trace file?',
    );

  const version = root.get('version');
  if (version === undefined) {
    if (root.has('events'))
      throw new TraceError(
        'version',
        'missing',
        `a v2 trace has version: 2; if this is an old v1 trace run \`sim-arena trace upgrade FILE --out NEW\``,
      );
    throw new TraceError('version', 'missing', 'this does not look like a SimKube trace');
  }
  const v = asInteger(version);
  if (v === undefined) throw new TraceError('version', `must be an integer, found ${describeType(version)}`);
  if (Number(v) === 1) {
    throw new TraceError(
      'version',
      'this is a version 1 trace, which SimKube 2.x cannot read',
      'convert it with `sim-arena trace upgrade FILE --out NEW`',
    );
  }
  if (Number(v) !== TRACE_VERSION)
    throw new TraceError('version', `unsupported trace version ${v}`, 'only version 2 is supported');

  for (const key of TOP_LEVEL_KEYS) {
    if (!root.has(key))
      throw new TraceError(
        key,
        'missing',
        `a v2 trace needs all of ${TOP_LEVEL_KEYS.join(', ')}${key === 'index' || key === 'pod_lifecycles' ? `; an empty map is fine for ${key}` : ''}`,
      );
  }
  for (const k of root.keys()) {
    if (typeof k !== 'string') throw new TraceError('', `top-level key ${describeType(k)} is not a string`);
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(k))
      warnings.push(`unknown top-level key "${k}" is kept but ignored by SimKube`);
  }

  const tracked = validateConfig(root.get('config'), warnings);
  validateEvents(root.get('events'), tracked, warnings);
  validateIndex(root.get('index'));
  validateLifecycles(root.get('pod_lifecycles'));
  return warnings;
}

function validateConfig(config: MsgValue | undefined, warnings: string[]): Set<string> {
  if (!isMap(config)) throw new TraceError('config', `must be a map, found ${describeType(config)}`);
  const tracked = config.get('trackedObjects');
  if (!isMap(tracked))
    throw new TraceError(
      'config.trackedObjects',
      `must be a map, found ${describeType(tracked)}`,
      'use {} to track nothing, or e.g. {"apps/v1.Deployment": {}}',
    );
  const names = new Set<string>();
  for (const [gvk, cfg] of tracked) {
    const field = `config.trackedObjects[${keyText(gvk)}]`;
    if (typeof gvk !== 'string' || !parseGvk(gvk))
      throw new TraceError(
        field,
        'is not a GVK string',
        'write group/version.Kind, e.g. apps/v1.Deployment, or v1.Pod for the core group',
      );
    names.add(gvk);
    if (!isMap(cfg)) throw new TraceError(field, `must be a map, found ${describeType(cfg)}`);
    for (const [k, val] of cfg) {
      if (typeof k !== 'string' || !TRACKED_KEYS.has(k))
        throw new TraceError(
          `${field}.${String(k)}`,
          'unknown key (SimKube rejects unknown keys here)',
          `allowed: ${[...TRACKED_KEYS].join(', ')}`,
        );
      if ((k === 'trackLifecycle' || k === 'skipOwned') && typeof val !== 'boolean')
        throw new TraceError(`${field}.${k}`, `must be a boolean, found ${describeType(val)}`);
    }
    const paths: MsgValue[] = [];
    const plural = cfg.get('podSpecTemplatePaths');
    if (plural !== undefined && plural !== null) {
      if (!Array.isArray(plural))
        throw new TraceError(
          `${field}.podSpecTemplatePaths`,
          `must be a list of strings, found ${describeType(plural)}`,
        );
      paths.push(...plural);
    }
    const singular = cfg.get('podSpecTemplatePath');
    if (singular !== undefined && singular !== null) {
      warnings.push(`${field}.podSpecTemplatePath is deprecated; SimKube reads it as podSpecTemplatePaths`);
      paths.push(singular);
    }
    const builtin = BUILTIN_POD_SPEC_TEMPLATE_PATHS[gvk];
    for (const p of paths) {
      if (typeof p !== 'string')
        throw new TraceError(`${field}.podSpecTemplatePaths`, `entries must be strings, found ${describeType(p)}`);
      if (builtin !== undefined && p !== builtin)
        throw new TraceError(
          `${field}.podSpecTemplatePaths`,
          `"${p}" differs from the built-in path "${builtin}"`,
          'leave it out or use the built-in path',
        );
    }
    if (builtin === undefined && paths.length === 0)
      throw new TraceError(field, 'a custom kind needs podSpecTemplatePaths');
  }
  return names;
}

function validateEvents(events: MsgValue | undefined, tracked: Set<string>, warnings: string[]): void {
  if (!Array.isArray(events)) throw new TraceError('events', `must be an array, found ${describeType(events)}`);
  if (events.length === 0)
    throw new TraceError('events', 'is empty', 'SimKube needs at least one event ("no trace data")');
  let prev: number | bigint | undefined;
  const untracked = new Set<string>();
  events.forEach((ev, i) => {
    const f = `events[${i}]`;
    if (!isMap(ev)) throw new TraceError(f, `must be a map, found ${describeType(ev)}`);
    const tsRaw = ev.get('ts');
    const ts = asInteger(tsRaw);
    if (ts === undefined)
      throw new TraceError(
        `${f}.ts`,
        tsRaw === undefined ? 'missing' : `must be an integer (Unix seconds), found ${describeType(tsRaw)}`,
      );
    if (prev !== undefined && ts < prev)
      throw new TraceError(
        `${f}.ts`,
        `${ts} is earlier than the previous event (${prev})`,
        'events must be in ascending ts order',
      );
    prev = ts;
    for (const list of ['applied_objs', 'deleted_objs'] as const) {
      const objs = ev.get(list);
      if (!Array.isArray(objs))
        throw new TraceError(
          `${f}.${list}`,
          objs === undefined ? 'missing' : `must be an array, found ${describeType(objs)}`,
          'event keys are snake_case: ts, applied_objs, deleted_objs',
        );
      objs.forEach((o, j) => {
        const gvk = validateObject(o, `${f}.${list}[${j}]`);
        if (!tracked.has(gvk) && gvk !== 'v1.Node') untracked.add(gvk);
      });
    }
  });
  for (const g of untracked)
    warnings.push(
      `objects of ${g} appear in events but not in config.trackedObjects; SimKube will not strip their container ports or apply pod lifecycles to them`,
    );
}

function validateObject(o: MsgValue, f: string): string {
  if (!isMap(o)) throw new TraceError(f, `must be a Kubernetes object (a map), found ${describeType(o)}`);
  const apiVersion = o.get('apiVersion');
  const kind = o.get('kind');
  if (typeof apiVersion !== 'string' || !apiVersion)
    throw new TraceError(`${f}.apiVersion`, apiVersion === undefined ? 'missing' : 'must be a non-empty string');
  if (typeof kind !== 'string' || !kind)
    throw new TraceError(`${f}.kind`, kind === undefined ? 'missing' : 'must be a non-empty string');
  const md = o.get('metadata');
  if (!isMap(md))
    throw new TraceError(`${f}.metadata`, md === undefined ? 'missing' : `must be a map, found ${describeType(md)}`);
  const name = md.get('name');
  if (typeof name !== 'string' || !name)
    throw new TraceError(`${f}.metadata.name`, name === undefined ? 'missing' : 'must be a non-empty string');
  const ns = md.get('namespace');
  if ((typeof ns !== 'string' || !ns) && !isNodeObject(o))
    throw new TraceError(
      `${f}.metadata.namespace`,
      `missing on ${kind} "${name}"`,
      'SimKube replays only namespaced objects; set metadata.namespace',
    );
  return `${apiVersion}.${kind}`;
}

/** A map key for a field path. JSON.stringify throws on bigint keys (u64 in the wire format), so format those by hand. */
function keyText(k: MsgValue): string {
  if (typeof k === 'string') return JSON.stringify(k);
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return `<${describeType(k)}>`;
}

/** v1 Node objects are the one cluster-scoped kind allowed: they describe the node pool (SimKube never replays them). */
export function isNodeObject(o: MsgMap): boolean {
  return o.get('apiVersion') === 'v1' && o.get('kind') === 'Node';
}

function validateIndex(index: MsgValue | undefined): void {
  if (!isMap(index))
    throw new TraceError('index', `must be a map, found ${describeType(index)}`, 'use {} for an empty index');
  for (const [gvk, entries] of index) {
    const f = `index[${keyText(gvk)}]`;
    if (typeof gvk !== 'string' || !parseGvk(gvk))
      throw new TraceError(f, 'is not a GVK string', 'write group/version.Kind');
    if (!isMap(entries))
      throw new TraceError(
        f,
        `must be a map of "namespace/name" to an unsigned integer, found ${describeType(entries)}`,
      );
    for (const [key, hash] of entries) {
      if (typeof key !== 'string' || !key.includes('/'))
        throw new TraceError(`${f}[${keyText(key)}]`, 'keys must be "namespace/name"');
      const h = asInteger(hash);
      if (h === undefined || h < 0)
        throw new TraceError(
          `${f}[${keyText(key)}]`,
          `must be an unsigned integer, found ${describeType(hash)}${h !== undefined ? ` ${h}` : ''}`,
        );
    }
  }
}

function validateLifecycles(lc: MsgValue | undefined): void {
  if (!isMap(lc))
    throw new TraceError('pod_lifecycles', `must be a map, found ${describeType(lc)}`, 'use {} when there are none');
  let i = 0;
  for (const [key, byHash] of lc) {
    const f = `pod_lifecycles[${i++}]`;
    if (
      !Array.isArray(key) ||
      key.length !== 2 ||
      typeof key[0] !== 'string' ||
      !parseGvk(key[0]) ||
      typeof key[1] !== 'string'
    ) {
      throw new TraceError(f, 'keys must be [GVK, "namespace/name"] pairs');
    }
    if (!isMap(byHash))
      throw new TraceError(f, `must map pod hashes to lifecycle lists, found ${describeType(byHash)}`);
    for (const [hash, list] of byHash) {
      const h = asInteger(hash);
      if (h === undefined || h < 0)
        throw new TraceError(`${f}`, `pod hash keys must be unsigned integers, found ${describeType(hash)}`);
      if (!Array.isArray(list))
        throw new TraceError(`${f}[${h}]`, `must be a list of lifecycles, found ${describeType(list)}`);
      list.forEach((item, j) => validateLifecycle(item, `${f}[${h}][${j}]`));
    }
  }
}

function validateLifecycle(item: MsgValue, f: string): void {
  if (item === 'Empty') return;
  if (isMap(item) && item.size === 1) {
    const running = item.get('Running');
    if (running !== undefined) {
      if (asInteger(running) === undefined) throw new TraceError(`${f}.Running`, 'must be an integer timestamp');
      return;
    }
    const finished = item.get('Finished');
    if (Array.isArray(finished) && finished.length === 2 && finished.every((x) => asInteger(x) !== undefined)) return;
    if (finished !== undefined) throw new TraceError(`${f}.Finished`, 'must be [start_ts, end_ts] integers');
  }
  throw new TraceError(f, 'must be "Empty", {Running: ts} or {Finished: [start, end]}');
}

/** A read-only view of the events. */
export function traceEvents(trace: Trace): TraceEvent[] {
  const events = trace.get('events') as MsgValue[];
  return events.map((ev) => {
    const m = ev as MsgMap;
    return {
      ts: m.get('ts') as number | bigint,
      applied: m.get('applied_objs') as MsgMap[],
      deleted: m.get('deleted_objs') as MsgMap[],
    };
  });
}

export function objectKey(obj: MsgMap): { apiVersion: string; kind: string; namespace: string; name: string } {
  return {
    apiVersion: obj.get('apiVersion') as string,
    kind: obj.get('kind') as string,
    namespace: getIn(obj, ['metadata', 'namespace']) as string,
    name: getIn(obj, ['metadata', 'name']) as string,
  };
}
