export interface QuietHours {
  /** Local wall-clock start, `HH:MM`. */
  start: string;
  /** Local wall-clock end, `HH:MM`; before `start` means the span crosses midnight. */
  end: string;
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isValidTimeOfDay(value: unknown): value is string {
  return typeof value === 'string' && HHMM.test(value);
}

/** True when `zone` is an IANA zone name this runtime knows (Intl carries the tz database). */
export function isValidTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const minutesOf = (hhmm: string) => {
  const [, h, m] = HHMM.exec(hhmm)!;
  return Number(h) * 60 + Number(m);
};

/** Minutes since local midnight of `at` in `zone`, through Intl (daylight saving included). */
export function localMinutes(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const hour = Number(parts.find((p) => p.type === 'hour')!.value);
  const minute = Number(parts.find((p) => p.type === 'minute')!.value);
  return hour * 60 + minute;
}

/** Whether `at` falls in the quiet span [start, end) of local time; start = end means never. */
export function inQuietHours(at: Date, quiet: QuietHours | null | undefined): boolean {
  if (!quiet) return false;
  const now = localMinutes(at, quiet.timeZone);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? now >= start && now < end : now >= start || now < end;
}
