import { bucketsRead, previousPeriod, resolveRange, splitRange } from './analytics-range';

const t = (iso: string) => new Date(iso);
const limits = { maxRangeDays: 400, maxBuckets: 1000 };

describe('splitRange', () => {
  it('reads whole hours from rollups and ragged minutes from raw rows', () => {
    const parts = splitRange({ from: t('2026-11-01T10:17:00Z'), to: t('2026-11-02T12:43:00Z') });
    expect(parts.map((p) => [p.range.from.toISOString(), p.range.to.toISOString(), p.raw])).toEqual(
      [
        ['2026-11-01T10:17:00.000Z', '2026-11-01T11:00:00.000Z', true],
        ['2026-11-01T11:00:00.000Z', '2026-11-02T12:00:00.000Z', false],
        ['2026-11-02T12:00:00.000Z', '2026-11-02T12:43:00.000Z', true],
      ],
    );
  });

  it('keeps a range inside one hour raw and an aligned range whole', () => {
    expect(
      splitRange({ from: t('2026-11-01T10:05:00Z'), to: t('2026-11-01T10:55:00Z') }),
    ).toHaveLength(1);
    expect(splitRange({ from: t('2026-11-01T10:00:00Z'), to: t('2026-11-01T12:00:00Z') })).toEqual([
      { range: { from: t('2026-11-01T10:00:00Z'), to: t('2026-11-01T12:00:00Z') }, raw: false },
    ]);
    expect(splitRange({ from: t('2026-11-01T12:00:00Z'), to: t('2026-11-01T12:00:00Z') })).toEqual(
      [],
    );
  });
});

describe('bucketsRead', () => {
  it('counts hourly and daily buckets and one per raw piece', () => {
    // 23 h + 2 days + 23 h
    expect(bucketsRead({ from: t('2026-11-01T01:00:00Z'), to: t('2026-11-03T23:00:00Z') })).toBe(
      23 + 1 + 23,
    );
    expect(bucketsRead({ from: t('2026-11-01T00:30:00Z'), to: t('2026-11-04T00:00:00Z') })).toBe(
      1 + 23 + 2,
    );
  });
});

describe('resolveRange', () => {
  const now = t('2026-11-21T10:20:00Z');
  it('defaults to the 24 hours ending at the end of the current hour', () => {
    expect(resolveRange({}, now, limits)).toEqual({
      from: t('2026-11-20T11:00:00Z'),
      to: t('2026-11-21T11:00:00Z'),
    });
  });
  it('refuses from >= to and ranges over the cap, naming from', () => {
    expect(() =>
      resolveRange({ from: '2026-11-21T00:00:00Z', to: '2026-11-21T00:00:00Z' }, now, limits),
    ).toThrow(/from/);
    expect(() =>
      resolveRange({ from: '2025-01-01T00:00:00Z', to: '2026-11-21T00:00:00Z' }, now, limits),
    ).toThrow(/400 days/);
  });
  it('previousPeriod has the same length just before', () => {
    expect(
      previousPeriod({ from: t('2026-11-02T00:00:00Z'), to: t('2026-11-03T12:00:00Z') }),
    ).toEqual({
      from: t('2026-10-31T12:00:00Z'),
      to: t('2026-11-02T00:00:00Z'),
    });
  });
});
