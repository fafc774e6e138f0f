import { SeriesQueryDto } from './dto/query.dto';
import { MAX_SERIES_POINTS, resolveSeriesRange } from './trends.service';

const query = (fields: Partial<SeriesQueryDto>): SeriesQueryDto =>
  Object.assign(new SeriesQueryDto(), fields);
const now = new Date('2026-11-22T10:17:00Z');

describe('resolveSeriesRange', () => {
  it('floors from and rounds to up to the interval', () => {
    expect(
      resolveSeriesRange(
        query({ interval: 'hour', from: '2026-11-22T01:30:00Z', to: '2026-11-22T03:10:00Z' }),
        now,
      ),
    ).toEqual({ from: new Date('2026-11-22T01:00:00Z'), to: new Date('2026-11-22T04:00:00Z') });
  });

  it('defaults to the last 24 hours, 60 minutes or 30 days up to the current bucket', () => {
    expect(resolveSeriesRange(query({ interval: 'hour' }), now)).toEqual({
      from: new Date('2026-11-21T11:00:00Z'),
      to: new Date('2026-11-22T11:00:00Z'),
    });
    expect(resolveSeriesRange(query({ interval: 'minute' }), now).from).toEqual(
      new Date('2026-11-22T09:17:00Z'),
    );
    expect(resolveSeriesRange(query({ interval: 'day' }), now).from).toEqual(
      new Date('2026-10-24T00:00:00Z'),
    );
  });

  it('rejects from after to even when both fall into one bucket', () => {
    expect(() =>
      resolveSeriesRange(
        query({ interval: 'hour', from: '2026-11-22T10:45:00Z', to: '2026-11-22T10:30:00Z' }),
        now,
      ),
    ).toThrow(/from must be before to/);
  });

  it('caps the number of points', () => {
    const from = new Date(now.getTime() - (MAX_SERIES_POINTS + 1) * 60_000).toISOString();
    expect(() =>
      resolveSeriesRange(query({ interval: 'minute', from, to: now.toISOString() }), now),
    ).toThrow(/more than 10000/);
    const ok = new Date(now.getTime() - MAX_SERIES_POINTS * 60_000).toISOString();
    expect(() =>
      resolveSeriesRange(query({ interval: 'minute', from: ok, to: now.toISOString() }), now),
    ).not.toThrow();
  });
});
