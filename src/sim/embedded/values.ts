// Reading decoded msgpack values without casts.
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';

export function asMap(v: MsgValue | undefined): MsgMap | undefined {
  return v instanceof Map ? v : undefined;
}

export function asList(v: MsgValue | undefined): MsgValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function str(v: MsgValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

export function num(v: MsgValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

export function nonEmptyList(v: MsgValue | undefined): boolean {
  return Array.isArray(v) && v.length > 0;
}
