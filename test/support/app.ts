import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, startServices } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/config';
import { TestDatabase } from './database';
import { TEST_JWT_SECRET } from './tokens';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** Node HTTP server for supertest. */
  http: ReturnType<NestFastifyApplication['getHttpServer']>;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real application, as main.ts builds it, on a test database: migrations run, schedules
 * off, no demo data, in-process cache unless the test passes REDIS_* variables.
 */
export async function startTestApp(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trend-test-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: dataDir,
    BACKUP_DIR: join(dataDir, 'backups'),
    JOBS_ENABLED: 'false',
    DEMO_DATA: 'false',
    DB_CONNECT_RETRY_MS: '0',
    SHUTDOWN_DELAY_MS: '0',
    ...database.env,
    ...env,
  });
  const app = await createApp(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await startServices(app, config);
  return {
    app,
    config,
    http: app.getHttpServer(),
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
