// Reading policy parameters (`--param K=V`, ArenaEpisode spec.policy.parameters): strings in, typed values out,
// with an error that names the policy, the key and what was wrong.

export type Params = Record<string, string>;

export class ParamReader {
  constructor(
    private readonly policy: string,
    private readonly params: Params,
  ) {}

  has(key: string): boolean {
    return this.params[key] !== undefined && this.params[key] !== '';
  }

  str(key: string, fallback: string): string;
  str(key: string): string | undefined;
  str(key: string, fallback?: string): string | undefined {
    const v = this.params[key];
    return v === undefined || v === '' ? fallback : v;
  }

  num(key: string, fallback: number, min = -Infinity, max = Infinity): number {
    const v = this.params[key];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      const range = `${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}`;
      throw new RangeError(`${this.policy}: parameter ${key} must be a number${range}, got "${v}"`);
    }
    return n;
  }

  int(key: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const n = this.num(key, fallback, min, max);
    if (!Number.isInteger(n))
      throw new RangeError(`${this.policy}: parameter ${key} must be a whole number, got "${this.params[key]}"`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.params[key];
    if (v === undefined || v === '') return fallback;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new RangeError(`${this.policy}: parameter ${key} must be true or false, got "${v}"`);
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const v = this.params[key];
    if (v === undefined || v === '') return fallback;
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw new RangeError(`${this.policy}: parameter ${key} must be one of ${choices.join(', ')}, got "${v}"`);
  }

  /** Reject keys the policy does not know, so a typo (`epsilom=0`) is an error rather than a silent default. */
  only(known: readonly string[]): void {
    const unknown = Object.keys(this.params).filter((k) => !known.includes(k));
    if (unknown.length)
      throw new RangeError(
        `${this.policy}: unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')})`,
      );
  }
}
