import Fastify, { FastifyInstance } from 'fastify';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_CSP, dashboardPlugin, defaultDashboardDir } from './dashboard.static';

describe('dashboard static plugin', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-static-'));
  });
  afterEach(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (root: string) => {
    app = Fastify();
    await app.register(dashboardPlugin, { dir: root });
    app.get('/api/ping', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
  };

  const rawStatus = (path: string) =>
    new Promise<number | undefined>((resolve, reject) => {
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      request({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });

  // Real HTTP on 127.0.0.1 (fastify.inject's helper is ESM-only under Jest here).
  const get = async (path: string) => {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return {
      statusCode: res.status,
      body: await res.text(),
      headers: Object.fromEntries(res.headers.entries()) as Record<string, string | undefined>,
    };
  };

  it('serves index.html revalidated and hashed assets immutable, both under the CSP', async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dir, 'assets', 'index-abcdef12.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    await start(dir);

    const index = await get('/');
    expect(index.statusCode).toBe(200);
    expect(index.body).toBe('<!doctype html><title>x</title>');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect((await get('/index.html')).body).toBe(index.body);

    const asset = await get('/assets/index-abcdef12.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-security-policy']).toBe(DASHBOARD_CSP);

    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);

    expect((await get('/assets/missing-12345678.js')).statusCode).toBe(404);
    // a literal traversal (fetch would normalize it away) never leaves the assets folder
    for (const path of ['/assets/../index.html', '/assets/%2e%2e/index.html']) {
      expect([403, 404]).toContain(await rawStatus(path));
    }
  });

  it('keeps its headers off routes registered outside it', async () => {
    await start(dir);
    const api = await get('/api/ping');
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-security-policy']).toBeUndefined();
  });

  it('answers 503 with a hint when the dashboard is not built', async () => {
    await start(join(dir, 'nothing-here'));
    const index = await get('/');
    expect(index.statusCode).toBe(503);
    expect(index.body).toContain('npm run build');
    expect(index.headers['cache-control']).toBe('no-store');
  });

  it('defaults to dist/web beside package.json, from src or dist', () => {
    const root = mkdtempSync(join(tmpdir(), 'dashboard-root-'));
    try {
      writeFileSync(join(root, 'package.json'), '{}');
      mkdirSync(join(root, 'src', 'dashboard'), { recursive: true });
      mkdirSync(join(root, 'dist', 'src', 'dashboard'), { recursive: true });
      expect(defaultDashboardDir(join(root, 'src', 'dashboard'))).toBe(join(root, 'dist', 'web'));
      expect(defaultDashboardDir(join(root, 'dist', 'src', 'dashboard'))).toBe(
        join(root, 'dist', 'web'),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
