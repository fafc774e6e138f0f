import { promisify } from 'node:util';
import { brotliCompress, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';

/**
 * How cached answers are stored in Redis.
 *
 * - plain: `<computed-at ms>\n<body>` (text; entries written before compression existed read the same)
 * - compressed: `<computed-at ms> br\n<brotli bytes>` (binary)
 *
 * Answers of at least CACHE_COMPRESS_MIN_BYTES (UTF-8) are compressed with brotli at quality 4:
 * measured on real answers (docs/cache.md, `npm run bench -- compression`) it stores them
 * smaller than gzip -6 at a similar cost per KB; higher qualities cost several times more CPU on
 * every miss for a few percent. Compression runs on a miss (off the event loop, in libuv's pool);
 * a hit decompresses only when the answer is not in this replica's L1, which keeps the
 * decompressed text.
 */
export const BROTLI_QUALITY = 4;

const compressBrotli = promisify(brotliCompress);

/** An answer as cached: when it was computed, and its serialized bytes. */
export interface CachedAnswer {
  at: number;
  body: string;
  /** The body's UTF-8 bytes, kept beside it in the in-process L1 for the cache fast path. */
  bytes?: Buffer;
}

export interface FramedAnswer {
  value: string | Buffer;
  /** UTF-8 bytes of the answer. */
  rawBytes: number;
  /** Bytes stored in Redis (header included). */
  storedBytes: number;
  compressed: boolean;
}

export async function frameAnswer(
  at: number,
  body: string,
  minBytes: number,
): Promise<FramedAnswer> {
  const rawBytes = Buffer.byteLength(body);
  const plain = `${at}\n${body}`;
  if (minBytes <= 0 || rawBytes < minBytes) {
    return {
      value: plain,
      rawBytes,
      storedBytes: rawBytes + plain.length - body.length,
      compressed: false,
    };
  }
  const packed = await compressBrotli(Buffer.from(body), {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: rawBytes,
    },
  });
  const value = Buffer.concat([Buffer.from(`${at} br\n`, 'latin1'), packed]);
  return { value, rawBytes, storedBytes: value.length, compressed: true };
}

/** Reads either layout (and gzip, should an operator switch); null for anything unrecognized. */
export function unframeAnswer(value: string | Buffer): CachedAnswer | null {
  if (typeof value === 'string') {
    const newline = value.indexOf('\n');
    if (newline < 0) return null;
    const at = Number(value.slice(0, newline));
    return Number.isFinite(at) ? { at, body: value.slice(newline + 1) } : null;
  }
  const newline = value.indexOf(0x0a);
  if (newline < 0) return null;
  const [stamp, encoding] = value.toString('latin1', 0, newline).split(' ');
  const at = Number(stamp);
  if (!Number.isFinite(at)) return null;
  const rest = value.subarray(newline + 1);
  try {
    if (encoding === undefined) return { at, body: rest.toString('utf8') };
    if (encoding === 'br') return { at, body: brotliDecompressSync(rest).toString('utf8') };
    if (encoding === 'gz') return { at, body: gunzipSync(rest).toString('utf8') };
  } catch {
    return null; // corrupt entry: treated as absent, recomputed and overwritten
  }
  return null;
}
