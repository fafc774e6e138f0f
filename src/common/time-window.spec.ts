import {
  DAY,
  HOUR,
  MINUTE,
  WINDOWS,
  bucketStarts,
  daysCovered,
  parseTimeParam,
  resolveWindow,
  rollupSegments,
} from './time-window';

const at = (iso: string) => new Date(iso);

describe('resolveWindow', () => {
  const now = at('2026-11-22T10:17:05Z');

  it('defaults an hour-or-longer window to the end of the current hour', () => {
    const w = resolveWindow(WINDOWS['24h'], undefined, now);
    expect(w.current.to.toISOString()).toBe('2026-11-22T11:00:00.000Z');
    expect(w.current.from.toISOString()).toBe('2026-11-21T11:00:00.000Z');
    expect(w.previous).toEqual({ from: at('2026-11-20T11:00:00Z'), to: w.current.from });
    expect(w.raw).toBe(false);
  });

  it('rounds an explicit at up to a whole hour, and keeps an aligned at', () => {
    expect(resolveWindow(HOUR, at('2026-11-22T10:00:01Z'), now).current.to).toEqual(
      at('2026-11-22T11:00:00Z'),
    );
    expect(resolveWindow(HOUR, at('2026-11-22T10:00:00Z'), now).current.to).toEqual(
      at('2026-11-22T10:00:00Z'),
    );
  });

  it('ends the 15m window at `at` (default now) and marks it raw', () => {
    const w = resolveWindow(WINDOWS['15m'], undefined, now);
    expect(w.raw).toBe(true);
    expect(w.current).toEqual({ from: new Date(now.getTime() - 15 * MINUTE), to: now });
    expect(w.previous.to).toEqual(w.current.from);
  });
});

describe('rollupSegments', () => {
  it('uses only hourly rows inside one day', () => {
    expect(
      rollupSegments({ from: at('2026-11-22T01:00:00Z'), to: at('2026-11-22T05:00:00Z') }),
    ).toEqual([
      { grain: 'hour', from: at('2026-11-22T01:00:00Z'), to: at('2026-11-22T05:00:00Z') },
    ]);
  });

  it('reads whole days from the daily rollup and ragged ends hourly', () => {
    const segments = rollupSegments({
      from: at('2026-11-15T11:00:00Z'),
      to: at('2026-11-22T11:00:00Z'),
    });
    expect(segments).toEqual([
      { grain: 'hour', from: at('2026-11-15T11:00:00Z'), to: at('2026-11-16T00:00:00Z') },
      { grain: 'day', from: at('2026-11-16T00:00:00Z'), to: at('2026-11-22T00:00:00Z') },
      { grain: 'hour', from: at('2026-11-22T00:00:00Z'), to: at('2026-11-22T11:00:00Z') },
    ]);
  });

  it('covers the range exactly once', () => {
    for (let i = 0; i < 200; i++) {
      const from = Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 2000) * HOUR;
      const to = from + Math.floor(Math.random() * 2000) * HOUR;
      const segments = rollupSegments({ from: new Date(from), to: new Date(to) });
      let cursor = from;
      for (const s of segments) {
        expect(s.from.getTime()).toBe(cursor);
        if (s.grain === 'day') expect(s.from.getTime() % DAY).toBe(0);
        cursor = s.to.getTime();
      }
      expect(cursor).toBe(segments.length ? to : from);
    }
  });

  it('rejects ranges that are not hour-aligned', () => {
    expect(() =>
      rollupSegments({ from: at('2026-11-22T01:30:00Z'), to: at('2026-11-22T05:00:00Z') }),
    ).toThrow();
  });
});

describe('buckets and days', () => {
  it('lists bucket starts of a half-open range', () => {
    const starts = bucketStarts(
      { from: at('2026-11-22T00:00:00Z'), to: at('2026-11-22T03:00:00Z') },
      HOUR,
    );
    expect(starts.map((d) => d.toISOString().slice(11, 13))).toEqual(['00', '01', '02']);
  });

  it('lists the UTC days a range touches', () => {
    expect(
      daysCovered({ from: at('2026-11-21T23:00:00Z'), to: at('2026-11-23T00:00:00Z') }),
    ).toEqual(['2026-11-21', '2026-11-22']);
  });
});

describe('parseTimeParam', () => {
  const now = at('2026-11-30T10:00:00Z');
  const parse = (value: string, field = 'at') => parseTimeParam(value, field, now)?.toISOString();
  const refusal = (value: string, field = 'at') => {
    try {
      parseTimeParam(value, field, now);
    } catch (error) {
      const body = (error as { getResponse(): { errors: { field: string }[] } }).getResponse();
      return body.errors.map((e) => e.field);
    }
    return 'accepted';
  };

  // `npm test` runs this file a second time under TZ=Asia/Kolkata (npm run test:tz): the old
  // `new Date(value)` read these times in the process's zone and failed there.
  it('reads a time without an offset as UTC, whatever the process time zone', () => {
    expect(parse('2026-11-30T12:00:00')).toBe('2026-11-30T12:00:00.000Z');
    expect(parse('2026-11-30T00:00')).toBe('2026-11-30T00:00:00.000Z');
    expect(parse('2026-11-30T23:59:59.5')).toBe('2026-11-30T23:59:59.500Z');
    expect(parse('2026-11-30')).toBe('2026-11-30T00:00:00.000Z');
    expect(parse('2026-11')).toBe('2026-11-01T00:00:00.000Z');
  });

  it('applies explicit offsets', () => {
    expect(parse('2026-11-30T12:00:00Z')).toBe('2026-11-30T12:00:00.000Z');
    expect(parse('2026-11-30T12:00:00+05:30')).toBe('2026-11-30T06:30:00.000Z');
    expect(parse('2026-11-30T12:00:00-0800')).toBe('2026-11-30T20:00:00.000Z');
    expect(parse('2026-11-30T12:00:00+02')).toBe('2026-11-30T10:00:00.000Z');
    expect(parse('2026-11-30T12:00:00.123456Z')).toBe('2026-11-30T12:00:00.123Z');
    expect(parse('2026-11-30T24:00:00Z')).toBe('2026-12-01T00:00:00.000Z');
  });

  it('refuses impossible or malformed times, naming the parameter', () => {
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-13-01',
      '2026-11-30T25:00:00Z',
      '2026-11-30T12:60:00Z',
      '2026-11-30T12:00:00+24:00',
      '2026-11-30 12:00:00',
      'yesterday',
      '10000-01-01T00:00:00Z',
      '+010000-01-01T00:00:00Z',
    ]) {
      expect([bad, refusal(bad, 'from')]).toEqual([bad, ['from']]);
    }
    expect(refusal('0000-01-01T00:00:00Z', 'to')).toEqual(['to']);
  });

  it('refuses times absurdly far ahead, and accepts times up to a year ahead', () => {
    expect(refusal('9999-12-31T23:00:00Z')).toEqual(['at']);
    expect(refusal('2027-12-31T00:00:00Z', 'to')).toEqual(['to']);
    expect(parse('2027-11-30T00:00:00Z')).toBe('2027-11-30T00:00:00.000Z');
    expect(parse('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
  });
});
