import { INestApplicationContext, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { cliLogLevels } from './common/cli';
import { loadConfig } from './config/config';
import { DatabaseService } from './database/database.service';

/**
 * The application for a one-shot CLI (seed, jobs, backup): no HTTP listener, no schedules, no
 * webhook delivery worker, no demo data; the database is connected and migrated. The caller
 * closes it.
 */
export async function startCliApp(
  logger: LoggerService | LogLevel[] = cliLogLevels(),
): Promise<INestApplicationContext> {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ...process.env,
    JOBS_ENABLED: 'false',
    ALERTS_DELIVERY_ENABLED: 'false',
    DEMO_DATA: 'false',
  });
  const app = await NestFactory.createApplicationContext(AppModule.register(config), { logger });
  try {
    await app.get(DatabaseService).start();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
