import { DAY, HOUR, MINUTE } from '../../common/time-window';
import { ObservationRow } from '../ingest-validator';

/**
 * A realistic synthetic data set: Zipf-like popularity over trend keys, a diurnal cycle, a few
 * viral bursts, several platforms and regions. Deterministic for a given seed and end time.
 */
export interface DemoOptions {
  days: number;
  end: Date;
  seed?: number;
  trends?: number;
  stepMinutes?: number;
}

const PLATFORMS = ['twitter', 'tiktok', 'instagram', 'reddit', 'youtube'];
const REGIONS = ['GLOBAL', 'US', 'GB', 'DE', 'BR', 'IN', 'JP'];
const WORDS = [
  'world cup',
  'taylor swift',
  'election night',
  'black friday',
  'new iphone',
  'climate summit',
  'champions league',
  'oscars',
  'bitcoin',
  'ai art',
  'marathon',
  'eclipse',
  'space launch',
  'fashion week',
  'grammys',
  'super bowl',
  'earnings',
  'heatwave',
  'film festival',
  'esports final',
  'product recall',
  'viral dance',
  'cooking hack',
  'royal wedding',
  'transfer window',
  'album drop',
  'storm warning',
  'startup ipo',
  'game release',
  'tennis open',
];
const SUFFIXES = ['', ' 2026', ' live', ' news', ' highlights', ' reaction', ' memes', ' leak'];

/** Small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* demoObservations(options: DemoOptions): Generator<ObservationRow> {
  const random = prng(options.seed ?? 42);
  const trends = options.trends ?? 120;
  const step = (options.stepMinutes ?? 30) * MINUTE;
  const end = Math.floor(options.end.getTime() / step) * step;
  const start = end - options.days * DAY;

  for (let rank = 1; rank <= trends; rank++) {
    const name =
      WORDS[(rank - 1) % WORDS.length] +
      SUFFIXES[Math.floor((rank - 1) / WORDS.length) % SUFFIXES.length];
    const displayName = name.replace(/\b\w/g, (c) => c.toUpperCase());
    const popularity = 5000 / Math.pow(rank, 1.1);
    const platformCount = Math.max(1, Math.round(PLATFORMS.length * Math.pow(1 / rank, 0.3)));
    const regionCount = Math.max(1, Math.round(REGIONS.length * Math.pow(1 / rank, 0.4)));
    const burstAt = random() < 0.15 ? start + random() * (end - start) : undefined;
    const sentimentBias = random() * 1.2 - 0.6;

    for (const platform of PLATFORMS.slice(0, platformCount)) {
      for (const region of REGIONS.slice(0, regionCount)) {
        const share = region === 'GLOBAL' ? 1 : 0.3 + random() * 0.4;
        for (let t = start; t < end; t += step) {
          const hourOfDay = new Date(t).getUTCHours();
          const diurnal = 0.55 + 0.45 * Math.sin(((hourOfDay - 8) / 24) * 2 * Math.PI);
          const burst =
            burstAt && Math.abs(t - burstAt) < 6 * HOUR
              ? 8 * (1 - Math.abs(t - burstAt) / (6 * HOUR))
              : 0;
          const mentions = Math.round(
            popularity * share * diurnal * (1 + burst) * (0.7 + random() * 0.6),
          );
          if (mentions === 0 && random() < 0.5) continue;
          const iso = new Date(t).toISOString();
          yield {
            platform,
            region,
            trendKey: name,
            displayName,
            observedAt: iso,
            observedAtMicros: t * 1000,
            mentions,
            engagement: Math.round(mentions * (2 + random() * 8)),
            sentiment:
              random() < 0.1
                ? null
                : Math.max(-1, Math.min(1, sentimentBias + (random() - 0.5) * 0.6)),
            sourceId: null,
            metadata: null,
          };
        }
      }
    }
  }
}
