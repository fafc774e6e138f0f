import { request as httpRequest } from 'node:http';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

const MAX_BODY = 10 * 1024 * 1024; // INGEST_MAX_BODY's default, set explicitly below
const OVERSIZE = 11 * 1024 * 1024;

/** An 11 MiB ingest body that is valid JSON, so only its size is wrong. */
function oversizeBody(): string {
  const head = '{"observations":[{"platform":"big","trendKey":"big","observedAt":"';
  const tail = '","mentions":1}]}';
  return head + 'x'.repeat(OVERSIZE - head.length - tail.length) + tail;
}

interface Answer {
  status: number;
  body: { statusCode?: number; error?: string; message?: string };
}

/**
 * A client that writes a body over INGEST_MAX_BODY reads the 413 and its JSON body (issue 10
 * item 3), instead of EPIPE/ECONNRESET while it is still writing.
 */
describe('413 over INGEST_MAX_BODY, readable by ordinary clients', () => {
  let db: TestDatabase;
  let service: ChildService;
  let base: string;
  let port: number;
  const auth = `Bearer ${tokenFor(['ingest'])}`;
  const body = oversizeBody();

  beforeAll(async () => {
    db = await createTestDatabase('body_limit');
    // The real process: in-process the client and server share one event loop and the race
    // that loses the answer hardly ever shows.
    service = await startChildService({
      ...db.env,
      JWT_SECRET: TEST_JWT_SECRET,
      INGEST_MAX_BODY: String(MAX_BODY),
      DB_MAX_CONNECTIONS: '2',
    });
    port = service.port;
    base = service.url;
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  const expect413 = (answer: Answer) => {
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is too large',
    });
  };

  it('Node fetch with a Content-Length gets the 413 JSON (5 times: the failure was a race)', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${base}/api/v1/trends/observations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body,
      });
      expect413({ status: res.status, body: (await res.json()) as Answer['body'] });
      expect(res.headers.get('connection')).toBe('close');
    }
  });

  it('Node fetch with a streamed (chunked) body gets the 413 JSON', async () => {
    const bytes = Buffer.from(body);
    const chunk = 256 * 1024;
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(offset, offset + chunk));
        offset += chunk;
      },
    });
    const res = await fetch(`${base}/api/v1/trends/observations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect413({ status: res.status, body: (await res.json()) as Answer['body'] });
  });

  it('a raw http.request without Expect, writing in chunks, gets the 413 JSON', async () => {
    const answer = await new Promise<Answer | Error>((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/trends/observations',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: auth,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', (error) => resolve(error));
      const bytes = Buffer.from(body);
      const write = (offset: number): void => {
        if (offset >= bytes.length) return void req.end();
        const more = req.write(bytes.subarray(offset, offset + 64 * 1024));
        if (more) setImmediate(() => write(offset + 64 * 1024));
        else req.once('drain', () => write(offset + 64 * 1024));
      };
      write(0);
    });
    expect(answer).not.toBeInstanceOf(Error);
    expect413(answer as Answer);
  });

  it('stored nothing, and a body under the limit is still accepted', async () => {
    const res = await fetch(`${base}/api/v1/trends/observations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({
        observations: [
          {
            platform: 'small',
            trendKey: 'small',
            observedAt: new Date().toISOString(),
            mentions: 1,
          },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const rows = await db.query<{ platform: string }>(
      `SELECT DISTINCT platform FROM trend_observations ORDER BY 1`,
    );
    expect(rows.map((r) => r.platform)).toEqual(['small']);
  });
});
