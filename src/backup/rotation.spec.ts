import { RotationCandidate, isoWeekKey, planRotation } from './rotation';

/** One backup per day at 02:00 UTC for `days` days ending at `last`, newest first. */
function daily(last: string, days: number): RotationCandidate[] {
  const end = Date.parse(`${last}T02:00:00Z`);
  return Array.from({ length: days }, (_, i) => {
    const at = new Date(end - i * 86_400_000);
    return { id: at.toISOString().slice(0, 10), startedAt: at, verified: false };
  });
}

describe('isoWeekKey', () => {
  it.each([
    ['2026-11-23', '2026-W48'], // Monday
    ['2026-11-22', '2026-W47'], // Sunday belongs to the previous week
    ['2021-01-03', '2020-W53'], // early January in the previous ISO year
    ['2024-12-30', '2025-W01'], // late December in the next ISO year
  ])('%s → %s', (day, week) => expect(isoWeekKey(new Date(`${day}T12:00:00Z`))).toBe(week));
});

describe('planRotation', () => {
  it('keeps exactly the 7 daily, 4 weekly and 6 monthly newest of a year of daily backups', () => {
    const backups = daily('2026-11-21', 365);
    const plan = planRotation(backups, { daily: 7, weekly: 4, monthly: 6 });
    // Computed by hand: 2026-11-21 is a Saturday.
    const expectedDaily = [
      '2026-11-21',
      '2026-11-20',
      '2026-11-19',
      '2026-11-18',
      '2026-11-17',
      '2026-11-16',
      '2026-11-15',
    ];
    // Newest of ISO weeks W47 (21st), W46 (Sun 15th), W45 (Sun 8th), W44 (Sun 1st).
    const expectedWeekly = ['2026-11-21', '2026-11-15', '2026-11-08', '2026-11-01'];
    // Newest of Nov (21st), Oct, Sep, Aug, Jul, Jun (last days).
    const expectedMonthly = [
      '2026-11-21',
      '2026-10-31',
      '2026-09-30',
      '2026-08-31',
      '2026-07-31',
      '2026-06-30',
    ];
    const expected = [...new Set([...expectedDaily, ...expectedWeekly, ...expectedMonthly])]
      .sort()
      .reverse();
    expect(plan.keep).toEqual(expected);
    expect(plan.keep).toHaveLength(7 + 2 + 5);
    expect(plan.remove).toHaveLength(365 - expected.length);
    expect(plan.reasons['2026-11-15']).toEqual(['daily 2026-11-15', 'weekly 2026-W46']);
  });

  it('keeps the newest backup of a day when there are several', () => {
    const morning = { id: 'a', startedAt: new Date('2026-11-21T02:00:00Z'), verified: false };
    const evening = { id: 'b', startedAt: new Date('2026-11-21T20:00:00Z'), verified: false };
    const plan = planRotation([morning, evening], { daily: 7, weekly: 0, monthly: 0 });
    expect(plan.keep).toEqual(['b']);
    expect(plan.remove).toEqual(['a']);
  });

  it('counts days that have backups, not calendar days (gaps do not shorten retention)', () => {
    const backups = [0, 3, 10, 30].map((gap) => ({
      id: `d${gap}`,
      startedAt: new Date(Date.parse('2026-11-21T02:00:00Z') - gap * 86_400_000),
      verified: false,
    }));
    expect(planRotation(backups, { daily: 3, weekly: 0, monthly: 0 }).keep).toEqual([
      'd0',
      'd3',
      'd10',
    ]);
  });

  it('never removes the newest verified backup', () => {
    const backups = daily('2026-11-21', 20).map((b) => ({
      ...b,
      verified: b.id === '2026-11-05' || b.id === '2026-11-02',
    }));
    const plan = planRotation(backups, { daily: 2, weekly: 0, monthly: 0 });
    expect(plan.keep).toEqual(['2026-11-21', '2026-11-20', '2026-11-05']);
    expect(plan.reasons['2026-11-05']).toEqual(['newest verified']);
    expect(plan.remove).toContain('2026-11-02');
  });

  it('with nothing to keep but a verified backup, keeps only that one', () => {
    const backups = daily('2026-11-21', 3).map((b) => ({ ...b, verified: b.id === '2026-11-20' }));
    expect(planRotation(backups, { daily: 0, weekly: 0, monthly: 0 })).toMatchObject({
      keep: ['2026-11-20'],
      remove: ['2026-11-21', '2026-11-19'],
    });
  });
});
