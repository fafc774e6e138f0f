import { FieldError } from '../common/field-errors';
import { codePointLength, normalizeTrendKey, PLATFORM_PATTERN } from './normalize';
import { GLOBAL_REGION, normalizeRegion } from './regions';

/** One validated, normalized observation, ready for the database. */
export interface ObservationRow {
  platform: string;
  region: string;
  trendKey: string;
  displayName: string;
  /** Canonical UTC timestamp with microseconds, as PostgreSQL stores it. */
  observedAt: string;
  /** Epoch microseconds: the time part of the dedup key. */
  observedAtMicros: number;
  mentions: number;
  engagement: number;
  sentiment: number | null;
  sourceId: string | null;
  metadata: string | null;
}

export interface IngestLimits {
  maxBatch: number;
  maxFutureSkewMs: number;
  /** Observations older than this (raw retention) are rejected; null = no bound. */
  oldestAllowed: Date | null;
  /** PLATFORMS allow-list (lower-case slugs); empty or absent = any valid slug. */
  platforms?: readonly string[];
}

const ITEM_FIELDS = new Set([
  'platform',
  'trendKey',
  'displayName',
  'region',
  'observedAt',
  'mentions',
  'engagement',
  'sentiment',
  'sourceId',
  'metadata',
]);
const MAX_ERRORS = 100;
const MAX_METADATA_BYTES = 4096;
// PostgreSQL text and jsonb cannot store U+0000; rejecting it here keeps a batch from failing
// in the database (and being retried forever).
const NUL = '\u0000';
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
// ISO 8601 date-time with an explicit offset; up to microsecond precision.
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

export type IngestValidation = { rows: ObservationRow[] } | { errors: FieldError[] };

/**
 * Validates and normalizes an ingest body in one pass. A hand-written check rather than
 * class-validator: this path runs for every item of 5,000-item batches, and class-validator
 * costs about as much per item as PostgreSQL spends storing it (docs/architecture.md).
 */
export function validateIngestBody(
  body: unknown,
  limits: IngestLimits,
  now: Date,
): IngestValidation {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string, index?: number) => {
    if (errors.length < MAX_ERRORS)
      errors.push(index === undefined ? { field, message } : { index, field, message });
  };

  if (!isPlainObject(body))
    return { errors: [{ field: 'body', message: 'must be a JSON object' }] };
  for (const key of Object.keys(body)) if (key !== 'observations') fail(key, 'unknown field');
  const items = body.observations;
  if (!Array.isArray(items)) {
    fail('observations', 'must be an array');
    return { errors };
  }
  if (items.length < 1 || items.length > limits.maxBatch) {
    fail('observations', `must contain 1 to ${limits.maxBatch} items (got ${items.length})`);
    return { errors };
  }

  const latest = now.getTime() + limits.maxFutureSkewMs;
  const rows: ObservationRow[] = [];
  items.forEach((item: unknown, index: number) => {
    const row = validateItem(item, index, latest, limits.oldestAllowed, fail, limits.platforms);
    if (row) rows.push(row);
  });
  return errors.length ? { errors } : { rows };
}

function validateItem(
  item: unknown,
  index: number,
  latestMs: number,
  oldest: Date | null,
  fail: (field: string, message: string, index?: number) => void,
  allowedPlatforms: readonly string[] = [],
): ObservationRow | undefined {
  if (!isPlainObject(item)) {
    fail('item', 'must be an object', index);
    return undefined;
  }
  let ok = true;
  const bad = (field: string, message: string) => {
    ok = false;
    fail(field, message, index);
  };
  for (const key of Object.keys(item)) if (!ITEM_FIELDS.has(key)) bad(key, 'unknown field');

  const {
    platform,
    trendKey,
    displayName,
    region,
    observedAt,
    mentions,
    engagement,
    sentiment,
    sourceId,
    metadata,
  } = item;

  // Slugs are case-insensitive: Twitter is stored as twitter.
  const slug = typeof platform === 'string' ? platform.toLowerCase() : undefined;
  if (slug === undefined || !PLATFORM_PATTERN.test(slug)) {
    bad('platform', 'must match ^[a-z0-9_-]{1,32}$ (any case)');
  } else if (allowedPlatforms.length && !allowedPlatforms.includes(slug)) {
    bad('platform', `must be one of ${allowedPlatforms.join(', ')} (PLATFORMS)`);
  }

  let key = '';
  if (typeof trendKey !== 'string') bad('trendKey', 'is required and must be a string');
  else {
    key = normalizeTrendKey(trendKey);
    const length = codePointLength(key);
    if (length < 1 || length > 200) bad('trendKey', 'must be 1 to 200 characters after trimming');
    else if (trendKey.includes(NUL)) bad('trendKey', NUL_MESSAGE);
  }

  let name = typeof trendKey === 'string' ? trendKey.trim() : '';
  if (displayName !== undefined) {
    if (
      typeof displayName !== 'string' ||
      codePointLength(displayName.trim()) < 1 ||
      codePointLength(displayName) > 200
    ) {
      bad('displayName', 'must be a string of 1 to 200 characters');
    } else if (displayName.includes(NUL)) bad('displayName', NUL_MESSAGE);
    else name = displayName.trim();
  }

  let regionCode = GLOBAL_REGION;
  if (region !== undefined) {
    const normalized = typeof region === 'string' ? normalizeRegion(region) : undefined;
    if (!normalized) bad('region', 'must be an ISO 3166-1 alpha-2 code or GLOBAL');
    else regionCode = normalized;
  }

  const time = parseTimestamp(observedAt);
  if (!time)
    bad('observedAt', 'must be an ISO 8601 timestamp with offset, e.g. 2026-11-22T10:00:00Z');
  else if (time.ms > latestMs)
    bad('observedAt', 'is too far in the future (INGEST_MAX_FUTURE_SKEW)');
  else if (oldest && time.ms < oldest.getTime()) {
    bad('observedAt', `is older than the raw retention window (before ${oldest.toISOString()})`);
  }

  if (!isCount(mentions)) bad('mentions', 'must be an integer >= 0');
  if (engagement !== undefined && !isCount(engagement))
    bad('engagement', 'must be an integer >= 0');
  if (
    sentiment !== undefined &&
    sentiment !== null &&
    (typeof sentiment !== 'number' ||
      !Number.isFinite(sentiment) ||
      sentiment < -1 ||
      sentiment > 1)
  ) {
    bad('sentiment', 'must be a number in [-1, 1] or null');
  }
  if (
    sourceId !== undefined &&
    sourceId !== null &&
    (typeof sourceId !== 'string' || codePointLength(sourceId) > 200)
  ) {
    bad('sourceId', 'must be a string of at most 200 characters');
  } else if (typeof sourceId === 'string' && sourceId.includes(NUL)) bad('sourceId', NUL_MESSAGE);
  let metadataJson: string | null = null;
  if (metadata !== undefined && metadata !== null) {
    if (!isPlainObject(metadata)) bad('metadata', 'must be an object');
    else {
      metadataJson = JSON.stringify(metadata);
      if (Buffer.byteLength(metadataJson) > MAX_METADATA_BYTES)
        bad('metadata', 'must be at most 4 KiB as JSON');
      else if (containsNul(metadata)) bad('metadata', NUL_MESSAGE);
    }
  }

  if (!ok || !time) return undefined;
  return {
    platform: slug as string,
    region: regionCode,
    trendKey: key,
    displayName: name,
    observedAt: time.iso,
    observedAtMicros: time.micros,
    mentions: mentions as number,
    engagement: (engagement as number | undefined) ?? 0,
    sentiment: (sentiment as number | null | undefined) ?? null,
    sourceId: (sourceId as string | null | undefined) ?? null,
    metadata: metadataJson,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when any key or string inside a JSON value holds U+0000 (jsonb rejects it). */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  if (Array.isArray(value)) return value.some(containsNul);
  if (isPlainObject(value)) {
    return Object.entries(value).some(([key, inner]) => key.includes(NUL) || containsNul(inner));
  }
  return false;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses an ISO 8601 timestamp with offset, keeping microseconds (JS Dates stop at
 * milliseconds, PostgreSQL does not). Rejects impossible dates such as Feb 30.
 */
export function parseTimestamp(
  value: unknown,
): { ms: number; micros: number; iso: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_WITH_OFFSET.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    local.getUTCFullYear() !== year ||
    local.getUTCMonth() !== month - 1 ||
    local.getUTCDate() !== day
  ) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const fraction = Number(frac.padEnd(6, '0'));
  const wholeMs = local.getTime() - offsetMinutes * 60_000;
  const micros = wholeMs * 1000 + fraction;
  const iso =
    new Date(wholeMs).toISOString().slice(0, 19) + '.' + String(fraction).padStart(6, '0') + 'Z';
  return { ms: wholeMs + Math.floor(fraction / 1000), micros, iso };
}
