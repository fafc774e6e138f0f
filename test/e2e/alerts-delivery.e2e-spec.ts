import request from 'supertest';
import { EvaluatorService } from '../../src/alerts/evaluator.service';
import { sendNotification } from '../../src/alerts/webhook-sender';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import {
  WebhookReceiver,
  signatureHeaders,
  verifyStandardWebhook,
  waitFor,
} from '../support/webhook-receiver';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Delivery {
  id: string;
  webhookId: string;
  channelId: string;
  status: string;
  attempts: number;
  attemptLog: {
    attempt: number;
    at: string;
    statusCode: number | null;
    error: string | null;
    nextAttemptAt: string | null;
  }[];
}

describe('alerts: signed webhook delivery through the outbox (SPEC §12)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp | undefined;
  const receiver = new WebhookReceiver();
  const admin = bearer(['admin']);
  const H = Math.floor(Date.now() / HOUR) * HOUR - 20 * HOUR;
  const env = {
    DB_MAX_CONNECTIONS: '4',
    ALERTS_DELIVERY_POLL_MS: '50',
    ALERTS_DELIVERY_BASE_DELAY_MS: '100',
    ALERTS_DELIVERY_MAX_ATTEMPTS: '4',
  };
  const secrets = new Map<string, string>(); // path -> secret

  async function channel(
    path: string,
    extra: Record<string, unknown> = {},
    app = a,
  ): Promise<string> {
    const res = await request(app.http)
      .post('/api/v1/alerts/channels')
      .set(admin)
      .send({ name: path, type: 'webhook', url: receiver.url(path), ...extra });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_/);
    secrets.set(path, res.body.secret);
    const list = await request(app.http).get('/api/v1/alerts/channels').set(admin).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(res.body.secret); // shown only once
    return res.body.id;
  }

  async function ingest(app: TestApp, key: string, at: number, mentions: number) {
    await request(app.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: [
          { platform: 'x', trendKey: key, observedAt: new Date(at).toISOString(), mentions },
        ],
      })
      .expect(201);
  }

  /** A rule on one trend: fires while the trend has >= 10 mentions in the last 15 minutes. */
  async function rule(app: TestApp, key: string, channels: string[]): Promise<string> {
    const res = await request(app.http)
      .post('/api/v1/alerts/rules')
      .set(admin)
      .send({
        name: key,
        kind: 'threshold',
        window: '15m',
        scope: { trendKey: key },
        threshold: 10,
        channels,
      });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function deliveries(app: TestApp, channelId: string): Promise<Delivery[]> {
    const res = await request(app.http)
      .get(`/api/v1/alerts/deliveries?channelId=${channelId}`)
      .set(admin)
      .expect(200);
    return res.body.items;
  }

  function expectSigned(path: string) {
    for (const r of receiver.on(path)) {
      expect(verifyStandardWebhook(secrets.get(path)!, signatureHeaders(r), r.body)).toBe(true);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('alerts_delivery');
    await receiver.start();
    a = await startTestApp(db, env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver.stop();
    await db?.drop();
  });

  it('signs every POST per Standard Webhooks; an independent verifier rejects tampering', async () => {
    const id = await channel('/signed');
    const test = await request(a.http)
      .post(`/api/v1/alerts/channels/${id}/test`)
      .set(admin)
      .expect(200);
    expect(test.body).toMatchObject({ ok: true, statusCode: 200 });
    const [r] = receiver.on('/signed');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['webhook-id']).toBe(test.body.webhookId);
    expect(String(r.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ type: 'alert.test', data: { rule: { id: '0' } } });
    const secret = secrets.get('/signed')!;
    const h = signatureHeaders(r);
    expect(verifyStandardWebhook(secret, h, r.body)).toBe(true);
    expect(verifyStandardWebhook(secret, h, r.body.replace('alert.test', 'alert.firing'))).toBe(
      false,
    );
    expect(
      verifyStandardWebhook(secret, { ...h, timestamp: String(Number(h.timestamp) + 1) }, r.body),
    ).toBe(false);
    expect(verifyStandardWebhook(secret, { ...h, id: 'msg_other' }, r.body)).toBe(false);
    expect(
      verifyStandardWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64'), h, r.body),
    ).toBe(false);
    // A stale (replayed) timestamp is rejected even with a valid signature.
    expect(verifyStandardWebhook(secret, h, r.body, Number(h.timestamp) + 3600)).toBe(false);

    // A secret given at creation is used as given; a malformed one is a 400 naming it.
    const given = 'whsec_' + Buffer.alloc(24, 3).toString('base64');
    const own = await channel('/own', { secret: given });
    expect(secrets.get('/own')).toBe(given);
    await request(a.http).post(`/api/v1/alerts/channels/${own}/test`).set(admin).expect(200);
    expectSigned('/own');
    const bad = await request(a.http)
      .post('/api/v1/alerts/channels')
      .set(admin)
      .send({ name: 'bad', type: 'webhook', url: receiver.url('/x'), secret: 'whsec_c2hvcnQ=' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('secret');
    const badType = await request(a.http)
      .post('/api/v1/alerts/channels')
      .set(admin)
      .send({ name: 'b', type: 'pager', url: receiver.url('/x') });
    expect(badType.body.errors[0].field).toBe('type');
    // Audited without the URL's path (Slack-style URLs carry a token) and never the secret.
    const audit = await db.query<{ details: { host: string } }>(
      `SELECT details FROM admin_audit_log WHERE action = 'alerts.channel.create' AND target = $1`,
      [`channel:${id}`],
    );
    expect(audit).toEqual([
      { details: { name: '/signed', type: 'webhook', host: `127.0.0.1:${receiver.port}` } },
    ]);
    expect(JSON.stringify(await db.query('SELECT details FROM admin_audit_log'))).not.toContain(
      'whsec_',
    );
  });

  it('slack channels get {"text"} naming the trend', async () => {
    const res = await request(a.http)
      .post('/api/v1/alerts/channels')
      .set(admin)
      .send({ name: 'slack', type: 'slack', url: receiver.url('/slack') })
      .expect(201);
    const ruleId = await rule(a, 'slacky', [res.body.id]);
    await ingest(a, 'slacky', H + 1000, 50);
    await a.app.get(EvaluatorService).run('api', new Date(H + MIN));
    await waitFor(() => receiver.on('/slack').length === 1, 'slack message');
    const body = JSON.parse(receiver.on('/slack')[0].body);
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toContain('"slacky"');
    expect(body.text).toContain('FIRING');
    await request(a.http).delete(`/api/v1/alerts/rules/${ruleId}`).set(admin).expect(204);
  });

  it('retries 500, 500, 200 with the same webhook-id, logging every attempt', async () => {
    const id = await channel('/flaky');
    receiver.script('/flaky', [{ status: 500 }, { status: 500 }, { status: 200 }]);
    await rule(a, 'flaky', [id]);
    await ingest(a, 'flaky', H + 2 * HOUR + 1000, 50);
    await a.app.get(EvaluatorService).run('api', new Date(H + 2 * HOUR + MIN));
    await waitFor(
      async () => (await deliveries(a, id))[0]?.status === 'succeeded',
      'delivery success',
    );
    const got = receiver.on('/flaky');
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expectSigned('/flaky');
    const [d] = await deliveries(a, id);
    expect(d.webhookId).toBe(got[0].headers['webhook-id']);
    expect(d.attempts).toBe(3);
    expect(d.attemptLog.map((x) => x.statusCode)).toEqual([500, 500, 200]);
    expect(d.attemptLog[0].nextAttemptAt).not.toBeNull();
    expect(d.attemptLog[2].nextAttemptAt).toBeNull();
    // backoff doubles: the second wait is scheduled at least twice the base delay
    const wait = (x: (typeof d.attemptLog)[number]) =>
      Date.parse(x.nextAttemptAt!) - Date.parse(x.at);
    expect(wait(d.attemptLog[0])).toBeGreaterThanOrEqual(100 - 5);
    expect(wait(d.attemptLog[1])).toBeGreaterThanOrEqual(200 - 5);
  });

  it('honours Retry-After', async () => {
    const id = await channel('/busy');
    receiver.script('/busy', [{ status: 503, headers: { 'retry-after': '2' } }, { status: 200 }]);
    await rule(a, 'busy', [id]);
    await ingest(a, 'busy', H + 3 * HOUR + 1000, 50);
    await a.app.get(EvaluatorService).run('api', new Date(H + 3 * HOUR + MIN));
    await waitFor(
      async () => (await deliveries(a, id))[0]?.status === 'succeeded',
      'delivery after Retry-After',
    );
    const [d] = await deliveries(a, id);
    expect(d.attemptLog.map((x) => x.statusCode)).toEqual([503, 200]);
    // The retry was scheduled (and made) no earlier than the 2 s the receiver asked for.
    expect(
      Date.parse(d.attemptLog[0].nextAttemptAt!) - Date.parse(d.attemptLog[0].at),
    ).toBeGreaterThanOrEqual(2000);
    expect(Date.parse(d.attemptLog[1].at) - Date.parse(d.attemptLog[0].at)).toBeGreaterThanOrEqual(
      2000,
    );
  });

  it('410 Gone disables the channel; a failing receiver gives up after the max attempts', async () => {
    const gone = await channel('/gone');
    const down = await channel('/down');
    receiver.script('/gone', [{ status: 410 }]);
    receiver.script('/down', Array(10).fill({ status: 502 }));
    await rule(a, 'gone', [gone, down]);
    await ingest(a, 'gone', H + 4 * HOUR + 1000, 50);
    const evaluator = a.app.get(EvaluatorService);
    await evaluator.run('api', new Date(H + 4 * HOUR + MIN));
    await waitFor(async () => (await deliveries(a, gone))[0]?.status === 'failed', '410 handled');
    await waitFor(
      async () => (await deliveries(a, down))[0]?.status === 'failed',
      'attempts exhausted',
    );
    const channels = await request(a.http).get('/api/v1/alerts/channels').set(admin).expect(200);
    const byId = new Map(channels.body.items.map((c: { id: string }) => [c.id, c]));
    expect(byId.get(gone)).toMatchObject({ enabled: false });
    expect(byId.get(down)).toMatchObject({ enabled: true });
    expect(receiver.on('/gone')).toHaveLength(1);
    expect(receiver.on('/down')).toHaveLength(4); // ALERTS_DELIVERY_MAX_ATTEMPTS
    expect((await deliveries(a, down))[0].attemptLog.map((x) => x.statusCode)).toEqual([
      502, 502, 502, 502,
    ]);
    // The resolve notification goes to the enabled channel only.
    await evaluator.run('api', new Date(H + 5 * HOUR));
    expect(await deliveries(a, gone)).toHaveLength(1);
    expect(await deliveries(a, down)).toHaveLength(2);
    const failed = await request(a.http)
      .get('/api/v1/alerts/deliveries?status=failed&limit=1')
      .set(admin)
      .expect(200);
    expect(failed.body.items).toHaveLength(1);
    expect(failed.body.nextCursor).not.toBeNull();
    await request(a.http).get('/api/v1/alerts/deliveries?cursor=garbage').set(admin).expect(400);
  });

  it('does not follow redirects, and counts a refused connection as a failed attempt', async () => {
    const id = await channel('/moved');
    receiver.script('/moved', [{ status: 302, headers: { location: receiver.url('/elsewhere') } }]);
    const test = await request(a.http)
      .post(`/api/v1/alerts/channels/${id}/test`)
      .set(admin)
      .expect(200);
    expect(test.body).toMatchObject({ ok: false, statusCode: 302 });
    expect(receiver.on('/moved')).toHaveLength(1);
    expect(receiver.on('/elsewhere')).toHaveLength(0);
    const [d] = await deliveries(a, id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });

    const closed = await sendNotification(
      { url: 'http://127.0.0.1:1/nothing-listens', secret: null, webhookId: 'msg_y', body: '{}' },
      true,
    );
    expect(closed.statusCode).toBeNull();
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });

  it('keeps delivering after the database dropped its connections', async () => {
    const id = await channel('/after-drop');
    await rule(a, 'after-drop', [id]);
    await ingest(a, 'after-drop', H + 5 * HOUR + 1000, 50);
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [db.name],
    );
    // The first statements on dropped pooled connections may fail; the job is simply run again.
    const evaluator = a.app.get(EvaluatorService);
    let status = '';
    for (let i = 0; i < 5 && status !== 'succeeded'; i++) {
      status = await evaluator
        .run('api', new Date(H + 5 * HOUR + MIN))
        .then((r) => r.status)
        .catch(() => 'error');
    }
    expect(status).toBe('succeeded');
    await waitFor(
      () => receiver.on('/after-drop').length === 1,
      'delivery after dropped connections',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.on('/after-drop')).toHaveLength(1);
    expectSigned('/after-drop');
  });

  it('two instances on one database: exactly one notification per transition per channel', async () => {
    b = await startTestApp(db, env);
    const id = await channel('/dup');
    await rule(a, 'dup', [id]);
    const base = H + 6 * HOUR;
    // bursts at minutes 0, 40, 80: fires and resolves three times
    for (const m of [0, 40, 80]) await ingest(a, 'dup', base + m * MIN + 500, 50);
    const evaluators = [a.app.get(EvaluatorService), b.app.get(EvaluatorService)];
    const outcomes: string[] = [];
    for (let m = 1; m <= 110; m += 3) {
      const t = new Date(base + m * MIN);
      // Both replicas tick at once; then one of them again (a late tick of the same time).
      const runs = await Promise.all(evaluators.map((e) => e.run('api', t)));
      outcomes.push(...runs.map((r) => r.status));
      await evaluators[m % 2].run('api', t);
    }
    // Each tick ran on one replica at a time (the other, when overlapping, skipped it).
    expect(outcomes.filter((s) => s !== 'succeeded' && s !== 'skipped_locked')).toEqual([]);
    const notified = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id
       WHERE r.name = 'dup' AND e.notification IS NOT NULL AND e.suppressed IS NULL`,
    );
    expect(notified[0].n).toBe(6); // 3 × firing + 3 × resolved
    await waitFor(() => receiver.on('/dup').length >= 6, 'six notifications');
    await new Promise((r) => setTimeout(r, 500)); // both workers keep polling meanwhile
    const got = receiver.on('/dup');
    expect(got).toHaveLength(6);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(6);
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual([
      'alert.firing',
      'alert.resolved',
      'alert.firing',
      'alert.resolved',
      'alert.firing',
      'alert.resolved',
    ]);
    expectSigned('/dup');
    await b.close();
    b = undefined;
  });

  it('pending deliveries survive a restart and are delivered once', async () => {
    await a.close();
    // An instance whose delivery worker never polls within the test: deliveries stay pending.
    const quiet = await startTestApp(db, { ...env, ALERTS_DELIVERY_POLL_MS: '3600000' });
    const id = await channel('/restart', {}, quiet);
    await rule(quiet, 'restart', [id]);
    await ingest(quiet, 'restart', H + 9 * HOUR + 500, 50);
    await quiet.app.get(EvaluatorService).run('api', new Date(H + 9 * HOUR + MIN));
    expect((await deliveries(quiet, id)).map((d) => d.status)).toEqual(['pending']);
    await quiet.close();
    expect(receiver.on('/restart')).toHaveLength(0);

    a = await startTestApp(db, env);
    await waitFor(
      async () => (await deliveries(a, id))[0]?.status === 'succeeded',
      'delivery after restart',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.on('/restart')).toHaveLength(1);
    expectSigned('/restart');
  });

  it('a delivery left sending by a crashed replica is sent again once its lease ends', async () => {
    const id = await channel('/crash');
    // As a replica that claimed the row and died would leave it: sending, lease still running.
    await db.query(
      `INSERT INTO notification_deliveries (webhook_id, channel_id, type, body, status, attempts, lease_until)
       VALUES ('msg_crashed', $1, 'alert.test', '{"type":"alert.test"}', 'sending', 1, now() + interval '1 second')`,
      [id],
    );
    await waitFor(() => receiver.on('/crash').length === 1, 'redelivery after the lease', 200);
    // The receiver answered before the sender recorded the attempt: wait for the record too.
    let d: Delivery | undefined;
    await waitFor(
      async () => {
        [d] = await deliveries(a, id);
        return d?.status !== 'sending';
      },
      'the attempt recorded',
      200,
    );
    expect(d).toMatchObject({ webhookId: 'msg_crashed', status: 'succeeded', attempts: 2 });
    expect(receiver.on('/crash')[0].headers['webhook-id']).toBe('msg_crashed');
    expectSigned('/crash');
  });

  it('deleting a channel cancels its undelivered notifications and unlinks it from rules', async () => {
    const id = await channel('/bye');
    const ruleId = await rule(a, 'bye', [id]);
    await db.query(
      `INSERT INTO notification_deliveries (webhook_id, channel_id, type, body, next_attempt_at)
       VALUES ('msg_bye', $1, 'alert.test', '{}', now() + interval '1 hour')`,
      [id],
    );
    await request(a.http)
      .delete(`/api/v1/alerts/channels/${id}`)
      .set(bearer(['analyst']))
      .expect(403);
    await request(a.http).delete(`/api/v1/alerts/channels/${id}`).set(admin).expect(204);
    await request(a.http).delete(`/api/v1/alerts/channels/${id}`).set(admin).expect(404);
    const r = await request(a.http).get(`/api/v1/alerts/rules/${ruleId}`).set(admin).expect(200);
    expect(r.body.channels).toEqual([]);
    const [d] = await deliveries(a, id);
    expect(d).toMatchObject({ webhookId: 'msg_bye', status: 'cancelled' });
  });

  it('refuses private targets in production, at creation and again at send time', async () => {
    await a.close();
    const prod = await startTestApp(db, { ...env, NODE_ENV: 'production' });
    try {
      for (const url of [
        receiver.url('/p'),
        `http://localhost:${receiver.port}/p`,
        'http://[::1]/p',
        'http://10.1.2.3/p',
        'http://169.254.169.254/latest/meta-data',
        'http://[::ffff:127.0.0.1]/p',
      ]) {
        const res = await request(prod.http)
          .post('/api/v1/alerts/channels')
          .set(admin)
          .send({ name: 'p', type: 'webhook', url });
        expect(res.status).toBe(400);
        expect(res.body.errors[0].field).toBe('url');
      }
      // A channel stored while private targets were allowed (or a name re-pointed later) is
      // refused when sent: by literal address and by resolved name.
      const rows = await db.query<{ id: string }>(
        `INSERT INTO notification_channels (name, type, url, secret, created_by)
         VALUES ('old', 'webhook', $1, NULL, 'test'), ('old-name', 'webhook', $2, NULL, 'test') RETURNING id`,
        [receiver.url('/rebind'), `http://localhost:${receiver.port}/rebind`],
      );
      for (const row of rows) {
        await db.query(
          `INSERT INTO notification_deliveries (webhook_id, channel_id, type, body) VALUES ($1, $2, 'alert.test', '{}')`,
          [`msg_ssrf_${row.id}`, row.id],
        );
      }
      await waitFor(async () => {
        const d = await db.query<{ status: string }>(
          `SELECT status FROM notification_deliveries WHERE webhook_id LIKE 'msg_ssrf_%' AND attempts >= 1 AND status <> 'sending'`,
        );
        return d.length === 2;
      }, 'send-time refusals');
      const attempts = await db.query<{ error: string }>(
        `SELECT a.error FROM notification_delivery_attempts a JOIN notification_deliveries d ON d.id = a.delivery_id
         WHERE d.webhook_id LIKE 'msg_ssrf_%'`,
      );
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      for (const x of attempts) expect(x.error).toMatch(/^refused/);
      expect(receiver.on('/rebind')).toHaveLength(0);
      // The sender itself: same refusal with nothing sent.
      const direct = await sendNotification(
        {
          url: `http://localhost:${receiver.port}/rebind`,
          secret: null,
          webhookId: 'msg_x',
          body: '{}',
        },
        false,
      );
      expect(direct.error).toMatch(/^refused/);
      expect(receiver.on('/rebind')).toHaveLength(0);
    } finally {
      await prod.close();
    }
  });
  it('acceptance: the scheduled job on the real clock notifies a growth spike with the exact value', async () => {
    const live = await startTestApp(db, {
      ...env,
      JOBS_ENABLED: 'true',
      ALERTS_EVAL_INTERVAL_S: '15',
    });
    try {
      const id = await channel('/live', {}, live);
      await request(live.http)
        .post('/api/v1/alerts/rules')
        .set(admin)
        .send({
          name: 'Any trend growing',
          kind: 'growth',
          window: '1h',
          threshold: 2.0,
          minMentions: 100,
          channels: [id],
        })
        .expect(201);
      const now = Date.now();
      await request(live.http)
        .post('/api/v1/trends/observations')
        .set(bearer(['ingest']))
        .send({
          observations: [
            {
              platform: 'x',
              trendKey: 'Solar Eclipse',
              observedAt: new Date(now - 90 * MIN).toISOString(),
              mentions: 150,
            },
            {
              platform: 'x',
              trendKey: 'Solar Eclipse',
              observedAt: new Date(now - 10 * MIN).toISOString(),
              mentions: 600,
            },
          ],
        })
        .expect(201);
      // within two evaluation intervals
      await waitFor(() => receiver.on('/live').length >= 1, 'scheduled alert.firing', 700);
      const [r] = receiver.on('/live');
      expectSigned('/live');
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({
        type: 'alert.firing',
        data: { series: { trendKey: 'solar eclipse' }, value: 3 },
      });
      const active = await request(live.http).get('/api/v1/alerts').set(admin).expect(200);
      expect(active.body.items).toEqual([
        expect.objectContaining({ trendKey: 'solar eclipse', value: 3, state: 'firing' }),
      ]);
      const runs = await request(live.http)
        .get('/api/v1/admin/jobs?job=alerts&limit=5')
        .set(admin)
        .expect(200);
      expect(
        runs.body.items.some(
          (x: { trigger: string; status: string }) =>
            x.trigger === 'cron' && x.status === 'succeeded',
        ),
      ).toBe(true);
    } finally {
      await live.close();
    }
  });
});
