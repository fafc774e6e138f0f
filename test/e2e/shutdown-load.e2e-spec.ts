import { Agent, request } from 'node:http';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

const REPETITIONS = 10;
const CLIENTS = 4;
const BATCH = 100;
const SHUTDOWN_DELAY_MS = 1000;
/**
 * Clients keep posting this long after SIGTERM (about the 1 s), then stop and leave
 * their keep-alive sockets idle. Stopping while a request is in flight as the listener closes
 * is what used to hang the exit, so the stop is spread around the end of the drain delay.
 */
const clientTailMs = (rep: number) => SHUTDOWN_DELAY_MS - 50 + rep * 20;
const EXIT_DEADLINE_MS = SHUTDOWN_DELAY_MS + 5000;

interface Sent {
  batch: string;
  status: number; // 0 = no answer (refused, reset)
}

/** POST over a keep-alive agent; resolves with the status (0 on a network error). */
function post(agent: Agent, port: number, token: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/trends/observations',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * SIGTERM while four keep-alive collectors post 100-item batches in a loop (issue 10 item 2).
 * The process must exit 0 within SHUTDOWN_DELAY_MS + 5 s every time, with every acknowledged
 * batch stored whole and no batch stored partly. The clients' sockets stay open (idle
 * keep-alive) after they stop posting: such connections must not hold up the exit.
 */
describe('SIGTERM under ingest load', () => {
  let db: TestDatabase;
  let service: ChildService | undefined;
  const token = tokenFor(['ingest']);

  beforeAll(async () => {
    db = await createTestDatabase('shutdown_load');
  });

  afterAll(async () => {
    if (service && service.process.exitCode === null) service.process.kill('SIGKILL');
    await service?.stop();
    await db?.drop();
  });

  for (let rep = 0; rep < REPETITIONS; rep++) {
    it(`repetition ${rep + 1}: exits 0 in time, every acknowledged batch stored whole`, async () => {
      service = await startChildService({
        ...db.env,
        JWT_SECRET: TEST_JWT_SECRET,
        DB_MAX_CONNECTIONS: '4',
        SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      });
      const { port } = service;
      const platform = `shutdown${rep}`;
      const agents = Array.from(
        { length: CLIENTS },
        () => new Agent({ keepAlive: true, maxSockets: 1 }),
      );
      const sent: Sent[] = [];
      let stopClients = false;
      let started = 0;

      const client = async (c: number) => {
        for (let seq = 0; !stopClients && seq < 10_000; seq++) {
          const batch = `r${rep}c${c}b${seq}`;
          const observedAt = new Date(Date.now() - 120_000).toISOString();
          const body = JSON.stringify({
            observations: Array.from({ length: BATCH }, (_, i) => ({
              platform,
              trendKey: `${batch}-${i}`,
              observedAt,
              mentions: 1,
            })),
          });
          started++;
          const status = await post(agents[c], port, token, body);
          sent.push({ batch, status });
          if (status === 0) await new Promise((r) => setTimeout(r, 20));
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));

      // Let the load run, then SIGTERM mid-stream.
      for (let i = 0; i < 200 && sent.filter((s) => s.status === 201).length < 8; i++)
        await new Promise((r) => setTimeout(r, 25));
      const child = service.process;
      child.kill('SIGTERM');
      const startedBeforeSigterm = started;
      let deadline: NodeJS.Timeout | undefined;
      const exit = Promise.race([
        service.exited,
        new Promise<'timeout'>(
          (r) => (deadline = setTimeout(() => r('timeout'), EXIT_DEADLINE_MS)),
        ),
      ]);
      const tail = setTimeout(() => (stopClients = true), clientTailMs(rep));

      const code = await exit;
      clearTimeout(deadline);
      clearTimeout(tail);
      stopClients = true;
      await Promise.all(clients);
      for (const agent of agents) agent.destroy();
      if (code === 'timeout') child.kill('SIGKILL');
      expect({ code, output: code === 0 ? '' : service.output() }).toEqual({ code: 0, output: '' });
      expect(started).toBeGreaterThan(startedBeforeSigterm); // still posting after SIGTERM

      const statuses = new Set(sent.map((s) => s.status));
      for (const s of statuses) expect([0, 201, 503]).toContain(s);
      const acknowledged = sent.filter((s) => s.status === 201).map((s) => s.batch);
      expect(acknowledged.length).toBeGreaterThanOrEqual(8);

      const rows = await db.query<{ batch: string; n: string }>(
        `SELECT split_part(trend_key, '-', 1) AS batch, count(*) AS n
           FROM trend_observations WHERE platform = $1 GROUP BY 1`,
        [platform],
      );
      const stored = new Map(rows.map((r) => [r.batch, Number(r.n)]));
      // none partial
      expect(rows.filter((r) => Number(r.n) !== BATCH)).toEqual([]);
      // every 2xx batch stored
      expect(acknowledged.filter((b) => stored.get(b) !== BATCH)).toEqual([]);
      await service.stop();
      service = undefined;
    });
  }
});
