import { sign } from 'jsonwebtoken';
import { parseRoute } from '../../web/src/lib/routes';
import { TokenError, isAdmin, parseToken, takeTokenFromHash } from '../../web/src/lib/session';
import {
  initialStreamState,
  nextStreamState,
  reconnectDelayMs,
  topicsForEvent,
} from '../../web/src/lib/stream-state';
import { editableRule, ruleBody } from '../../web/src/lib/alert-rule';

const token = (claims: object, expiresIn = 600) =>
  sign(claims, 'any-secret-the-dashboard-never-checks', { algorithm: 'HS256', expiresIn });

describe('dashboard sign-in state', () => {
  it('reads subject and known roles from a pasted token, with or without "Bearer "', () => {
    const raw = token({ sub: 'ana', roles: ['analyst', 'unknown-role'] });
    const session = parseToken(`  Bearer ${raw}\n`);
    expect(session).toMatchObject({ token: raw, subject: 'ana', roles: ['analyst'] });
    expect(session.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(isAdmin(session)).toBe(false);
    expect(isAdmin(parseToken(token({ sub: 'root', roles: ['admin'] })))).toBe(true);
    expect(isAdmin(null)).toBe(false);
  });

  it('refuses what the dashboard cannot use, with a message for the form', () => {
    expect(() => parseToken('hello')).toThrow(TokenError);
    expect(() => parseToken('a.b.c')).toThrow('cannot be read');
    expect(() => parseToken(token({ sub: 'x', roles: ['ingest'] }))).toThrow('analyst or admin');
    const expired = token({ sub: 'x', roles: ['admin'] }, 60);
    expect(() => parseToken(expired, Date.now() / 1000 + 120)).toThrow('expired');
  });

  it('takes #token= out of the fragment and keeps the view route', () => {
    expect(takeTokenFromHash('#token=abc.def.ghi')).toEqual({ token: 'abc.def.ghi', route: '' });
    expect(takeTokenFromHash('#/movers&token=abc')).toEqual({ token: 'abc', route: '/movers' });
    expect(takeTokenFromHash('#token=a%2Eb&/alerts')).toEqual({ token: 'a.b', route: '/alerts' });
    expect(takeTokenFromHash('#/platforms')).toEqual({ route: '/platforms' });
    expect(takeTokenFromHash('')).toEqual({ route: '' });
  });

  it('maps routes to views, unknown ones to Trends', () => {
    expect(parseRoute('#/operations')).toBe('operations');
    expect(parseRoute('/alerts?x=1')).toBe('alerts');
    expect(parseRoute('#/nope')).toBe('trends');
    expect(parseRoute('')).toBe('trends');
  });
});

describe('dashboard live-stream state', () => {
  it('goes connecting → live, reconnecting with growing failures, live again on an event', () => {
    let s = nextStreamState(initialStreamState, { type: 'connect' });
    expect(s.status).toBe('connecting');
    s = nextStreamState(s, { type: 'open' });
    expect(s.status).toBe('live');
    s = nextStreamState(s, { type: 'error', detail: 'connection lost' });
    s = nextStreamState(s, { type: 'connect' });
    expect(s).toMatchObject({ status: 'reconnecting', failures: 1 });
    s = nextStreamState(s, { type: 'error' });
    expect(s.failures).toBe(2);
    s = nextStreamState(s, { type: 'event', id: '17', at: 1000 });
    expect(s).toMatchObject({ status: 'live', failures: 0, lastEventId: '17', lastEventAt: 1000 });
    // an event without id keeps the last one, for Last-Event-ID on the next connection
    s = nextStreamState(s, { type: 'event', at: 2000 });
    expect(s.lastEventId).toBe('17');
    expect(nextStreamState(s, { type: 'unavailable', detail: '404' }).status).toBe('unavailable');
    expect(nextStreamState(s, { type: 'stop' }).status).toBe('offline');
  });

  it('backs off exponentially up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(reconnectDelayMs)).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('refetches trends on ingest/top, alerts on alert, both on reset, nothing on heartbeat', () => {
    expect(topicsForEvent('ingest')).toEqual(['trends']);
    expect(topicsForEvent('top')).toEqual(['trends']);
    expect(topicsForEvent('alert')).toEqual(['alerts']);
    expect(topicsForEvent('reset')).toEqual(['trends', 'alerts']);
    expect(topicsForEvent('heartbeat')).toEqual([]);
  });
});

describe('dashboard alert-rule form', () => {
  it('sends SPEC §12 rule bodies: empty scope fields as null, numbers as numbers', () => {
    expect(
      ruleBody({
        name: ' Spike ',
        kind: 'growth',
        metric: 'mentions',
        window: '1h',
        threshold: '2.5',
        minMentions: '100',
        trendKey: '',
        platform: 'tiktok',
        region: ' ',
        severity: 'warning',
        channels: ['c1'],
      }),
    ).toEqual({
      name: 'Spike',
      kind: 'growth',
      metric: 'mentions',
      window: '1h',
      scope: { trendKey: null, platform: 'tiktok', region: null },
      threshold: 2.5,
      minMentions: 100,
      severity: 'warning',
      channels: ['c1'],
      enabled: true,
    });
  });

  it('passes a non-number threshold through so the API names the field', () => {
    const body = ruleBody({
      name: 'x',
      kind: 'threshold',
      metric: 'mentions',
      window: '1h',
      threshold: 'lots',
      minMentions: '',
      trendKey: '',
      platform: '',
      region: '',
      severity: 'info',
      channels: [],
    });
    expect(body.threshold).toBe('lots');
    expect(body).not.toHaveProperty('minMentions');
  });

  it('turns a stored rule into a PUT body without server-side fields', () => {
    const stored = {
      id: 'r1',
      createdAt: '2026-11-30T00:00:00Z',
      updatedAt: '2026-11-30T01:00:00Z',
      name: 'n',
      kind: 'spike',
      metric: 'mentions',
      window: '1h',
      scope: { trendKey: null, platform: null, region: null },
      threshold: 3,
      baselineHours: 168,
      for: '0m',
      severity: 'critical',
      channels: [],
      quietHours: null,
      enabled: true,
    };
    const { id: _id, createdAt: _c, updatedAt: _u, ...writable } = stored;
    expect(editableRule(stored)).toEqual(writable);
  });
});
