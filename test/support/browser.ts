import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BrowserContext, ConsoleMessage, Page, Request, chromium } from 'playwright-core';

const ROOT = resolve(__dirname, '..', '..');

/** Debian's chromium (`.ci/run` installs it); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Builds web/ with Vite into a fresh temporary folder (about a second), so a browser test
 * always serves the sources it is testing, never a stale dist/web.
 */
export async function buildDashboard(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'trend-dashboard-'));
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'web/vite.config.mjs',
    ],
    { cwd: ROOT, env: { ...process.env, DASHBOARD_OUT_DIR: dir }, timeout: 60_000 },
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BrowserSession {
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen on any page. */
  problems: string[];
  /** Requests to anywhere but the service under test. */
  foreignRequests: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; every page's console and requests are watched. */
export async function launchBrowser(allowedOrigin: string): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'trend-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1366, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const problems: string[] = [];
  const foreignRequests: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push(`${message.type()}: ${message.text()} (${message.location().url})`);
      }
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  context.on('request', (request: Request) => {
    const url = request.url();
    if (url.startsWith('data:') || url === 'about:blank') return;
    if (new URL(url).origin !== allowedOrigin) foreignRequests.push(url);
  });
  return {
    context,
    problems,
    foreignRequests,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
