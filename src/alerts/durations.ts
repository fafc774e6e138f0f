const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Rule durations (`for`, `keepFiringFor`, `repeatInterval`): `0m`, `90s`, `10m`, `4h`, `1d`. */
export function parseRuleDuration(input: unknown): number | undefined {
  if (typeof input !== 'string') return undefined;
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(input.trim());
  return match ? Number(match[1]) * UNITS[match[2]] : undefined;
}

/** The shortest spelling of a duration in whole units, for answers (`14400000` → `4h`). */
export function formatRuleDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms > 0 && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return ms === 0 ? '0m' : `${Math.round(ms / 1000)}s`;
}
