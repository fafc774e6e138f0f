/**
 * Loads the demo data set through the real ingest path into the configured database (or the
 * embedded one): npm run db:seed -- [--days 7]
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { startCliApp } from '../../cli-app';
import { DemoDataService } from './demo-data.service';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { days: { type: 'string', default: '7' } } });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    console.error('usage: npm run db:seed -- --days N   (1..90)');
    process.exit(2);
  }
  const app = await startCliApp();
  try {
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
