import { expect } from 'chai';
import { CronError, nextTick, parseCron } from '../../../../src/sim/embedded/cron.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString().replace('.000Z', 'Z'));

function ticks(schedule: string, fromIso: string, n: number): (string | null)[] {
  const s = parseCron(schedule);
  const out: (string | null)[] = [];
  let t = at(fromIso);
  for (let i = 0; i < n; i++) {
    const next = nextTick(s, t);
    out.push(iso(next));
    if (next === null) break;
    t = next;
  }
  return out;
}

describe('embedded: cron schedules', () => {
  it('ticks every minute, strictly after the given time', () => {
    expect(ticks('* * * * *', '2025-03-29T22:20:23Z', 3)).to.deep.equal([
      '2025-03-29T22:21:00Z',
      '2025-03-29T22:22:00Z',
      '2025-03-29T22:23:00Z',
    ]);
    expect(ticks('* * * * *', '2025-03-29T22:20:00Z', 1)).to.deep.equal(['2025-03-29T22:21:00Z']);
  });

  it('supports steps, ranges, lists and a/n', () => {
    expect(ticks('*/15 * * * *', '2025-01-01T00:01:00Z', 3)).to.deep.equal([
      '2025-01-01T00:15:00Z',
      '2025-01-01T00:30:00Z',
      '2025-01-01T00:45:00Z',
    ]);
    expect(ticks('5,10-12 3 * * *', '2025-01-01T00:00:00Z', 5)).to.deep.equal([
      '2025-01-01T03:05:00Z',
      '2025-01-01T03:10:00Z',
      '2025-01-01T03:11:00Z',
      '2025-01-01T03:12:00Z',
      '2025-01-02T03:05:00Z',
    ]);
    expect(ticks('50/5 * * * *', '2025-01-01T00:00:00Z', 3)).to.deep.equal([
      '2025-01-01T00:50:00Z',
      '2025-01-01T00:55:00Z',
      '2025-01-01T01:50:00Z',
    ]);
    expect(ticks('0 9-17/4 * * *', '2025-01-01T00:00:00Z', 4)).to.deep.equal([
      '2025-01-01T09:00:00Z',
      '2025-01-01T13:00:00Z',
      '2025-01-01T17:00:00Z',
      '2025-01-02T09:00:00Z',
    ]);
  });

  it('handles names, months, and the day-of-month / day-of-week OR rule', () => {
    // 2025-01-01 is a Wednesday.
    expect(ticks('0 0 * * MON-FRI', '2025-01-03T12:00:00Z', 2)).to.deep.equal([
      '2025-01-06T00:00:00Z',
      '2025-01-07T00:00:00Z',
    ]);
    expect(ticks('0 0 1 FEB *', '2025-01-15T00:00:00Z', 2)).to.deep.equal([
      '2025-02-01T00:00:00Z',
      '2026-02-01T00:00:00Z',
    ]);
    // Both day fields restricted: the 15th OR any Sunday.
    expect(ticks('0 0 15 * 0', '2025-01-10T00:00:00Z', 3)).to.deep.equal([
      '2025-01-12T00:00:00Z',
      '2025-01-15T00:00:00Z',
      '2025-01-19T00:00:00Z',
    ]);
    // A star in day-of-week: only the 31st.
    expect(ticks('0 0 31 * *', '2025-02-01T00:00:00Z', 2)).to.deep.equal([
      '2025-03-31T00:00:00Z',
      '2025-05-31T00:00:00Z',
    ]);
    expect(ticks('0 0 29 2 *', '2025-01-01T00:00:00Z', 1)).to.deep.equal(['2028-02-29T00:00:00Z']);
  });

  it('expands the macros', () => {
    expect(ticks('@hourly', '2025-01-01T00:30:00Z', 1)).to.deep.equal(['2025-01-01T01:00:00Z']);
    expect(ticks('@daily', '2025-01-01T00:30:00Z', 1)).to.deep.equal(['2025-01-02T00:00:00Z']);
    expect(ticks('@weekly', '2025-01-01T00:30:00Z', 1)).to.deep.equal(['2025-01-05T00:00:00Z']);
    expect(ticks('@yearly', '2025-01-01T00:30:00Z', 1)).to.deep.equal(['2026-01-01T00:00:00Z']);
  });

  it('rejects what Kubernetes rejects', () => {
    for (const bad of [
      '* * * *',
      '* * * * * *',
      '60 * * * *',
      '* 24 * * *',
      '* * 0 * *',
      '* * * 13 *',
      '* * * * 7',
      'x * * * *',
      '*/0 * * * *',
      '5-1 * * * *',
      'TZ=UTC * * * * *',
      '@every 1m',
      '',
    ]) {
      expect(() => parseCron(bad), bad).to.throw(CronError);
    }
  });

  it('returns null when a valid schedule never fires within five years', () => {
    expect(nextTick(parseCron('0 0 30 2 *'), at('2025-01-01T00:00:00Z'))).to.equal(null);
  });
});
