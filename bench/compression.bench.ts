/**
 * npm run bench -- compression [--iterations 200]
 *
 * gzip vs brotli on real cached answers (the service's own JSON and CSV of `top`, `series`,
 * `overview` over seeded data): stored size as a share of the raw size, and CPU µs per KB of
 * raw answer to compress and to decompress. zstd is not in Node 20's zlib. The result picks
 * CACHE_COMPRESS_MIN_BYTES' codec (src/cache/compression.ts).
 */
import { randomBytes } from 'node:crypto';
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  gunzipSync,
  gzipSync,
} from 'node:zlib';
import { dropBench, option, seed, tokenFor } from './query.bench';
import { RunningService, recreateDatabase, startService } from './support/service';
import { fmt, printTable } from './support/stats';

const HOUR = 3_600_000;

type Codec = { name: string; pack(b: Buffer): Buffer; unpack(b: Buffer): Buffer };

const brotli = (quality: number): Codec => ({
  name: `brotli q${quality}`,
  pack: (b) =>
    brotliCompressSync(b, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    }),
  unpack: (b) => brotliDecompressSync(b),
});
const gzip = (level: number): Codec => ({
  name: `gzip -${level}`,
  pack: (b) => gzipSync(b, { level }),
  unpack: (b) => gunzipSync(b),
});

function cpuUs(fn: () => void, iterations: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

export async function run(args: string[]): Promise<void> {
  const iterations = option(args, 'iterations', 200);
  const tag = randomBytes(3).toString('hex');
  const database = `trend_bench_compress_${tag}`;
  await recreateDatabase(database);
  let service: RunningService | undefined;
  try {
    service = await startService(database, {});
    await seed(service.url, 100, 24 * 7);
    const auth = { authorization: `Bearer ${tokenFor(['analyst'])}` };
    const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR).toISOString();
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 7 * 24 * HOUR).toISOString();
    const paths: Record<string, string> = {
      'top 24h (20)': `/api/v1/trends/top?window=24h&limit=20&at=${hour}`,
      'top 7d (100)': `/api/v1/trends/top?window=7d&limit=100&at=${hour}`,
      'top 7d csv': `/api/v1/trends/top?window=7d&limit=100&at=${hour}&format=csv`,
      'series 7d hourly': `/api/v1/trends/${encodeURIComponent('trend 0')}/series?interval=hour&from=${from}`,
      'overview 24h': `/api/v1/analytics/overview?window=24h`,
    };
    const answers: Array<[string, Buffer]> = [];
    for (const [name, path] of Object.entries(paths)) {
      const res = await fetch(`${service.url}${path}`, { headers: auth });
      if (res.ok) answers.push([name, Buffer.from(await res.text())]);
      else console.log(`skipped ${name}: ${res.status}`);
    }
    const codecs = [gzip(1), gzip(6), brotli(1), brotli(4), brotli(5), brotli(11)];
    const rows: string[][] = [];
    for (const [name, raw] of answers) {
      for (const codec of codecs) {
        const packed = codec.pack(raw);
        if (!codec.unpack(packed).equals(raw)) throw new Error(`${codec.name} round trip failed`);
        const kb = raw.length / 1024;
        const n = codec.name === 'brotli q11' ? Math.ceil(iterations / 10) : iterations;
        rows.push([
          name,
          fmt(raw.length),
          codec.name,
          `${((100 * packed.length) / raw.length).toFixed(1)} %`,
          (cpuUs(() => codec.pack(raw), n) / kb).toFixed(1),
          (cpuUs(() => codec.unpack(packed), n) / kb).toFixed(1),
        ]);
      }
    }
    printTable(
      ['answer', 'raw bytes', 'codec', 'stored/raw', 'compress µs/KB', 'decompress µs/KB'],
      rows,
    );
  } finally {
    await service?.stop();
    await dropBench(database, `bench:compression:${tag}:`);
  }
}
