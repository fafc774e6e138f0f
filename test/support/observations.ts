/**
 * Random observations for exactness tests, and an independent in-test model of what the
 * service must answer (written from SPEC §4-5, not from the service's code).
 */
export interface GeneratedObservation {
  platform: string;
  trendKey: string;
  displayName?: string;
  region?: string;
  observedAt: string;
  mentions: number;
  engagement?: number;
  sentiment?: number | null;
}

/** Deterministic PRNG so a failing seed can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Raw spellings; several normalize to the same key (case, spaces, full-width forms).
const RAW_KEYS = [
  'World Cup',
  ' world cup',
  'WORLD CUP ',
  'Ｗｏｒｌｄ Ｃｕｐ',
  'Taylor Swift',
  'taylor swift',
  'Eclipse',
  'eclipse 2026',
  'Ünïcödé Trend',
  '東京オリンピック',
  'fiesta 🎉',
  'Straße',
  'café au lait',
  'Café au lait',
  'Zebra',
  'apple',
  'Apple Event',
  'ai art',
  'AI Art',
  'ai',
];
const PLATFORMS = ['twitter', 'tiktok', 'reddit'];
const REGIONS = [undefined, 'us', 'GB', 'DE', 'GLOBAL'];

export function randomObservations(
  count: number,
  random: () => number,
  from: Date,
  to: Date,
): GeneratedObservation[] {
  const span = to.getTime() - from.getTime();
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  return Array.from({ length: count }, () => {
    const raw = pick(RAW_KEYS);
    const observation: GeneratedObservation = {
      platform: pick(PLATFORMS),
      trendKey: raw,
      region: pick(REGIONS),
      // whole seconds plus random milliseconds, so bucket edges get exercised
      observedAt: new Date(from.getTime() + Math.floor(random() * span)).toISOString(),
      mentions: Math.floor(random() * 1000),
      engagement: Math.floor(random() * 5000),
    };
    const s = random();
    if (s < 0.15) observation.sentiment = null;
    else if (s < 0.9) observation.sentiment = Math.round((random() * 2 - 1) * 1000) / 1000;
    if (random() < 0.5) observation.displayName = `${raw.trim()} (${pick(['a', 'b', 'c'])})`;
    return observation;
  });
}

/** What the service stores for one observation, per SPEC §4. */
export interface StoredObservation {
  platform: string;
  region: string;
  key: string;
  displayName: string;
  at: number;
  mentions: number;
  engagement: number;
  sentiment: number | null;
}

export const normalizeKey = (raw: string) => raw.normalize('NFKC').trim().toLowerCase();

/** Applies dedup across everything sent: the first item of each (platform, region, key, time) wins. */
export function storedRows(sent: GeneratedObservation[]): StoredObservation[] {
  const seen = new Map<string, StoredObservation>();
  for (const o of sent) {
    const row: StoredObservation = {
      platform: o.platform,
      region: (o.region ?? 'GLOBAL').toUpperCase(),
      key: normalizeKey(o.trendKey),
      displayName: o.displayName ?? o.trendKey.trim(),
      at: new Date(o.observedAt).getTime(),
      mentions: o.mentions,
      engagement: o.engagement ?? 0,
      // stored as PostgreSQL real (float4), read back as float4's shortest decimal
      sentiment:
        o.sentiment === undefined || o.sentiment === null ? null : float4AsSent(o.sentiment),
    };
    const id = `${row.platform}|${row.region}|${row.key}|${row.at}`;
    if (!seen.has(id)) seen.set(id, row);
  }
  return [...seen.values()];
}

/**
 * The shortest decimal that float4 maps to the same value as `value` (what PostgreSQL prints
 * for a real): 0.4 stays 0.4; 0.123456789 becomes 0.12345679.
 */
export function float4AsSent(value: number): number {
  const stored = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(stored.toPrecision(digits));
    if (Math.fround(candidate) === stored) return candidate;
  }
  return stored;
}

export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface Totals {
  mentions: number;
  engagement: number;
  samples: number;
  sentiment: number | null;
}

export function totals(rows: StoredObservation[]): Totals {
  let mentions = 0;
  let engagement = 0;
  let weighted = 0;
  let withSentiment = 0;
  for (const r of rows) {
    mentions += r.mentions;
    engagement += r.engagement;
    if (r.sentiment !== null) {
      weighted += r.sentiment * r.mentions;
      withSentiment += r.mentions;
    }
  }
  return {
    mentions,
    engagement,
    samples: rows.length,
    sentiment: withSentiment > 0 ? weighted / withSentiment : null,
  };
}

export function inRange(
  rows: StoredObservation[],
  from: number,
  to: number,
  platform?: string,
  region?: string,
) {
  return rows.filter(
    (r) =>
      r.at >= from &&
      r.at < to &&
      (platform === undefined || r.platform === platform) &&
      (region === undefined || r.region === region),
  );
}

export function groupByKey(rows: StoredObservation[]): Map<string, StoredObservation[]> {
  const groups = new Map<string, StoredObservation[]>();
  for (const r of rows) groups.set(r.key, [...(groups.get(r.key) ?? []), r]);
  return groups;
}

/**
 * Display name of a key (SPEC §5): the spelling with the most mentions over all its stored
 * rows; ties → the spelling seen latest; then the greatest name (byte order).
 */
export function displayNameOf(rows: StoredObservation[], key: string): string {
  const spellings = new Map<string, { mentions: number; latest: number }>();
  for (const r of rows) {
    if (r.key !== key) continue;
    const s = spellings.get(r.displayName) ?? { mentions: 0, latest: -Infinity };
    s.mentions += r.mentions;
    s.latest = Math.max(s.latest, r.at);
    spellings.set(r.displayName, s);
  }
  const ranked = [...spellings.entries()].sort(
    ([nameA, a], [nameB, b]) =>
      b.mentions - a.mentions || b.latest - a.latest || byteOrder(nameB, nameA),
  );
  return ranked[0][0];
}

/** Relative comparison for float sums whose addition order differs. */
export function expectClose(actual: number | null, expected: number | null, relative = 1e-9): void {
  if (expected === null || actual === null) {
    expect(actual).toBe(expected);
    return;
  }
  const scale = Math.max(Math.abs(expected), 1e-12);
  if (Math.abs(actual - expected) / scale > relative) {
    throw new Error(`expected ${actual} to be within ${relative} (relative) of ${expected}`);
  }
}
