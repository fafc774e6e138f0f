import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { sweepStaleTestDatabases } from './database';
import { canConnect, testServer } from './postgres';

/**
 * Tests run against the PostgreSQL on 127.0.0.1:5432 (CI). Where none is reachable, an
 * embedded server is started for the run, so `npm test` also passes on a bare machine.
 */
export default async function globalSetup(): Promise<void> {
  if (await canConnect(testServer())) {
    await sweepStaleTestDatabases();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'trend-test-pg-'));
  const server = await startEmbeddedPostgres(dir);
  Object.assign(process.env, {
    TEST_PG_HOST: server.host,
    TEST_PG_PORT: String(server.port),
    TEST_PG_USER: server.user,
    TEST_PG_PASSWORD: server.password,
  });
  (globalThis as { embeddedTestServer?: { stop(): void; dir: string } }).embeddedTestServer = {
    stop: () => server.stop(),
    dir,
  };
  console.log(`\nno PostgreSQL on 127.0.0.1:5432: using an embedded server on port ${server.port}`);
}
