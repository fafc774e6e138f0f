import { CLIENT_ERRORS_PER_SECOND } from '../../src/common/request-log';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

interface LogLine {
  level: number;
  msg?: string;
  req?: { id?: string; method?: string; route?: string; headers?: unknown };
  res?: { statusCode?: number };
  responseTime?: number;
  sub?: string;
}

/**
 * The request log of the service as main.ts runs it (pino writes to file descriptor 1, so the
 * test reads the child process's output): one small line per request at info.
 */
describe('request log', () => {
  let db: TestDatabase;
  let service: ChildService;
  const token = tokenFor(['analyst'], 'log-reader');
  const auth = { Authorization: `Bearer ${token}` };

  beforeAll(async () => {
    db = await createTestDatabase('request_log');
    service = await startChildService({
      ...db.env,
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      DB_MAX_CONNECTIONS: '4',
    });
    // The series below is of a known trend (an unknown one is a 404).
    const ingest = await fetch(`${service.url}/api/v1/trends/observations`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${tokenFor(['ingest'], 'log-writer')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        observations: [
          {
            platform: 'x',
            trendKey: 'World Cup',
            observedAt: new Date().toISOString(),
            mentions: 1,
          },
        ],
      }),
    });
    expect(ingest.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  /** Waits until the output stops growing (the log is written asynchronously), bounded. */
  async function settledOutput(): Promise<string> {
    let last = -1;
    for (let i = 0; i < 20 && service.output().length !== last; i++) {
      last = service.output().length;
      await new Promise((r) => setTimeout(r, 150));
    }
    return service.output();
  }

  const linesOf = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => ({ raw: l, entry: JSON.parse(l) as LogLine }));

  it('writes one line of at most 300 bytes per request, with route template, status, duration, id and subject', async () => {
    const before = Buffer.byteLength(await settledOutput());
    const count = 40;
    for (let i = 0; i < count; i++) {
      const path = i % 2 ? '/api/v1/trends/top?window=24h' : '/api/v1/trends/World%20Cup/series';
      const res = await fetch(`${service.url}${path}`, {
        headers: { ...auth, 'X-Request-Id': `log-size-${i}`, 'User-Agent': 'x'.repeat(500) },
      });
      expect(res.status).toBe(200);
    }
    const output = await settledOutput();
    const added = Buffer.from(output).subarray(before).toString();
    const lines = linesOf(added).filter((l) => l.entry.req?.id?.startsWith('log-size-'));
    expect(lines).toHaveLength(count); // exactly one line per request
    for (const { raw, entry } of lines) {
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(300);
      expect(entry.level).toBe(30);
      expect(entry.req?.method).toBe('GET');
      expect(['/api/v1/trends/top', '/api/v1/trends/:trendKey/series']).toContain(entry.req?.route);
      expect(entry.res?.statusCode).toBe(200);
      expect(typeof entry.responseTime).toBe('number');
      expect(entry.sub).toBe('log-reader');
      expect(entry.req?.headers).toBeUndefined();
    }
    // Bytes of request log per request, everything the process wrote meanwhile included.
    expect(Buffer.byteLength(added) / count).toBeLessThanOrEqual(300);
    expect(output).not.toContain('x'.repeat(100));
    expect(output).not.toContain(token);
  });

  it('leaves probes and scrapes out, and redacts credentials passed in the query string', async () => {
    const before = Buffer.byteLength(await settledOutput());
    for (const path of ['/health/live', '/health/ready', '/metrics', '/monitoring/health/live']) {
      const res = await fetch(`${service.url}${path}`, { headers: { 'X-Request-Id': 'probe-1' } });
      expect(res.status).toBe(200);
    }
    const secret = await fetch(
      `${service.url}/no/such/path?access_token=tok-SECRET-1&ticket=tick-SECRET-2&x=1`,
      { headers: { 'X-Request-Id': 'redact-1' } },
    );
    expect(secret.status).toBe(404);
    const added = Buffer.from(await settledOutput())
      .subarray(before)
      .toString();
    const entries = linesOf(added).map((l) => l.entry);
    expect(entries.filter((e) => e.req?.id === 'probe-1')).toHaveLength(0);
    const notFound = entries.filter((e) => e.req?.id === 'redact-1');
    expect(notFound).toHaveLength(1);
    expect(notFound[0].res?.statusCode).toBe(404);
    expect(notFound[0].req?.route).toContain('access_token=[REDACTED]');
    expect(added).not.toContain('SECRET');
  });

  it('samples a burst of client errors instead of logging each at info', async () => {
    const before = Buffer.byteLength(await settledOutput());
    const burst = 60;
    const started = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        fetch(`${service.url}/api/v1/trends/top`, { headers: { 'X-Request-Id': `burst-${i}` } }),
      ),
    );
    const ended = Math.floor(Date.now() / 1000);
    expect(answers.every((r) => r.status === 401)).toBe(true);
    // One more request a second later reports how many lines the burst left out.
    await new Promise((r) => setTimeout(r, 1100));
    expect(
      (await fetch(`${service.url}/api/v1/trends/top?window=1h`, { headers: auth })).status,
    ).toBe(200);
    const entries = linesOf(
      Buffer.from(await settledOutput())
        .subarray(before)
        .toString(),
    ).map((l) => l.entry);
    const logged = entries.filter((e) => e.req?.id?.startsWith('burst-'));
    const seconds = ended - started + 1;
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged.length).toBeLessThanOrEqual(CLIENT_ERRORS_PER_SECOND * seconds);
    const reported = entries
      .map((e) => (e as { suppressedClientErrors?: number }).suppressedClientErrors ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(logged.length + reported).toBe(burst);
  });
});
