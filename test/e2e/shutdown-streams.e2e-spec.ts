import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, IncomingMessage, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, startServices } from '../../src/app.factory';
import { LifecycleService } from '../../src/common/lifecycle.service';
import { loadConfig } from '../../src/config/config';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET } from '../support/tokens';

/** Generous bound that only a hang exceeds (the drain limit itself is 10 s). */
const CLOSE_BOUND_MS = 8000;

/**
 * Long-lived connections never hold up `app.close()`: an idle keep-alive socket, and a
 * hijacked streaming response (as an SSE endpoint would write) that ends itself when
 * `LifecycleService.stopping` fires.
 */
describe('shutdown with long-lived connections', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('shutdown_streams');
    dataDir = mkdtempSync(join(tmpdir(), 'trend-test-data-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      JOBS_ENABLED: 'false',
      DEMO_DATA: 'false',
      DB_MAX_CONNECTIONS: '2',
      ...db.env,
    });
    app = await createApp(config);
    const lifecycle = app.get(LifecycleService);
    // A stand-in for a streaming endpoint: hijacks the reply and writes until shutdown.
    app
      .getHttpAdapter()
      .getInstance()
      .get('/test-stream', (_request, reply) => {
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
        reply.raw.write('data: hello\n\n');
        const tick = setInterval(() => reply.raw.write(': keep-alive\n\n'), 200);
        lifecycle.stopping.addEventListener(
          'abort',
          () => {
            clearInterval(tick);
            reply.raw.end('event: bye\ndata: shutting down\n\n');
          },
          { once: true },
        );
      });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await startServices(app, config);
  });

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await db?.drop();
  });

  it('closes promptly with an idle keep-alive socket and an open stream', async () => {
    const port = (app.getHttpServer().address() as { port: number }).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });

    // An idle keep-alive connection: one answered request, socket kept by the agent.
    const live = await new Promise<IncomingMessage>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/health/live', agent }, resolve).on('error', reject),
    );
    live.resume();
    await new Promise((r) => live.on('end', r));
    expect(live.statusCode).toBe(200);
    expect(live.headers.connection).toBe('keep-alive');

    // An open stream.
    let received = '';
    const stream = await new Promise<IncomingMessage>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/test-stream', agent }, resolve).on('error', reject),
    );
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (received += chunk));
    const streamEnded = new Promise<void>((r) => stream.on('end', () => r()));
    for (let i = 0; i < 50 && !received.includes(': keep-alive'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(received).toContain('data: hello');
    expect(received).toContain(': keep-alive'); // still streaming: long-lived indeed

    app.get(LifecycleService).markStopping();
    let bound: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      app.close().then(() => 'closed'),
      new Promise((r) => (bound = setTimeout(() => r('hung'), CLOSE_BOUND_MS))),
    ]);
    clearTimeout(bound);
    expect(outcome).toBe('closed');
    await streamEnded;
    expect(received).toContain('event: bye');
    agent.destroy();
  });
});
