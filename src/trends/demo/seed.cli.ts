/**
 * Loads the demo data set through the real ingest path into the configured database (or the
 * embedded one): npm run db:seed -- [--days 7]
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { startCliApp } from '../../cli-app';
import { printHelp, wantsHelp } from '../../common/cli';
import { DemoDataService } from './demo-data.service';

const USAGE = `usage: npm run db:seed -- [--days N]

Loads the synthetic demo data set (N days up to now, 1..90, default 7) through the real ingest
path into the configured database, or the embedded one. Re-running adds nothing twice.
LOG_LEVEL=debug shows the framework's logs.`;

async function main(): Promise<void> {
  if (wantsHelp()) printHelp(USAGE);
  const { values } = parseArgs({ options: { days: { type: 'string', default: '7' } } });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    console.error(USAGE);
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
