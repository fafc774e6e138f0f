import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

/**
 * The real process (src/main.ts) under SIGTERM: readiness turns 503 during the drain delay,
 * in-flight ingest requests complete, every acknowledged row is in the database, exit code 0.
 */
describe('graceful shutdown', () => {
  let db: TestDatabase;
  let service: ChildService;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase('shutdown');
    service = await startChildService({
      ...db.env,
      JWT_SECRET: TEST_JWT_SECRET,
      SHUTDOWN_DELAY_MS: '1500',
    });
    base = service.url;
  });

  afterAll(async () => {
    if (service?.process.exitCode === null) service.process.kill('SIGKILL');
    await service?.stop();
    await db?.drop();
  });

  it('drains, keeps every acknowledged row and exits 0', async () => {
    const token = tokenFor(['ingest']);
    const batch = (n: number) => ({
      observations: Array.from({ length: 500 }, (_, i) => ({
        platform: 'shutdown',
        trendKey: `k${n}-${i}`,
        observedAt: new Date(Date.now() - 60_000 - i * 1000).toISOString(),
        mentions: 1,
      })),
    });
    const send = (n: number) =>
      fetch(`${base}/api/v1/trends/observations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(batch(n)),
      }).then(
        async (r) => ({
          status: r.status,
          accepted: r.status === 201 ? ((await r.json()) as { accepted: number }).accepted : 0,
        }),
        () => ({ status: 0, accepted: 0 }), // refused after the listener closed: not acknowledged
      );

    const inFlight = Array.from({ length: 6 }, (_, n) => send(n));
    await new Promise((r) => setTimeout(r, 20));
    service.process.kill('SIGTERM');

    // During the drain delay the process still answers, but is no longer ready.
    await new Promise((r) => setTimeout(r, 300));
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const late = await send(99); // accepted during the drain delay: must be kept too

    const results = [...(await Promise.all(inFlight)), late];
    expect(await service.exited).toBe(0);

    const acknowledged = results.reduce((sum, r) => sum + r.accepted, 0);
    expect(results.filter((r) => r.status === 201).length).toBeGreaterThan(0);
    for (const r of results) expect([0, 201, 503]).toContain(r.status);
    const [row] = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM trend_observations WHERE platform = 'shutdown'`,
    );
    expect(Number(row.n)).toBeGreaterThanOrEqual(acknowledged);
    // and nothing half-written: every stored batch is whole
    const partial = await db.query(
      `SELECT split_part(trend_key, '-', 1) AS batch, count(*) FROM trend_observations
       WHERE platform = 'shutdown' GROUP BY 1 HAVING count(*) <> 500`,
    );
    expect(partial).toEqual([]);
  });
});
