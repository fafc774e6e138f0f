import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

/**
 * The service as `main.ts` runs it, in its own process, so the test reads the real log stream
 * (pino writes to file descriptor 1, out of reach of an in-process spy).
 */
describe('structured logs carry the request id', () => {
  let db: TestDatabase;
  let service: ChildService;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase('monitoring_logs');
    service = await startChildService({
      ...db.env,
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
    });
    port = service.port;
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('logs JSON lines whose req.id equals the X-Request-Id of the response, never the token', async () => {
    const token = tokenFor(['analyst']);
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/trends/top?window=1h`, {
      headers: { 'X-Request-Id': 'log-test-kept-1', Authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('log-test-kept-1');
    const denied = await fetch(`http://127.0.0.1:${port}/api/v1/trends/top?window=1h`);
    expect(denied.status).toBe(401);
    const generated = denied.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await denied.json()) as { requestId: string }).requestId).toBe(generated);
    await new Promise((r) => setTimeout(r, 300)); // let the log lines flush

    const output = service.output();
    const lines = output.split('\n').filter((line) => line.trim());
    const entries = lines.map(
      (line) => JSON.parse(line) as { req?: { id?: string }; res?: { statusCode?: number } },
    );
    expect(entries.length).toBe(lines.length); // every line is JSON
    const byId = (id: string) => entries.filter((e) => e.req?.id === id);
    expect(byId('log-test-kept-1').map((e) => e.res?.statusCode)).toContain(200);
    expect(byId(generated!).map((e) => e.res?.statusCode)).toContain(401);
    expect(output).not.toContain(token);
    expect(output).not.toContain(TEST_JWT_SECRET);
  });
});
