import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { SHARED_REDIS, deletePrefix, testPrefix } from '../support/redis';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

const CONNECTIONS = 1000;
const SHUTDOWN_DELAY_MS = 500;

/**
 * The real process (src/main.ts) with STREAM_MAX_CONNECTIONS open streams: what they cost in
 * RSS, 503 beyond the limit, and SIGTERM ending them all at once with exit 0.
 */
describe('live stream capacity and shutdown (child process)', () => {
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let service: ChildService;
  const sockets: Socket[] = [];
  const token = tokenFor(['analyst']);

  /** A raw HTTP/1.1 client: resolves with the socket and the first bytes it received. */
  const openStream = (port: number) =>
    new Promise<{ socket: Socket; head: string }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let head = '';
      socket.setEncoding('utf8');
      socket.on('error', reject);
      socket.on('connect', () =>
        socket.write(
          `GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`,
        ),
      );
      const onData = (chunk: string) => {
        head += chunk;
        // 200: the stream's first comment; otherwise the whole (small) error answer
        if (/: connected/.test(head) || /^HTTP\/1\.1 [45]\d\d[\s\S]*\r\n\r\n\{/.test(head)) {
          socket.off('data', onData);
          resolve({ socket, head });
        }
      };
      socket.on('data', onData);
    });

  const heapUsed = async () => {
    const response = await fetch(`${service.url}/monitoring/admin/memory`, {
      headers: { authorization: `Bearer ${tokenFor(['admin'])}` },
    });
    return ((await response.json()) as { memoryUsage: { heapUsed: number } }).memoryUsage.heapUsed;
  };
  const rssBytes = (pid: number) =>
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

  beforeAll(async () => {
    db = await createTestDatabase('stream_capacity');
    prefix = testPrefix('stream-capacity');
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    service = await startChildService({
      ...db.env,
      ...SHARED_REDIS,
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      DB_MAX_CONNECTIONS: '2',
      THROTTLE_LIMIT: '100000',
      STREAM_MAX_CONNECTIONS: String(CONNECTIONS),
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    if (service?.process.exitCode === null) service.process.kill('SIGKILL');
    await service?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  it(`holds ${CONNECTIONS} idle streams in < 50 MB RSS, refuses one more with 503, and exits 0 on SIGTERM at once`, async () => {
    const pid = service.process.pid as number;
    // warm-up: code paths loaded and compiled before the baseline
    const warm = await Promise.all(Array.from({ length: 20 }, () => openStream(service.port)));
    for (const { socket } of warm) socket.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const before = rssBytes(pid);
    const heapBefore = await heapUsed();

    for (let opened = 0; opened < CONNECTIONS; opened += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => openStream(service.port)));
      for (const { socket, head } of batch) {
        expect(head).toMatch(/^HTTP\/1\.1 200/);
        sockets.push(socket);
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssBytes(pid);
    const heapAfter = await heapUsed();
    const delta = after - before;
    console.log(
      `${CONNECTIONS} idle streams: RSS ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB (+${(delta / 2 ** 20).toFixed(1)} MiB, ${(delta / CONNECTIONS / 1024).toFixed(1)} KiB each); V8 heap used +${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(delta).toBeLessThan(50 * 1024 * 1024);

    const extra = await openStream(service.port);
    expect(extra.head).toMatch(/^HTTP\/1\.1 503/);
    expect(extra.head).toMatch(/retry-after: \d+/i);
    extra.socket.destroy();

    const closed = sockets.map(
      (socket) =>
        new Promise<void>((resolve) =>
          socket.destroyed ? resolve() : socket.once('close', () => resolve()),
        ),
    );
    const started = Date.now();
    service.process.kill('SIGTERM');
    const code = await service.exited;
    const took = Date.now() - started;
    console.log(`SIGTERM with ${CONNECTIONS} open streams: exit ${code} after ${took} ms`);
    // Exit 0: the streams did not hold the exit up (the 30 s watchdog would exit 1).
    expect(code).toBe(0);
    await Promise.all(closed); // every stream was ended by the server
  });
});
