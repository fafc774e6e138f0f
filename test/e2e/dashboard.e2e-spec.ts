import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Page } from 'playwright-core';
import request from 'supertest';
import { freePort } from '../../src/common/free-port';
import { DASHBOARD_CSP } from '../../src/dashboard/dashboard.static';
import { TestApp, startTestApp } from '../support/app';
import { BrowserSession, buildDashboard, launchBrowser } from '../support/browser';
import { awayFromHourBoundary } from '../support/clock';
import { TestDatabase, createTestDatabase } from '../support/database';
import { seeded } from '../support/observations';
import { bearer, tokenFor } from '../support/tokens';

/** Screenshots of every view land here (gitignored). */
const SCREENSHOTS = resolve(__dirname, '..', '..', 'test-artifacts', 'dashboard');

/** Written here from SPEC §16's rules, not from web/src/lib/format.ts. */
const expectedCount = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const expectedGrowth = (g: number | null) => {
  if (g === null) return 'new';
  const text = (Math.abs(g) * 100).toLocaleString('en-US', {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  if (text === '0.0') return '0.0%';
  return `${g > 0 ? '+' : '−'}${text}%`;
};

interface TopItem {
  rank: number;
  trendKey: string;
  displayName: string;
  mentions: number;
  growth: number | null;
}

describe('admin dashboard in Chromium (SPEC §16)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let build: { dir: string; remove(): void };
  let browser: BrowserSession;
  let origin: string;
  let page: Page;
  let documentedPaths: string[];
  const admin = tokenFor(['admin'], 'dash-admin');
  const analyst = tokenFor(['analyst'], 'dash-analyst');

  beforeAll(async () => {
    build = await buildDashboard();
    db = await createTestDatabase('dashboard');
    t = await startTestApp(db, { DASHBOARD_DIR: build.dir, DB_MAX_CONNECTIONS: '4' });
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${port}`;

    // Every trend in every hour of the last 47 (the current one included) on a random
    // platform and region: both windows and the windows before them have data.
    await awayFromHourBoundary(90_000);
    const random = seeded(14);
    const now = Date.now();
    const hourStart = now - (now % 3600_000);
    const keys = ['Solar Eclipse', 'World Cup', 'Taylor Swift', 'AI Art', 'Straße', 'café'];
    const observations = [];
    for (let h = 0; h < 47; h++) {
      for (const trendKey of keys) {
        const observedAt =
          h === 0
            ? hourStart + Math.floor(random() * Math.max(0, now - 1000 - hourStart))
            : hourStart - h * 3600_000 + Math.floor(random() * 3600_000);
        observations.push({
          platform: ['twitter', 'tiktok', 'reddit'][Math.floor(random() * 3)],
          trendKey,
          region: random() < 0.5 ? 'us' : 'de',
          observedAt: new Date(observedAt).toISOString(),
          mentions: 1 + Math.floor(random() * 5000),
          engagement: Math.floor(random() * 20000),
          sentiment: Math.round((random() * 2 - 1) * 100) / 100,
        });
      }
    }
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(res.status).toBe(201);

    const docs = await request(t.http).get('/api/docs-json');
    documentedPaths = Object.keys(docs.body.paths);

    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchBrowser(origin);
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await db?.drop();
    build?.remove();
  });

  const api = async <T>(path: string, token = admin): Promise<T> => {
    const res = await request(t.http).get(path).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    return res.body as T;
  };

  const shoot = async (name: string) => {
    const file = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(5000);
  };

  const openView = async (view: string) => {
    await page.click(`nav a[data-view="${view}"]`);
    await page.waitForSelector(`main[data-view="${view}"]`);
  };

  it('serves the page under a strict CSP, assets with long caching, API headers unchanged', async () => {
    const index = await request(t.http).get('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    const csp = index.headers['content-security-policy'];
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    // no inline script or style in the page itself
    expect(index.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index.text).not.toMatch(/<style|\sstyle=/);

    const assets = [...index.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    let total = Buffer.byteLength(index.text);
    for (const asset of assets) {
      expect(asset).toMatch(/-[A-Za-z0-9_-]{8}\.(js|css)$/); // content-hashed name
      const res = await request(t.http).get(asset).buffer(true);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
      total += Number(res.headers['content-length']);
    }
    expect(total).toBeLessThan(1_000_000);

    const apiAnswer = await request(t.http)
      .get('/api/v1/trends/top')
      .set(bearer(['analyst']));
    expect(apiAnswer.status).toBe(200);
    expect(apiAnswer.headers['content-security-policy']).toBeUndefined();
    const health = await request(t.http).get('/health/live');
    expect(health.headers['content-security-policy']).toBeUndefined();
    // helmet's headers stay on the API
    expect(apiAnswer.headers['x-content-type-options']).toBe('nosniff');

    const missing = await request(t.http).get('/assets/nope-12345678.js');
    expect(missing.status).toBe(404);
  });

  it('signs in from #token= and removes the token from the address bar', async () => {
    await page.goto(`${origin}/#token=${admin}`);
    await page.waitForSelector('[data-testid="top-table"]');
    expect(page.url()).not.toContain('token=');
    expect(page.url()).not.toContain(admin);
    expect(await page.textContent('[data-testid="user"]')).toContain('dash-admin');
    expect(await page.evaluate(() => sessionStorage.getItem('trend-service.token'))).toBe(admin);
    // a reload keeps the session (sessionStorage), with no token in the URL
    await page.reload();
    await page.waitForSelector('[data-testid="top-table"]');
    expect(await page.textContent('[data-testid="user"]')).toContain('dash-admin');
  });

  it('shows the same top table as the API for two windows', async () => {
    for (const window of ['24h', '1h']) {
      await page.selectOption('#top-window', window);
      await page.waitForSelector(`[data-testid="top-table"][data-window="${window}"]`);
      const expected = await api<{ items: TopItem[] }>(
        `/api/v1/trends/top?window=${window}&limit=20`,
      );
      expect(expected.items.length).toBeGreaterThan(2);
      const rows = await page.$$eval('[data-testid="top-table"] tbody tr', (trs) =>
        trs.map((tr) => ({
          key: tr.getAttribute('data-trend-key'),
          cells: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()),
        })),
      );
      expect(rows.map((r) => r.key)).toEqual(expected.items.map((i) => i.trendKey));
      rows.forEach((row, i) => {
        const item = expected.items[i];
        expect(row.cells[0]).toBe(String(item.rank));
        expect(row.cells[1]).toBe(item.displayName);
        expect(row.cells[2]).toBe(expectedCount(item.mentions));
        expect(row.cells[6]).toBe(expectedGrowth(item.growth));
      });
      // thousands separators really appear (mentions up to 5,000 per observation)
      expect(rows.some((r) => /\d,\d{3}/.test(r.cells[2] ?? ''))).toBe(true);
      await shoot(`trends-${window}`);
    }
  });

  it("draws the API's series points for the selected trend, by hour and by day", async () => {
    const top = await api<{ items: TopItem[] }>('/api/v1/trends/top?window=1h&limit=20');
    // pick the third trend in the table (the first is selected on load)
    const trendKey = top.items[2].trendKey;
    await page.click(`[data-testid="top-table"] tr[data-trend-key="${trendKey}"] button`);
    await page.waitForSelector(`#series-heading:has-text("${top.items[2].displayName}")`);
    for (const interval of ['hour', 'day', 'minute']) {
      await page.selectOption('#series-interval', interval);
      const series = await api<{ points: { bucket: string; mentions: number }[] }>(
        `/api/v1/trends/${encodeURIComponent(trendKey)}/series?interval=${interval}`,
      );
      const expected = [
        series.points.map((p) => Date.parse(p.bucket) / 1000),
        series.points.map((p) => p.mentions),
      ];
      await page.waitForFunction(
        (want) =>
          document
            .querySelector('[data-testid="series-chart"][data-ready]')
            ?.getAttribute('data-points') === want,
        JSON.stringify(expected),
        { timeout: 10_000 },
      );
      // uPlot really drew: its canvas has the element's size
      const canvas = await page.$eval('[data-testid="series-chart"] canvas', (c) => ({
        w: (c as HTMLCanvasElement).width,
        h: (c as HTMLCanvasElement).height,
      }));
      expect(canvas.w).toBeGreaterThan(300);
      expect(canvas.h).toBeGreaterThan(100);
      expect(series.points.some((p) => p.mentions > 0)).toBe(true);
    }
    await shoot('trends-series');
  });

  it('search finds a trend by prefix and opens its series', async () => {
    await page.fill('#search-q', 'wor');
    await page.waitForSelector('[data-testid="search-results"] button');
    expect(await page.textContent('[data-testid="search-results"]')).toContain('World Cup');
    await page.click('[data-testid="search-results"] button');
    await page.waitForSelector('#series-heading:has-text("World Cup")');
  });

  it('shows movers and platform shares as the API answers them', async () => {
    await openView('movers');
    await page.waitForSelector(
      '[data-testid="movers-table"], [data-section="movers"] .note:not([aria-live])',
    );
    const movers = await api<{ items: (TopItem & { change: number })[]; new: TopItem[] }>(
      '/api/v1/analytics/movers?window=24h&direction=rising&limit=20',
    );
    const moverRows = await page.$$eval('[data-testid="movers-table"] tbody tr', (trs) =>
      trs.map((tr) => ({
        key: tr.getAttribute('data-trend-key'),
        mentions: tr.querySelector('[data-col="mentions"]')?.textContent,
        change: tr.querySelector('[data-col="change"]')?.textContent,
        growth: tr.querySelector('[data-col="growth"]')?.textContent,
      })),
    );
    expect(movers.items.length).toBeGreaterThan(0);
    expect(moverRows).toEqual(
      movers.items.map((m) => ({
        key: m.trendKey,
        mentions: expectedCount(m.mentions),
        change: `${m.change > 0 ? '+' : m.change < 0 ? '−' : ''}${expectedCount(Math.abs(m.change))}`,
        growth: expectedGrowth(m.growth),
      })),
    );
    await shoot('movers');

    await openView('platforms');
    await page.waitForSelector('[data-testid="platform-chart"][data-ready]');
    const hour = 3600_000;
    const to = Math.ceil(Date.now() / hour) * hour;
    const platforms = await api<{ items: { platform: string; share: number }[] }>(
      `/api/v1/analytics/platforms?from=${new Date(to - 24 * hour).toISOString()}&to=${new Date(to).toISOString()}`,
    );
    const drawn = JSON.parse(
      (await page.getAttribute('[data-testid="platform-chart"]', 'data-points')) ?? '[]',
    );
    expect(drawn).toEqual([platforms.items.map((_p, i) => i), platforms.items.map((p) => p.share)]);
    const shares = await page.$$eval(
      '[data-testid="platforms-table"] td[data-col="share"]',
      (tds) => tds.map((td) => td.textContent),
    );
    expect(shares).toEqual(platforms.items.map((p) => `${(p.share * 100).toFixed(1)}%`));
    await shoot('platforms');
  });

  it('operations: health per component, cache hit rate, jobs, partitions, and a backup verified from the UI', async () => {
    await openView('operations');
    await page.waitForSelector('[data-testid="health-components"] li');
    const components = await page.$$eval('[data-testid="health-components"] strong', (els) =>
      els.map((e) => e.textContent),
    );
    expect(components).toEqual(expect.arrayContaining(['database', 'backupDisk', 'heap']));
    await page.waitForSelector('[data-testid="cache-hit-rate"]');
    expect(await page.textContent('[data-testid="cache-hit-rate"]')).toMatch(/^(\d{1,3}\.\d%|—)$/);
    await page.waitForSelector('[data-testid="partitions-table"] tbody tr');
    const partitions = await api<{ items: unknown[] }>('/api/v1/admin/retention/partitions');
    expect(await page.$$eval('[data-testid="partitions-table"] tbody tr', (r) => r.length)).toBe(
      partitions.items.length,
    );

    await page.click('button:has-text("Start backup")');
    // the list refreshes itself; wait for the dump to finish
    const verify = page.locator('[data-testid="backups-table"] button:has-text("Verify")').first();
    for (let i = 0; i < 60 && !(await verify.isVisible()); i++) {
      await page.waitForTimeout(1000);
      await page.click('[data-section="backups"] button:has-text("Refresh")');
    }
    await verify.click();
    // Verify answers 202 and runs in the background; the page follows it to its end.
    await page.waitForSelector('[data-section="backups"] [role="status"]:has-text("succeeded")', {
      timeout: 110_000,
    });
    const backups = await api<{ items: { verifiedAt: string | null }[] }>('/api/v1/admin/backups');
    expect(backups.items[0].verifiedAt).not.toBeNull();
    await page.waitForSelector('[data-testid="jobs-table"] tbody tr, [data-section="jobs"] .note');
    await shoot('operations');
  });

  it('alerts and live state: shown when the server has them, a clear "not available" otherwise', async () => {
    const hasAlerts = documentedPaths.some((p) => p.startsWith('/api/v1/alerts'));
    const hasStream = documentedPaths.some((p) => p.startsWith('/api/v1/stream'));
    await openView('alerts');
    if (hasAlerts) {
      await page.waitForSelector('[data-testid="rule-editor"]');
    } else {
      expect(await page.textContent('[data-testid="alerts-unavailable"]')).toContain(
        'not available',
      );
    }
    const live = page.locator('[data-testid="live-state"]');
    await page.waitForFunction(
      (want) =>
        document.querySelector('[data-testid="live-state"]')?.getAttribute('data-status') === want,
      hasStream ? 'live' : 'unavailable',
      { timeout: 20_000 },
    );
    expect(await live.textContent()).toMatch(hasStream ? /Live/ : /not available/);
    await shoot('alerts');
  });

  it('an analyst sees every view without admin controls', async () => {
    const analystPage = await browser.newPage();
    await analystPage.goto(`${origin}/#token=${analyst}`);
    await analystPage.waitForSelector('[data-testid="top-table"]');
    for (const view of ['trends', 'movers', 'platforms', 'alerts', 'operations']) {
      await analystPage.click(`nav a[data-view="${view}"]`);
      await analystPage.waitForSelector(`main[data-view="${view}"] .panel`);
      await analystPage.waitForLoadState('networkidle');
      expect(await analystPage.locator('[data-admin]').count()).toBe(0);
      for (const label of [
        'Start backup',
        'Verify',
        'Create rule',
        'Create channel',
        'Create silence',
      ]) {
        expect(await analystPage.locator(`button:has-text("${label}")`).count()).toBe(0);
      }
    }
    expect(await analystPage.textContent('main')).toContain('shown to the admin role');
    await analystPage.screenshot({
      path: join(SCREENSHOTS, 'operations-analyst.png'),
      fullPage: true,
    });
    await analystPage.close();
  });

  it('accessible basics: labelled inputs, keyboard route to content, fits a laptop screen', async () => {
    const small = await browser.newPage();
    await small.setViewportSize({ width: 1024, height: 700 });
    await small.goto(`${origin}/#token=${admin}`);
    await small.waitForSelector('[data-testid="top-table"]');
    for (const view of ['trends', 'movers', 'platforms', 'alerts', 'operations']) {
      await small.click(`nav a[data-view="${view}"]`);
      await small.waitForSelector(`main[data-view="${view}"] .panel`);
      await small.waitForLoadState('networkidle');
      const unlabelled = await small.$$eval('input, select, textarea', (els) =>
        els
          .filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label'))
          .map((e) => e.outerHTML),
      );
      expect(unlabelled).toEqual([]);
      // the page itself never scrolls sideways (wide tables scroll inside their panel)
      const overflow = await small.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
    }
    // keyboard: the first Tab reaches the skip link, Enter moves focus into the view
    await small.click('nav a[data-view="movers"]');
    await small.waitForSelector('main[data-view="movers"]');
    await small.reload(); // a fresh page: Tab starts from the top
    await small.waitForSelector('main[data-view="movers"] .panel');
    await small.keyboard.press('Tab');
    expect(await small.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await small.keyboard.press('Enter');
    expect(await small.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(await small.getAttribute('main', 'data-view')).toBe('movers');
    // nav links are reachable by keyboard and follow the route
    await small.focus('nav a[data-view="platforms"]');
    await small.keyboard.press('Enter');
    await small.waitForSelector('main[data-view="platforms"]');
    await small.close();
  });

  it('a token the API refuses (401) leads back to sign-in; a pasted token signs in', async () => {
    const other = await browser.newPage();
    const forged = tokenFor(['admin'], 'mallory', 'some-other-secret-0123456789abcdef0123');
    await other.goto(`${origin}/#token=${forged}`);
    await other.waitForSelector('textarea#token');
    expect(await other.textContent('[role="alert"]')).toContain('401');
    await other.screenshot({ path: join(SCREENSHOTS, 'sign-in.png'), fullPage: true });
    await other.fill('#token', analyst);
    await other.click('button[type="submit"]');
    await other.waitForSelector('[data-testid="top-table"]');
    expect(await other.textContent('[data-testid="user"]')).toContain('dash-analyst');
    await other.close();
  });

  it('saw no console errors, no CSP violations and no request leaving the service', async () => {
    // the forged token's 401 is the one failed request the previous test provokes on purpose
    const problems = browser.problems.filter((p) => !/status of 401/.test(p));
    expect(problems).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);

    // The watcher and the policy both work: an injected inline script is refused and reported.
    const probe = await browser.newPage();
    await probe.goto(`${origin}/`);
    await probe.waitForSelector('textarea#token, [data-testid="top-table"]');
    const ran = await probe.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.injected = "yes"';
      document.head.appendChild(script);
      return document.body.dataset.injected ?? 'no';
    });
    expect(ran).toBe('no');
    await probe.waitForTimeout(200);
    expect(browser.problems.some((p) => /Content Security Policy/i.test(p))).toBe(true);
    await probe.close();
  });
});
