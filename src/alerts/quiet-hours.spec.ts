import { inQuietHours, isValidTimeZone, localMinutes } from './quiet-hours';

describe('quiet hours', () => {
  const berlin = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };

  it('uses the zone offset, daylight saving included', () => {
    // 2026-01-15 21:30 UTC = 22:30 CET (UTC+1); 2026-07-15 20:30 UTC = 22:30 CEST (UTC+2)
    expect(localMinutes(new Date('2026-01-15T21:30:00Z'), 'Europe/Berlin')).toBe(22 * 60 + 30);
    expect(localMinutes(new Date('2026-07-15T20:30:00Z'), 'Europe/Berlin')).toBe(22 * 60 + 30);
  });

  it('spans midnight when end is before start; end is exclusive', () => {
    expect(inQuietHours(new Date('2026-01-15T21:30:00Z'), berlin)).toBe(true); // 22:30
    expect(inQuietHours(new Date('2026-01-16T05:59:00Z'), berlin)).toBe(true); // 06:59
    expect(inQuietHours(new Date('2026-01-16T06:00:00Z'), berlin)).toBe(false); // 07:00
    expect(inQuietHours(new Date('2026-01-15T20:59:00Z'), berlin)).toBe(false); // 21:59
  });

  it('handles a same-day span and no quiet hours', () => {
    const lunch = { start: '12:00', end: '13:00', timeZone: 'UTC' };
    expect(inQuietHours(new Date('2026-01-15T12:30:00Z'), lunch)).toBe(true);
    expect(inQuietHours(new Date('2026-01-15T13:00:00Z'), lunch)).toBe(false);
    expect(inQuietHours(new Date('2026-01-15T12:30:00Z'), null)).toBe(false);
  });

  it('knows IANA zones', () => {
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
