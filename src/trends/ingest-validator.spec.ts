import { parseTimestamp, validateIngestBody } from './ingest-validator';
import { normalizeTrendKey, codePointLength } from './normalize';
import { normalizeRegion } from './regions';

const now = new Date('2026-11-22T12:00:00Z');
const limits = {
  maxBatch: 3,
  maxFutureSkewMs: 5 * 60_000,
  oldestAllowed: new Date('2026-08-24T12:00:00Z'),
};
const item = (overrides: Record<string, unknown> = {}) => ({
  platform: 'reddit',
  trendKey: 'Key',
  observedAt: '2026-11-22T11:00:00Z',
  mentions: 1,
  ...overrides,
});

describe('normalizeTrendKey', () => {
  it.each([
    ['  Taylor Swift ', 'taylor swift'],
    ['ＴＡＹＬＯＲ', 'taylor'],
    ['Straße', 'straße'],
    ['ﬁre', 'fire'], // NFKC ligature
    ['\u00a0Café\u00a0', 'café'], // no-break spaces become spaces, then trimmed
  ])('%j → %j', (raw, expected) => expect(normalizeTrendKey(raw)).toBe(expected));

  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('🎉🎉')).toBe(2);
  });
});

describe('normalizeRegion', () => {
  it('upper-cases known codes and GLOBAL', () => {
    expect(normalizeRegion('us')).toBe('US');
    expect(normalizeRegion('global')).toBe('GLOBAL');
  });
  it('rejects unassigned or malformed codes', () => {
    expect(normalizeRegion('XX')).toBeUndefined();
    expect(normalizeRegion('USA')).toBeUndefined();
  });
});

describe('parseTimestamp', () => {
  it('applies the offset and keeps microseconds', () => {
    expect(parseTimestamp('2026-11-22T10:00:00.123456+05:30')).toEqual({
      ms: Date.parse('2026-11-22T04:30:00.123Z'),
      micros: Date.parse('2026-11-22T04:30:00Z') * 1000 + 123456,
      iso: '2026-11-22T04:30:00.123456Z',
    });
  });
  it.each([
    '2026-11-22T10:00:00',
    '2026-11-22',
    '2026-02-29T00:00:00Z',
    '2026-11-22T24:00:00Z',
    'yesterday',
    5,
  ])('rejects %j', (value) => expect(parseTimestamp(value)).toBeUndefined());
  it('accepts a leap day and minutes-only times', () => {
    expect(parseTimestamp('2028-02-29T00:00Z')?.iso).toBe('2028-02-29T00:00:00.000000Z');
  });
});

describe('validateIngestBody', () => {
  it('normalizes and applies defaults', () => {
    const result = validateIngestBody(
      { observations: [item({ region: 'gb', trendKey: ' Big News ' })] },
      limits,
      now,
    );
    expect(result).toEqual({
      rows: [
        expect.objectContaining({
          region: 'GB',
          trendKey: 'big news',
          displayName: 'Big News',
          engagement: 0,
          sentiment: null,
          sourceId: null,
          metadata: null,
        }),
      ],
    });
  });

  it('enforces the future skew and the retention bound on observedAt', () => {
    const tooNew = item({ observedAt: '2026-11-22T12:06:00Z' });
    const justOk = item({ observedAt: '2026-11-22T12:04:59Z' });
    const tooOld = item({ observedAt: '2026-08-24T11:59:59Z' });
    const result = validateIngestBody({ observations: [tooNew, justOk, tooOld] }, limits, now);
    expect('errors' in result && result.errors.map((e) => [e.index, e.field])).toEqual([
      [0, 'observedAt'],
      [2, 'observedAt'],
    ]);
  });

  it('rejects batches outside 1..maxBatch and unknown top-level fields', () => {
    expect(validateIngestBody({ observations: [] }, limits, now)).toEqual({
      errors: [{ field: 'observations', message: expect.stringContaining('1 to 3') }],
    });
    const extra = validateIngestBody({ observations: [item()], dryRun: true }, limits, now);
    expect('errors' in extra && extra.errors).toEqual([
      { field: 'dryRun', message: 'unknown field' },
    ]);
  });

  it('rejects non-object items and bodies', () => {
    expect(validateIngestBody([1], limits, now)).toEqual({
      errors: [{ field: 'body', message: 'must be a JSON object' }],
    });
    const result = validateIngestBody({ observations: [null] }, limits, now);
    expect('errors' in result && result.errors).toEqual([
      { index: 0, field: 'item', message: 'must be an object' },
    ]);
  });

  it('measures metadata size as JSON bytes', () => {
    const fits = validateIngestBody(
      { observations: [item({ metadata: { a: 'x'.repeat(4088) } })] },
      limits,
      now,
    );
    expect('rows' in fits).toBe(true); // {"a":"…"} is exactly 4096 bytes
    const over = validateIngestBody(
      { observations: [item({ metadata: { a: 'x'.repeat(4089) } })] },
      limits,
      now,
    );
    expect('errors' in over && over.errors[0].field).toBe('metadata');
  });
});
