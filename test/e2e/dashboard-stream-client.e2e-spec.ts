import { readFile } from 'node:fs/promises';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { Page } from 'playwright-core';
import { freePort } from '../../src/common/free-port';
import { BrowserSession, buildDashboard, launchBrowser } from '../support/browser';
import { tokenFor } from '../support/tokens';

/**
 * The dashboard's live-stream client against a stub of SPEC §13 (the real stream module is
 * built separately): ticket per connection, refetch on `ingest`, none on `heartbeat`,
 * reconnect with a fresh ticket and `lastEventId` after the server drops the stream.
 * The stub is a bare node:http server on 127.0.0.1 serving the built page and the few API
 * answers the Trends view reads.
 */
describe('dashboard live-stream client (stub SPEC §13 server)', () => {
  let build: { dir: string; remove(): void };
  let server: Server;
  let origin: string;
  let browser: BrowserSession;
  let page: Page;
  const token = tokenFor(['analyst'], 'stream-tester');

  const tickets: { auth?: string; ticket: string }[] = [];
  const streams: { query: URLSearchParams; res: ServerResponse }[] = [];
  let topCalls = 0;
  let items = [{ trendKey: 'steady', displayName: 'Steady', mentions: 1200, previous: 1000 }];

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    if (path === '/' || path.startsWith('/assets/') || path === '/favicon.svg') {
      const file = path === '/' ? 'index.html' : normalize(path).replace(/^\/+/, '');
      const body = await readFile(join(build.dir, file));
      const type = file.endsWith('.js')
        ? 'text/javascript'
        : file.endsWith('.css')
          ? 'text/css'
          : file.endsWith('.svg')
            ? 'image/svg+xml'
            : 'text/html';
      res.writeHead(200, { 'Content-Type': type });
      return res.end(body);
    }
    if (req.headers.authorization !== `Bearer ${token}` && path !== '/api/docs-json') {
      return json(res, { statusCode: 401, message: 'Unauthorized' }, 401);
    }
    if (path === '/api/docs-json') {
      return json(res, { paths: { '/api/v1/stream': {}, '/api/v1/stream/tickets': {} } });
    }
    if (path === '/api/v1/stream/tickets' && req.method === 'POST') {
      const ticket = `ticket-${tickets.length + 1}`;
      tickets.push({ auth: req.headers.authorization, ticket });
      return json(res, { ticket }, 201);
    }
    if (path === '/api/v1/trends/top') {
      topCalls += 1;
      return json(res, {
        window: { from: '2026-11-29T22:00:00.000Z', to: '2026-11-30T22:00:00.000Z' },
        items: items.map((item, i) => ({
          rank: i + 1,
          trendKey: item.trendKey,
          displayName: item.displayName,
          mentions: item.mentions,
          engagement: 0,
          sentiment: null,
          previousMentions: item.previous,
          growth: item.previous ? (item.mentions - item.previous) / item.previous : null,
        })),
      });
    }
    if (/^\/api\/v1\/trends\/[^/]+\/series$/.test(path)) {
      return json(res, {
        trendKey: 'steady',
        interval: 'hour',
        points: [
          {
            bucket: '2026-11-30T20:00:00.000Z',
            mentions: 5,
            engagement: 0,
            sentiment: null,
            samples: 1,
          },
        ],
      });
    }
    res.writeHead(404).end();
  };

  // The stream itself: kept open; the test writes events into it.
  const handleStream = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/api/v1/stream') return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write(': open\n\n');
    streams.push({ query: url.searchParams, res });
    return true;
  };

  const send = (event: string, id: number, data: unknown) =>
    streams[streams.length - 1].res.write(
      `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
    );

  const liveState = (want: string) =>
    page.waitForFunction(
      (s) =>
        document.querySelector('[data-testid="live-state"]')?.getAttribute('data-status') === s,
      want,
      { timeout: 15_000 },
    );

  beforeAll(async () => {
    build = await buildDashboard();
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = createServer((req, res) => {
      if (handleStream(req, res)) return;
      handle(req, res).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    browser = await launchBrowser(origin);
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of streams) s.res.destroy();
    await new Promise((resolve) => server?.close(resolve));
    build?.remove();
  });

  it('connects with a single-use ticket taken with the bearer token', async () => {
    await page.goto(`${origin}/#token=${token}`);
    await page.waitForSelector('[data-testid="top-table"] tr[data-trend-key="steady"]');
    await liveState('live');
    expect(tickets).toEqual([{ auth: `Bearer ${token}`, ticket: 'ticket-1' }]);
    expect(streams).toHaveLength(1);
    expect(streams[0].query.get('ticket')).toBe('ticket-1');
    expect(streams[0].query.get('topics')?.split(',').sort()).toEqual(['alerts', 'ingest', 'top']);
    expect(streams[0].query.get('lastEventId')).toBeNull();
  });

  it('refetches the top table on an ingest event, without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 7;
    });
    const before = topCalls;
    items = [{ trendKey: 'fresh', displayName: 'Fresh', mentions: 98765, previous: 0 }, ...items];
    send('ingest', 41, { accepted: { twitter: 1 }, days: ['2026-11-30'] });
    await page.waitForSelector('[data-testid="top-table"] tr[data-trend-key="fresh"]');
    expect(
      await page.textContent(
        '[data-testid="top-table"] tr[data-trend-key="fresh"] [data-col="mentions"]',
      ),
    ).toBe('98,765');
    expect(
      await page.textContent(
        '[data-testid="top-table"] tr[data-trend-key="fresh"] [data-col="growth"]',
      ),
    ).toBe('new');
    expect(topCalls).toBe(before + 1);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
  });

  it('a heartbeat refetches nothing', async () => {
    const before = topCalls;
    send('heartbeat', 42, {});
    await page.waitForTimeout(1000);
    expect(topCalls).toBe(before);
    expect(await page.getAttribute('[data-testid="live-state"]', 'data-status')).toBe('live');
  });

  it('after the server drops the stream it reconnects with a new ticket and the last event id', async () => {
    streams[0].res.end();
    for (let i = 0; i < 100 && streams.length < 2; i++) await page.waitForTimeout(100);
    expect(streams).toHaveLength(2);
    await liveState('live');
    expect(tickets.map((t) => t.ticket)).toEqual(['ticket-1', 'ticket-2']);
    expect(streams[1].query.get('ticket')).toBe('ticket-2');
    expect(streams[1].query.get('lastEventId')).toBe('42');
  });

  it('saw no console errors and no request leaving the stub', () => {
    expect(browser.problems).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);
  });
});
