/** A successful, not yet deleted backup as rotation sees it. */
export interface RotationCandidate {
  id: string;
  startedAt: Date;
  verified: boolean;
}

export interface RotationPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface RotationPlan {
  keep: string[];
  remove: string[];
  /** Why each kept backup survives (daily/weekly/monthly/newest-verified). */
  reasons: Record<string, string[]>;
}

const dayKey = (d: Date) => d.toISOString().slice(0, 10);
const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/** ISO-8601 week (Monday start, UTC), e.g. "2026-W47". */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - weekday); // the Thursday decides the ISO year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Grandfather-father-son: for the newest `daily` UTC days that have backups, keep the newest
 * backup of each day; likewise per ISO week and per calendar month. A backup may count for
 * several buckets. The newest verified backup is always kept, so rotation can never leave
 * the service without a backup known to restore. Pure, so it is tested on made-up dates.
 */
export function planRotation(backups: RotationCandidate[], policy: RotationPolicy): RotationPlan {
  const newestFirst = [...backups].sort(
    (a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  const reasons: Record<string, string[]> = {};
  const mark = (id: string, reason: string) => (reasons[id] ??= []).push(reason);

  const bucket = (name: string, count: number, key: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      if (seen.size >= count) break;
      const k = key(backup.startedAt);
      if (seen.has(k)) continue;
      seen.add(k);
      mark(backup.id, `${name} ${k}`);
    }
  };
  bucket('daily', policy.daily, dayKey);
  bucket('weekly', policy.weekly, isoWeekKey);
  bucket('monthly', policy.monthly, monthKey);

  const newestVerified = newestFirst.find((b) => b.verified);
  if (newestVerified) mark(newestVerified.id, 'newest verified');

  return {
    keep: newestFirst.filter((b) => reasons[b.id]).map((b) => b.id),
    remove: newestFirst.filter((b) => !reasons[b.id]).map((b) => b.id),
    reasons,
  };
}
