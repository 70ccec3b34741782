// Flag parsing shared by the commands (node:util parseArgs with typed getters and clear errors).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type Flags = Record<string, string | boolean | undefined>;

export function parse(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return { flags: values as Flags, positionals };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(parseArgsMessage((e as Error).message));
  }
}

/** node:util parseArgs errors as one line that says how to fix them (never the whole usage text). */
export function parseArgsMessage(message: string): string {
  const ambiguous = /^Option '(-[-\w]+)'[^]*argument is ambiguous/.exec(message);
  if (ambiguous)
    return `${ambiguous[1]} needs a value; a value starting with "-" must be attached with "=", e.g. ${ambiguous[1]}=-1 (--help lists the options)`;
  const missing = /^Option '(-[-\w]+)(?: <value>)?' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value (--help lists the options)`;
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]} (--help lists the options)`;
  const noArg = /^Option '(-[-\w]+)' does not take an argument/.exec(message);
  if (noArg) return `${noArg[1]} is a switch and takes no value (--help lists the options)`;
  return `${message.split('\n')[0]!.replace(/\. To specify.*$/, '')} (--help lists the options)`;
}

export function str(flags: Flags, name: string, fallback?: string): string {
  const v = flags[name];
  if (typeof v === 'string') return v;
  if (fallback !== undefined) return fallback;
  throw new UsageError(`--${name} is required`);
}

export function optStr(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(
  flags: Flags,
  name: string,
  fallback?: number,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = flags[name];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required`);
  }
  const n = Number(v);
  if (typeof v !== 'string' || !/^-?\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(v)}"`);
  return n;
}

export function num(flags: Flags, name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

export function bool(flags: Flags, name: string): boolean {
  return flags[name] === true;
}
