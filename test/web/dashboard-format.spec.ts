import {
  formatBytes,
  formatChange,
  formatCount,
  formatDuration,
  formatGrowth,
  formatPercent,
  formatSentiment,
  formatTime,
} from '../../web/src/lib/format';

describe('dashboard number formatting', () => {
  it('groups thousands with commas and keeps two decimals at most', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1,000');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(-45678)).toBe('-45,678');
    expect(formatCount(1234.567)).toBe('1,234.57');
    expect(formatCount(null)).toBe('—');
    expect(formatCount(undefined)).toBe('—');
    expect(formatCount(Number.NaN)).toBe('—');
  });

  it('shows growth as a signed percentage with one decimal, null as new', () => {
    expect(formatGrowth(0.5)).toBe('+50.0%');
    expect(formatGrowth(2)).toBe('+200.0%');
    expect(formatGrowth(-0.25)).toBe('−25.0%');
    expect(formatGrowth(12.3456)).toBe('+1,234.6%');
    expect(formatGrowth(0)).toBe('0.0%');
    // rounds to zero: no sign on a figure that reads 0.0
    expect(formatGrowth(0.0000001)).toBe('0.0%');
    expect(formatGrowth(null)).toBe('new');
    expect(formatGrowth(undefined)).toBe('—');
  });

  it('shows fractions (share, hit rate) as percentages', () => {
    expect(formatPercent(0.1234)).toBe('12.3%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(null)).toBe('—');
  });

  it('formats signed changes, sentiment, bytes, times and durations', () => {
    expect(formatChange(1200)).toBe('+1,200');
    expect(formatChange(-35)).toBe('−35');
    expect(formatChange(0)).toBe('0');
    expect(formatSentiment(0.4)).toBe('0.400');
    expect(formatSentiment(-0.12345)).toBe('-0.123');
    expect(formatSentiment(null)).toBe('—');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes('10485760')).toBe('10 MiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatTime('2026-11-30T14:05:09.123Z')).toBe('2026-11-30 14:05 UTC');
    expect(formatTime('2026-11-30T14:05:09.123Z', true)).toBe('2026-11-30 14:05:09 UTC');
    expect(formatTime('not a date')).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(3725)).toBe('1 h 2 min');
    expect(formatDuration(90061)).toBe('1 d 1 h');
  });
});
