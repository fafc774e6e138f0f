import request from 'supertest';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ALERT_TRANSITION, AlertTransitionEvent } from '../../src/alerts/alert-events';
import { EvaluatorService } from '../../src/alerts/evaluator.service';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { expectClose, seeded } from '../support/observations';
import { bearer } from '../support/tokens';
import { WebhookReceiver, waitFor } from '../support/webhook-receiver';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Row {
  platform: string;
  region: string;
  trendKey: string;
  at: number;
  mentions: number;
  engagement: number;
}

type Scope = { platform?: string; region?: string };

describe('alerts: rules, evaluation and state (SPEC §12)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let evaluator: EvaluatorService;
  const receiver = new WebhookReceiver();
  const rows: Row[] = [];
  const admin = bearer(['admin']);
  const analyst = bearer(['analyst']);
  const transitions: AlertTransitionEvent[] = [];
  // Data lives in the past (inside raw retention); evaluation times are chosen on purpose off
  // the hour and off the second, so windows have ragged raw edges around whole rollup hours.
  const H = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;
  const T = H + 17 * MIN + 23_456; // evaluation time of the kind tests
  let channelId: string;

  async function ingest(batch: Row[]) {
    for (let i = 0; i < batch.length; i += 1000) {
      const res = await request(t.http)
        .post('/api/v1/trends/observations')
        .set(bearer(['ingest']))
        .send({
          observations: batch.slice(i, i + 1000).map((r) => ({
            platform: r.platform,
            region: r.region,
            trendKey: r.trendKey,
            observedAt: new Date(r.at).toISOString(),
            mentions: r.mentions,
            engagement: r.engagement,
          })),
        });
      expect(res.status).toBe(201);
      expect(res.body.duplicates).toBe(0);
    }
    rows.push(...batch);
  }

  /** Per-key sum of a metric over [from, to) in scope, computed here from the raw rows. */
  function sums(
    from: number,
    to: number,
    scope: Scope,
    metric: 'mentions' | 'engagement' = 'mentions',
  ) {
    const out = new Map<string, { value: number; mentions: number }>();
    for (const r of rows) {
      if (r.at < from || r.at >= to) continue;
      if (scope.platform && r.platform !== scope.platform) continue;
      if (scope.region && r.region !== scope.region) continue;
      const s = out.get(r.trendKey) ?? { value: 0, mentions: 0 };
      s.value += r[metric];
      s.mentions += r.mentions;
      out.set(r.trendKey, s);
    }
    return out;
  }

  /** Threshold halfway between the 2nd and 3rd highest values: exactly two series qualify. */
  function thresholdForTwo(values: number[]): number {
    const sorted = [...values].sort((a, b) => b - a);
    expect(sorted.length).toBeGreaterThanOrEqual(3);
    expect(sorted[1]).toBeGreaterThan(sorted[2]);
    return (sorted[1] + sorted[2]) / 2;
  }

  async function createRule(body: Record<string, unknown>): Promise<string> {
    const res = await request(t.http).post('/api/v1/alerts/rules').set(admin).send(body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function disableAll() {
    const res = await request(t.http).get('/api/v1/alerts/rules').set(analyst);
    for (const rule of res.body.items as { id: string; enabled: boolean }[]) {
      if (!rule.enabled) continue;
      await request(t.http)
        .put(`/api/v1/alerts/rules/${rule.id}`)
        .set(admin)
        .send({ ...stripView(rule), enabled: false })
        .expect(200);
    }
  }

  const stripView = (rule: Record<string, unknown>) => {
    const { id: _id, version: _v, createdAt: _c, updatedAt: _u, ...body } = rule;
    return body;
  };

  async function activeOf(ruleId: string) {
    const res = await request(t.http).get('/api/v1/alerts').set(analyst).expect(200);
    return (
      res.body.items as { rule: { id: string }; trendKey: string; value: number; state: string }[]
    ).filter((i) => i.rule.id === ruleId);
  }

  /** Creates the rule, checks preview and evaluation against `expected`, then resolves it. */
  async function firesAndResolves(body: Record<string, unknown>, expected: Map<string, number>) {
    expect(expected.size).toBe(2);
    await disableAll();
    const preview = await request(t.http)
      .post('/api/v1/alerts/rules/preview')
      .set(analyst)
      .send({ ...body, at: new Date(T).toISOString() })
      .expect(200);
    expect(new Set(preview.body.items.map((i: { trendKey: string }) => i.trendKey))).toEqual(
      new Set(expected.keys()),
    );
    for (const item of preview.body.items as { trendKey: string; value: number }[])
      expectClose(item.value, expected.get(item.trendKey)!);
    // Preview changes nothing.
    expect(await db.query('SELECT 1 FROM alert_instances')).toHaveLength(0);

    const id = await createRule({ ...body, channels: [channelId] });
    const run = await evaluator.run('api', new Date(T));
    expect(run.status).toBe('succeeded');
    const firing = await activeOf(id);
    expect(new Set(firing.map((i) => i.trendKey))).toEqual(new Set(expected.keys()));
    for (const item of firing) {
      expect(item.state).toBe('firing');
      expectClose(item.value, expected.get(item.trendKey)!);
    }
    // Far later there is no data: every series resolves.
    await evaluator.run('api', new Date(T + 400 * HOUR));
    expect(await activeOf(id)).toHaveLength(0);
    const events = await request(t.http)
      .get(`/api/v1/alerts/events?ruleId=${id}&limit=100`)
      .set(analyst)
      .expect(200);
    const resolved = events.body.items.filter(
      (e: { notification: string }) => e.notification === 'alert.resolved',
    );
    expect(new Set(resolved.map((e: { trendKey: string }) => e.trendKey))).toEqual(
      new Set(expected.keys()),
    );
    return id;
  }

  beforeAll(async () => {
    db = await createTestDatabase('alerts_rules');
    await receiver.start();
    t = await startTestApp(db, {
      DB_MAX_CONNECTIONS: '4',
      ALERTS_DELIVERY_POLL_MS: '50',
      ALERTS_MAX_SERIES_PER_RULE: '5',
    });
    evaluator = t.app.get(EvaluatorService);
    t.app.get(EventEmitter2).on(ALERT_TRANSITION, (e: AlertTransitionEvent) => {
      transitions.push(e);
    });
    const channel = await request(t.http)
      .post('/api/v1/alerts/channels')
      .set(admin)
      .send({ name: 'receiver', type: 'webhook', url: receiver.url('/hook') })
      .expect(201);
    channelId = channel.body.id;

    // Random background over 200 hours for keys k0..k5, on two platforms and regions.
    const random = seeded(12);
    const batch: Row[] = [];
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    for (let i = 0; i < 4000; i++) {
      const key = keys[Math.floor(random() * keys.length)];
      batch.push({
        platform: random() < 0.5 ? 'x' : 'tt',
        region: random() < 0.5 ? 'US' : 'DE',
        trendKey: key,
        at: H - 200 * HOUR + Math.floor(random() * 203 * HOUR),
        mentions: Math.floor(random() * 50) + (key === 'k0' ? 40 : 0),
        engagement: Math.floor(random() * 500),
      });
    }
    // Bursts inside the current windows, so growth and spike have clear winners.
    for (const [key, mentions] of [
      ['k1', 3000],
      ['k2', 1800],
      ['k3', 900],
      ['k4', 300],
    ] as const) {
      for (let j = 0; j < 5; j++) {
        batch.push({
          platform: j % 2 ? 'x' : 'tt',
          region: 'US',
          trendKey: key,
          at: T - 50 * MIN + j * 9 * MIN + 1234,
          mentions: mentions / 5,
          engagement: 10,
        });
      }
    }
    // Brand-new trends, only inside the last hour before T.
    for (const [key, mentions] of [
      ['new-a', 500],
      ['new-b', 350],
      ['new-c', 120],
    ] as const) {
      batch.push({
        platform: 'x',
        region: 'US',
        trendKey: key,
        at: T - 20 * MIN - 777,
        mentions,
        engagement: 1,
      });
    }
    // The same keys seen just before the window in another region: new only in scope US+x.
    batch.push({
      platform: 'x',
      region: 'DE',
      trendKey: 'new-c',
      at: T - 61 * MIN,
      mentions: 1,
      engagement: 0,
    });
    batch.sort((a, b) => a.at - b.at);
    // Keep only rows ingest accepts (not in the future).
    await ingest(batch.filter((r) => r.at < Date.now()));
  });

  afterAll(async () => {
    await t?.close();
    await receiver.stop();
    await db?.drop();
  });

  it('answers 400 naming the field for bad rules, and writes nothing', async () => {
    const good = { name: 'r', kind: 'threshold', window: '1h', threshold: 10 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, kind: 'bogus' }, 'kind'],
      [{ ...good, threshold: 'high' }, 'threshold'],
      [{ ...good, window: '2h' }, 'window'],
      [{ ...good, channels: ['999999'] }, 'channels'],
      [{ ...good, for: 'soon' }, 'for'],
      [
        { ...good, quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } },
        'quietHours.timeZone',
      ],
      [
        { ...good, quietHours: { start: '25:00', end: '07:00', timeZone: 'UTC' } },
        'quietHours.start',
      ],
      [{ ...good, scope: { platform: 'Not A Slug!' } }, 'scope.platform'],
      [{ ...good, severity: 'apocalyptic' }, 'severity'],
      [{ ...good, surprise: 1 }, 'surprise'],
    ];
    for (const [body, field] of cases) {
      const res = await request(t.http).post('/api/v1/alerts/rules').set(admin).send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(res.body.message).toContain(field);
    }
    const list = await request(t.http).get('/api/v1/alerts/rules').set(analyst).expect(200);
    expect(list.body.items).toHaveLength(0);
    expect(
      await db.query(`SELECT 1 FROM admin_audit_log WHERE action LIKE 'alerts.rule.%'`),
    ).toHaveLength(0);
  });

  it('lets analysts read but not write, and audits admin writes', async () => {
    await request(t.http)
      .post('/api/v1/alerts/rules')
      .set(analyst)
      .send({ name: 'r', kind: 'threshold', window: '1h', threshold: 1 })
      .expect(403);
    await request(t.http).get('/api/v1/alerts/channels').set(analyst).expect(403);
    await request(t.http).get('/api/v1/alerts/rules').expect(401);
    const id = await createRule({
      name: 'audited',
      kind: 'threshold',
      window: '1h',
      threshold: 1e12,
    });
    const rule = await request(t.http).get(`/api/v1/alerts/rules/${id}`).set(analyst).expect(200);
    expect(rule.body).toMatchObject({
      name: 'audited',
      for: '0m',
      repeatInterval: '4h',
      metric: 'mentions',
    });
    await request(t.http).delete(`/api/v1/alerts/rules/${id}`).set(admin).expect(204);
    await request(t.http).get(`/api/v1/alerts/rules/${id}`).set(analyst).expect(404);
    const audit = await db.query<{ action: string }>(
      `SELECT action FROM admin_audit_log WHERE action LIKE 'alerts.%' ORDER BY id`,
    );
    expect(audit.map((a) => a.action)).toEqual([
      'alerts.channel.create',
      'alerts.rule.create',
      'alerts.rule.delete',
    ]);
  });

  it('threshold: fires on the window total over raw rows and resolves', async () => {
    const scope = { platform: 'x' };
    const cur = sums(T - HOUR, T, scope, 'engagement');
    const threshold = thresholdForTwo([...cur.values()].map((s) => s.value));
    const expected = new Map(
      [...cur].filter(([, s]) => s.value >= threshold).map(([k, s]) => [k, s.value]),
    );
    await firesAndResolves(
      {
        name: 'threshold',
        kind: 'threshold',
        metric: 'engagement',
        window: '1h',
        scope,
        threshold,
      },
      expected,
    );
  });

  it('growth: (current - previous) / previous where previous >= minMentions, over 6h', async () => {
    const w = 6 * HOUR;
    const cur = sums(T - w, T, {});
    const prev = sums(T - 2 * w, T - w, {});
    const minMentions = 50;
    const growth = new Map<string, number>();
    for (const [key, p] of prev) {
      if (p.mentions < minMentions || p.value === 0) continue;
      growth.set(key, ((cur.get(key)?.value ?? 0) - p.value) / p.value);
    }
    const threshold = thresholdForTwo([...growth.values()]);
    const expected = new Map([...growth].filter(([, g]) => g >= threshold));
    await firesAndResolves(
      { name: 'growth', kind: 'growth', window: '6h', threshold, minMentions },
      expected,
    );
  });

  it('spike: z-score of the hourly rate against the trailing whole-hour baseline', async () => {
    const w = HOUR;
    const baselineHours = 72;
    const baseTo = Math.floor((T - w) / HOUR) * HOUR;
    const baseFrom = baseTo - baselineHours * HOUR;
    const cur = sums(T - w, T, { region: 'US' });
    const z = new Map<string, number>();
    for (const [key, c] of cur) {
      const hourly = new Map<number, number>();
      for (const r of rows) {
        if (r.trendKey !== key || r.region !== 'US' || r.at < baseFrom || r.at >= baseTo) continue;
        const bucket = Math.floor(r.at / HOUR) * HOUR;
        hourly.set(bucket, (hourly.get(bucket) ?? 0) + r.mentions);
      }
      if (hourly.size === 0) continue;
      const first = Math.min(...hourly.keys());
      const n = (baseTo - first) / HOUR;
      if (n < 24) continue;
      const values = [...hourly.values()];
      const mean = values.reduce((s, x) => s + x, 0) / n;
      const variance = values.reduce((s, x) => s + x * x, 0) / n - mean * mean;
      const sigma = Math.max(Math.sqrt(Math.max(variance, 0)), 1);
      z.set(key, (c.value - mean) / sigma);
    }
    const threshold = thresholdForTwo([...z.values()]);
    const expected = new Map([...z].filter(([, v]) => v >= threshold));
    await firesAndResolves(
      {
        name: 'spike',
        kind: 'spike',
        window: '1h',
        scope: { region: 'US' },
        threshold,
        baselineHours,
      },
      expected,
    );
  });

  it('new_trend: first seen inside the window (in scope) with at least threshold mentions', async () => {
    // new-c was seen in DE before the window, but in scope x + US it is new; it has 120.
    const expected = new Map([
      ['new-a', 500],
      ['new-b', 350],
    ]);
    await firesAndResolves(
      {
        name: 'new',
        kind: 'new_trend',
        window: '1h',
        scope: { platform: 'x', region: 'US' },
        threshold: 200,
      },
      expected,
    );
    // Below threshold never fires; an old trend is never new.
    const preview = await request(t.http)
      .post('/api/v1/alerts/rules/preview')
      .set(analyst)
      .send({
        name: 'n',
        kind: 'new_trend',
        window: '1h',
        threshold: 1,
        at: new Date(T).toISOString(),
      })
      .expect(200);
    const keys = preview.body.items.map((i: { trendKey: string }) => i.trendKey).sort();
    expect(keys).toEqual(['new-a', 'new-b']); // new-c was seen before the window in DE
  });

  it('for / keepFiringFor / repeatInterval on a controlled clock, notifying firing, repeats and resolve', async () => {
    await disableAll();
    const B = H + 4 * HOUR;
    await ingest([
      {
        platform: 'x',
        region: 'US',
        trendKey: 'burst',
        at: B + 30_000,
        mentions: 150,
        engagement: 0,
      },
    ]);
    const id = await createRule({
      name: 'burst',
      kind: 'threshold',
      window: '15m',
      scope: { trendKey: 'Burst' },
      threshold: 100,
      for: '2m',
      keepFiringFor: '5m',
      repeatInterval: '5m',
      severity: 'critical',
      channels: [channelId],
    });
    transitions.length = 0;
    const states: string[] = [];
    for (let m = 1; m <= 22; m++) {
      await evaluator.run('api', new Date(B + m * MIN));
      const active = await activeOf(id);
      states.push(active[0]?.state ?? 'normal');
    }
    // condition true for minutes 1..15 (the row at B+30s is inside [t-15m, t))
    expect(states).toEqual([
      'pending', // 1
      'pending', // 2: held 1m < 2m
      'firing', // 3
      ...Array(12).fill('firing'), // 4..15
      'recovering', // 16: first false evaluation
      'recovering',
      'recovering',
      'recovering',
      'recovering', // 20: 4m < 5m
      'normal', // 21: 5m after the first false evaluation
      'normal',
    ]);
    const events = await request(t.http)
      .get(`/api/v1/alerts/events?ruleId=${id}&limit=2`)
      .set(analyst)
      .expect(200);
    // Paging with cursors walks the whole history, newest first.
    const all = [...events.body.items];
    let cursor = events.body.nextCursor;
    for (let i = 0; cursor && i < 20; i++) {
      const next = await request(t.http)
        .get(`/api/v1/alerts/events?ruleId=${id}&limit=2&cursor=${cursor}`)
        .set(analyst)
        .expect(200);
      all.push(...next.body.items);
      cursor = next.body.nextCursor;
    }
    expect(cursor).toBeNull();
    const history = all
      .reverse()
      .map((e) => [
        Math.round((Date.parse(e.at) - B) / MIN),
        e.previousState,
        e.state,
        e.notification,
      ]);
    expect(history).toEqual([
      [1, 'normal', 'pending', null],
      [3, 'pending', 'firing', 'alert.firing'],
      [8, 'firing', 'firing', 'alert.repeat'],
      [13, 'firing', 'firing', 'alert.repeat'],
      [16, 'firing', 'recovering', null],
      [21, 'recovering', 'normal', 'alert.resolved'],
    ]);
    // Listeners saw each transition once, after commit.
    expect(
      transitions.filter((e) => e.ruleId === id).map((e) => `${e.previousState}>${e.state}`),
    ).toEqual(['normal>pending', 'pending>firing', 'firing>recovering', 'recovering>normal']);
    // Delivered: firing, repeat, repeat, resolved, each signed body naming the trend.
    await waitFor(
      () => receiver.on('/hook').filter((r) => r.body.includes('"burst"')).length >= 4,
      'burst notifications',
    );
    const types = receiver
      .on('/hook')
      .filter((r) => r.body.includes('"burst"'))
      .map((r) => JSON.parse(r.body) as { type: string; data: { value: number; state: string } });
    expect(types.map((b) => b.type)).toEqual([
      'alert.firing',
      'alert.repeat',
      'alert.repeat',
      'alert.resolved',
    ]);
    expect(types[0].data.value).toBe(150);
    expect(types[0].data).toMatchObject({
      rule: {
        id,
        name: 'burst',
        kind: 'threshold',
        metric: 'mentions',
        window: '15m',
        severity: 'critical',
      },
      series: { trendKey: 'burst', platform: null, region: null },
      threshold: 100,
      state: 'firing',
      since: new Date(B + 3 * MIN).toISOString(),
    });
    expect(Object.keys((types[0].data as unknown as { rule: object }).rule)).toHaveLength(6);
  });

  it('editing a rule resets its series to normal without a notification', async () => {
    await disableAll();
    const B = H + 5 * HOUR;
    await ingest([
      {
        platform: 'x',
        region: 'US',
        trendKey: 'edit-me',
        at: B + 1000,
        mentions: 10,
        engagement: 0,
      },
    ]);
    const body = {
      name: 'edit',
      kind: 'threshold',
      window: '15m',
      scope: { trendKey: 'edit-me' },
      threshold: 5,
    };
    const id = await createRule(body);
    await evaluator.run('api', new Date(B + MIN));
    expect((await activeOf(id)).map((i) => i.state)).toEqual(['firing']);
    await request(t.http)
      .put(`/api/v1/alerts/rules/${id}`)
      .set(admin)
      .send({ ...body, threshold: 6 })
      .expect(200);
    expect(await activeOf(id)).toHaveLength(0);
    const events = await request(t.http)
      .get(`/api/v1/alerts/events?ruleId=${id}`)
      .set(analyst)
      .expect(200);
    expect(events.body.items[0]).toMatchObject({
      state: 'normal',
      reason: 'rule_edited',
      notification: null,
    });
  });

  it('silences and quiet hours suppress notifications, never transitions', async () => {
    await disableAll();
    const B = H + 6 * HOUR;
    await ingest([
      { platform: 'x', region: 'US', trendKey: 'hush', at: B + 1000, mentions: 10, engagement: 0 },
      { platform: 'x', region: 'US', trendKey: 'night', at: B + 1000, mentions: 10, engagement: 0 },
    ]);
    const hush = await createRule({
      name: 'hush',
      kind: 'threshold',
      window: '15m',
      scope: { trendKey: 'hush' },
      threshold: 5,
      channels: [channelId],
    });
    // Quiet hours around B in Kathmandu (UTC+5:45), computed without Intl.
    const local = new Date(B + MIN + (5 * 60 + 45) * MIN);
    const hh = (h: number) => String((h + 24) % 24).padStart(2, '0');
    const night = await createRule({
      name: 'night',
      kind: 'threshold',
      window: '15m',
      scope: { trendKey: 'night' },
      threshold: 5,
      channels: [channelId],
      quietHours: {
        start: `${hh(local.getUTCHours() - 1)}:00`,
        end: `${hh(local.getUTCHours() + 1)}:00`,
        timeZone: 'Asia/Kathmandu',
      },
    });
    const silence = await request(t.http)
      .post('/api/v1/alerts/silences')
      .set(admin)
      .send({
        ruleId: hush,
        startsAt: new Date(B).toISOString(),
        until: new Date(B + 5 * MIN).toISOString(),
        comment: 'drill',
      })
      .expect(201);
    await request(t.http)
      .post('/api/v1/alerts/silences')
      .set(admin)
      .send({ until: new Date(B).toISOString(), comment: 'x' })
      .expect(400);
    const before = receiver.requests.length;

    await evaluator.run('api', new Date(B + MIN));
    expect((await activeOf(hush)).map((i) => i.state)).toEqual(['firing']);
    expect((await activeOf(night)).map((i) => i.state)).toEqual(['firing']);
    const firing = await db.query<{ rule_id: string; suppressed: string; notification: string }>(
      `SELECT rule_id, suppressed, notification FROM alert_events WHERE rule_id IN ($1, $2) ORDER BY rule_id`,
      [hush, night],
    );
    expect(firing).toEqual([
      { rule_id: hush, suppressed: `silence ${silence.body.id}`, notification: 'alert.firing' },
      { rule_id: night, suppressed: 'quiet_hours', notification: 'alert.firing' },
    ]);
    expect(
      await db.query(
        `SELECT 1 FROM notification_deliveries d JOIN alert_events e ON e.id = d.event_id WHERE e.rule_id IN ($1, $2)`,
        [hush, night],
      ),
    ).toHaveLength(0);

    // After the silence ends, the still-firing series is notified once.
    await evaluator.run('api', new Date(B + 6 * MIN));
    await waitFor(
      () => receiver.requests.slice(before).some((r) => r.body.includes('"hush"')),
      'deferred notification',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests.slice(before).filter((r) => r.body.includes('"hush"'))).toHaveLength(
      1,
    );
    expect(receiver.requests.slice(before).filter((r) => r.body.includes('"night"'))).toHaveLength(
      0,
    );

    // The silence ended long ago in real time: listed only with expired=true; delete is audited.
    const current = await request(t.http).get('/api/v1/alerts/silences').set(analyst).expect(200);
    expect(current.body.items.map((x: { id: string }) => x.id)).not.toContain(silence.body.id);
    const all = await request(t.http)
      .get('/api/v1/alerts/silences?expired=true')
      .set(analyst)
      .expect(200);
    expect(all.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: silence.body.id, ruleId: hush, comment: 'drill' }),
      ]),
    );
    await request(t.http)
      .delete(`/api/v1/alerts/silences/${silence.body.id}`)
      .set(analyst)
      .expect(403);
    await request(t.http)
      .delete(`/api/v1/alerts/silences/${silence.body.id}`)
      .set(admin)
      .expect(204);
    await request(t.http)
      .delete(`/api/v1/alerts/silences/${silence.body.id}`)
      .set(admin)
      .expect(404);
    const audit = await db.query<{ action: string }>(
      `SELECT action FROM admin_audit_log WHERE target = $1 ORDER BY id`,
      [`silence:${silence.body.id}`],
    );
    expect(audit.map((x) => x.action)).toEqual(['alerts.silence.create', 'alerts.silence.delete']);
  });

  it('reads silence times without an offset as UTC, whatever the server time zone', async () => {
    const DAY_MS = 24 * HOUR;
    const day = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + 2 * DAY_MS);
    const naive = day.toISOString().slice(0, 19); // e.g. 2026-12-02T00:00:00, no offset
    const created = await request(t.http)
      .post('/api/v1/alerts/silences')
      .set(admin)
      .send({ trendKey: 'naive-time', until: naive, comment: 'UTC reading' })
      .expect(201);
    expect(created.body.until).toBe(day.toISOString());
    await request(t.http)
      .delete(`/api/v1/alerts/silences/${created.body.id}`)
      .set(admin)
      .expect(204);
  });

  it('every-trend rules fire at most ALERTS_MAX_SERIES_PER_RULE series, highest first', async () => {
    await disableAll();
    const cur = sums(T - HOUR, T, {});
    const top = [...cur].sort((a, b) => b[1].value - a[1].value).slice(0, 5);
    const preview = await request(t.http)
      .post('/api/v1/alerts/rules/preview')
      .set(analyst)
      .send({
        name: 'all',
        kind: 'threshold',
        window: '1h',
        threshold: 0,
        at: new Date(T).toISOString(),
      })
      .expect(200);
    expect(cur.size).toBeGreaterThan(5);
    expect(preview.body.items.map((i: { trendKey: string }) => i.trendKey)).toEqual(
      top.map(([k]) => k),
    );
  });

  it('exposes the alert metrics', async () => {
    const res = await request(t.http).get('/metrics').expect(200);
    expect(res.text).toMatch(/alert_evaluations_total\{result="ok"\} [1-9]/);
    expect(res.text).toContain('alert_evaluation_duration_seconds_bucket');
    expect(res.text).toMatch(/alerts_firing\{severity="warning"\} \d/);
    expect(res.text).toMatch(
      /alert_notifications_total\{channel_type="webhook",result="success"\} [1-9]/,
    );
    expect(res.text).toContain('webhook_delivery_duration_seconds_bucket');
    const jobs = await db.query<{ status: string }>(
      `SELECT DISTINCT status FROM job_runs WHERE job = 'alerts'`,
    );
    expect(jobs.map((j) => j.status)).toEqual(['succeeded']);
  });
});
