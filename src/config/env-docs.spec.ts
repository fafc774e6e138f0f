import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envDocs, envExample, envMarkdownTable } from './env-docs';

/** The README table and .env.example are generated; this fails when they fall behind the schema. */
describe('configuration docs', () => {
  const root = join(__dirname, '..', '..');

  it('.env.example is up to date (npm run env:docs)', () => {
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(envExample());
  });

  it('README lists every variable (npm run env:docs)', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(envMarkdownTable());
  });

  it('documents the SPEC §10 variables', () => {
    const names = envDocs().map((d) => d.name);
    for (const name of [
      'DB_HOST',
      'DATABASE_URL',
      'DB_MAX_CONNECTIONS',
      'DB_POOL_MAX',
      'REDIS_URL',
      'REDIS_KEY_PREFIX',
      'REDIS_TTL',
      'PORT',
      'METRICS_PORT',
      'LOG_LEVEL',
    ]) {
      expect(names).toContain(name);
    }
  });
});
