/**
 * One set of number and time formats for every view, so a figure reads the same wherever it
 * appears: counts with thousands separators, fractions (growth, share, hit rate) as %.
 * Locale pinned to en-US so tests and screenshots do not depend on the browser's locale.
 */
const LOCALE = 'en-US';
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(LOCALE, {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

export const DASH = '—';

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** 1234567 → "1,234,567"; non-integers keep up to two decimals. */
export function formatCount(value: number | null | undefined): string {
  if (!isNumber(value)) return DASH;
  return Number.isInteger(value) ? integer.format(value) : decimal.format(value);
}

/** A fraction as a percentage with one decimal: 0.1234 → "12.3%". */
export function formatPercent(value: number | null | undefined): string {
  if (!isNumber(value)) return DASH;
  return `${percent.format(value * 100)}%`;
}

/**
 * Growth (a fraction, SPEC §5) as a signed percentage: 0.5 → "+50.0%", -0.25 → "−25.0%".
 * null means the previous window had no mentions: shown as "new".
 */
export function formatGrowth(value: number | null | undefined): string {
  if (value === null) return 'new';
  if (!isNumber(value)) return DASH;
  const text = percent.format(Math.abs(value) * 100);
  if (text === '0.0') return '0.0%';
  return `${value > 0 ? '+' : '−'}${text}%`;
}

/** A signed count: +1,200 / −35. */
export function formatChange(value: number | null | undefined): string {
  if (!isNumber(value)) return DASH;
  if (value === 0) return '0';
  return `${value > 0 ? '+' : '−'}${formatCount(Math.abs(value))}`;
}

/** Mention-weighted sentiment in [-1, 1], three decimals. */
export function formatSentiment(value: number | null | undefined): string {
  if (!isNumber(value)) return DASH;
  return value.toFixed(3);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units: 1536 → "1.5 KiB". */
export function formatBytes(value: number | string | null | undefined): string {
  const bytes = typeof value === 'string' ? Number(value) : value;
  if (!isNumber(bytes)) return DASH;
  let scaled = bytes;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${integer.format(scaled)} B` : `${decimal.format(scaled)} ${UNITS[unit]}`;
}

/** A UTC time as "2026-11-30 14:05 UTC" (seconds with `seconds`). */
export function formatTime(iso: string | null | undefined, seconds = false): string {
  if (!iso) return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return DASH;
  const text = date
    .toISOString()
    .slice(0, seconds ? 19 : 16)
    .replace('T', ' ');
  return `${text} UTC`;
}

/** A duration in seconds, short: 42 → "42 s", 3725 → "1 h 2 min". */
export function formatDuration(totalSeconds: number | null | undefined): string {
  if (!isNumber(totalSeconds)) return DASH;
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Milliseconds: 1234 → "1,234 ms". */
export function formatMs(value: number | null | undefined): string {
  if (!isNumber(value)) return DASH;
  return `${formatCount(Math.round(value))} ms`;
}
