import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Strict policy for the dashboard's own responses only (the API keeps helmet's headers).
 * No 'unsafe-inline' anywhere: the page loads one module script and one stylesheet from
 * /assets/; uPlot sizes its elements through CSSOM (element.style), which CSP allows.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Vite's file names carry a content hash, so they never change under one URL. */
const ASSET_MAX_AGE_S = 365 * 24 * 3600;

/** The installation's dist/web: the folder holding package.json, whether run from src or dist. */
export function defaultDashboardDir(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(from, 'web');
    dir = parent;
  }
  return join(dir, 'dist', 'web');
}

function dashboardHeaders(reply: FastifyReply): void {
  void reply.header('Content-Security-Policy', DASHBOARD_CSP);
  void reply.header('Referrer-Policy', 'no-referrer');
}

/**
 * Serves the built dashboard: `/` (index.html, revalidated on every load) and `/assets/*`
 * (hashed, cached for a year). Registered as an encapsulated Fastify plugin so its headers
 * apply to these routes only; the routes are plain Fastify routes, outside the JWT guard, as
 * the page holds no data: every figure comes from the API with the user's token.
 */
export async function dashboardPlugin(
  fastify: FastifyInstance,
  options: { dir: string },
): Promise<void> {
  const indexFile = join(options.dir, 'index.html');

  const sendIndex = async (_request: unknown, reply: FastifyReply) => {
    dashboardHeaders(reply);
    let html: Buffer;
    try {
      html = await readFile(indexFile);
    } catch {
      return reply
        .status(503)
        .header('Cache-Control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build` (or `npm start`).\n');
    }
    return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(html);
  };
  fastify.get('/', sendIndex);
  fastify.get('/index.html', sendIndex);

  await fastify.register(fastifyStatic, {
    root: join(options.dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    schemaHide: true,
    index: false,
    cacheControl: true,
    maxAge: ASSET_MAX_AGE_S * 1000,
    immutable: true,
    setHeaders: (reply) => dashboardHeaders(reply),
  });

  // Files Vite copies from web/public (icon), outside the hashed folder: revalidated.
  for (const name of ['favicon.svg']) {
    fastify.get(`/${name}`, async (_request, reply) => {
      dashboardHeaders(reply);
      try {
        const body = await readFile(join(options.dir, name));
        return reply.header('Cache-Control', 'no-cache').type('image/svg+xml').send(body);
      } catch {
        return reply.callNotFound();
      }
    });
  }
}
