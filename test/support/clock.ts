const HOUR = 3_600_000;

/**
 * Tests that use the default window (which ends at the end of the current hour) compare
 * answers taken seconds apart; when the hour could roll over within `marginMs`, wait for the
 * new hour first, so every request of the file sees the same window.
 */
export async function awayFromHourBoundary(marginMs = 60_000): Promise<void> {
  const untilNextHour = HOUR - (Date.now() % HOUR);
  if (untilNextHour < marginMs) await new Promise((r) => setTimeout(r, untilNextHour + 1000));
}
