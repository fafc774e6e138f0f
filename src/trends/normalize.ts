/**
 * Trend keys are stored normalized so "Taylor Swift", " taylor swift" and the full-width
 * "Ｔａｙｌｏｒ Ｓｗｉｆｔ" are one trend: NFKC, trimmed, lower-cased.
 */
export function normalizeTrendKey(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

/** Length in code points, so an emoji counts as one character. */
export function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

export const PLATFORM_PATTERN = /^[a-z0-9_-]{1,32}$/;
