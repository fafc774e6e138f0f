/**
 * Loads the demo data set through the real ingest path into the configured database (or the
 * embedded one): npm run db:seed -- [--days 7]
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AppModule } from '../../app.module';
import { loadConfig } from '../../config/config';
import { DatabaseService } from '../../database/database.service';
import { DemoDataService } from './demo-data.service';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { days: { type: 'string', default: '7' } } });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    console.error('usage: npm run db:seed -- --days N   (1..90)');
    process.exit(2);
  }
  const config = loadConfig({
    ...process.env,
    JOBS_ENABLED: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const app = await NestFactory.createApplicationContext(AppModule.register(config), {
    logger: ['error', 'warn'],
  });
  try {
    await app.get(DatabaseService).start();
    const accepted = await app.get(DemoDataService).load(days);
    console.log(`loaded ${accepted} observations (${days} days)`);
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  console.error(`seed failed: ${error.message}`);
  process.exit(1);
});
