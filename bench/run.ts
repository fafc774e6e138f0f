/**
 * npm run bench [-- <suite> ...]: runs bench/<suite>.bench.ts (all suites when none named).
 * Each suite exports `run(args)` and prints its own table with ratios to this machine's raw
 * limits measured in the same run (bench/support/limits.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Suite {
  run(args: string[]): Promise<void>;
}

async function main(): Promise<void> {
  const available = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.replace('.bench.ts', ''))
    .sort();
  const [first, ...rest] = process.argv.slice(2);
  const chosen = first ? [first] : available;
  for (const name of chosen) {
    if (!available.includes(name)) {
      console.error(`unknown suite "${name}"; available: ${available.join(', ')}`);
      process.exit(2);
    }
    console.log(`\n### bench: ${name}`);
    const suite = (await import(join(__dirname, `${name}.bench.ts`))) as Suite;
    await suite.run(rest);
  }
  process.exit(0);
}

void main();
