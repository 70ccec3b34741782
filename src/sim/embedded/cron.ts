// Standard 5-field cron schedules, as the CronJob controller reads them (minute hour day-of-month month day-of-week),
// evaluated in UTC. Supports *, ?, values, names (JAN-DEC, SUN-SAT), ranges a-b, steps */n, a-b/n and a/n (a to max),
// comma lists, and the macros @yearly @annually @monthly @weekly @daily @midnight @hourly.
// Day matching follows the usual rule: when both day fields are restricted the day matches if either does;
// when either is a star (* or ?, without a step above 1) both must match.

export interface CronSchedule {
  readonly minute: readonly boolean[];
  readonly hour: readonly boolean[];
  readonly dom: readonly boolean[];
  readonly month: readonly boolean[];
  readonly dow: readonly boolean[];
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldSpec {
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 6, names: DAYS, nameBase: 0 },
];

export class CronError extends Error {
  override name = 'CronError';
}

function parseValue(s: string, f: FieldSpec, whole: string): number {
  if (f.names) {
    const i = f.names.indexOf(s.toUpperCase());
    if (i >= 0) return i + (f.nameBase ?? 0);
  }
  if (!/^\d+$/.test(s)) throw new CronError(`"${s}" is not a number in "${whole}"`);
  const v = Number(s);
  if (v < f.min || v > f.max) throw new CronError(`${v} is outside ${f.min}-${f.max} in "${whole}"`);
  return v;
}

/** Parse one field; returns the allowed values and whether it counts as a star for day matching. */
function parseField(text: string, f: FieldSpec): { bits: boolean[]; star: boolean } {
  const bits = new Array<boolean>(f.max + 1).fill(false);
  let star = false;
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(`empty list item in "${text}"`);
    const slash = part.split('/');
    if (slash.length > 2) throw new CronError(`"${part}" has more than one "/"`);
    const range = slash[0]!;
    let lo: number;
    let hi: number;
    let isStar = false;
    if (range === '*' || range === '?') {
      lo = f.min;
      hi = f.max;
      isStar = true;
    } else {
      const dash = range.split('-');
      if (dash.length > 2) throw new CronError(`"${range}" is not a range`);
      lo = parseValue(dash[0]!, f, text);
      hi = dash.length === 2 ? parseValue(dash[1]!, f, text) : lo;
      if (dash.length === 1 && slash.length === 2) hi = f.max; // "a/n" means a to max, every n
      if (lo > hi) throw new CronError(`range ${range} runs backwards`);
    }
    let step = 1;
    if (slash.length === 2) {
      if (!/^\d+$/.test(slash[1]!)) throw new CronError(`step "${slash[1]}" is not a number`);
      step = Number(slash[1]);
      if (step < 1) throw new CronError(`step must be at least 1 in "${part}"`);
      if (step > 1) isStar = false;
    }
    if (isStar) star = true;
    for (let v = lo; v <= hi; v += step) bits[v] = true;
  }
  return { bits, star };
}

/** Parse a CronJob schedule; throws CronError with a reason when Kubernetes would reject it. */
export function parseCron(schedule: string): CronSchedule {
  let text = schedule.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new CronError('a TZ= prefix in the schedule is not allowed (use spec.timeZone)');
  if (text.startsWith('@')) {
    const m = MACROS[text.toLowerCase()];
    if (!m) throw new CronError(`unknown macro "${text}"`);
    text = m;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`);
  const [mi, h, dom, mo, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  return {
    minute: mi.bits,
    hour: h.bits,
    dom: dom.bits,
    month: mo.bits,
    dow: dow.bits,
    domStar: dom.star,
    dowStar: dow.star,
  };
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const domMatch = s.dom[d.getUTCDate()] === true;
  const dowMatch = s.dow[d.getUTCDay()] === true;
  return s.domStar || s.dowStar ? domMatch && dowMatch : domMatch || dowMatch;
}

const SEARCH_LIMIT_SECONDS = 5 * 366 * 86400;

/** The first scheduled time strictly after `after` (Unix seconds, UTC), or null if none within five years. */
export function nextTick(s: CronSchedule, after: number): number | null {
  let t = Math.floor(after / 60) * 60 + 60;
  const limit = after + SEARCH_LIMIT_SECONDS;
  while (t <= limit) {
    const d = new Date(t * 1000);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth();
    if (!s.month[mo + 1]) {
      t = Date.UTC(y, mo + 1, 1) / 1000;
      continue;
    }
    const day = d.getUTCDate();
    if (!dayMatches(s, d)) {
      t = Date.UTC(y, mo, day + 1) / 1000;
      continue;
    }
    const h = d.getUTCHours();
    if (!s.hour[h]) {
      t = Date.UTC(y, mo, day, h + 1) / 1000;
      continue;
    }
    if (!s.minute[d.getUTCMinutes()]) {
      t += 60;
      continue;
    }
    return t;
  }
  return null;
}
