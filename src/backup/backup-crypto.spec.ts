import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HEADER_BYTES,
  TAG_BYTES,
  decryptStream,
  encryptStream,
  parseBackupKey,
} from './backup-crypto';

async function run(
  input: Buffer,
  transform: ReturnType<typeof encryptStream>,
  chunk = 1000,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(input.length / chunk) }, (_, i) =>
    input.subarray(i * chunk, (i + 1) * chunk),
  );
  await pipeline(Readable.from(pieces), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const part of source) parts.push(part);
  });
  return Buffer.concat(parts);
}

describe('backup encryption', () => {
  const key = randomBytes(32);
  const plain = randomBytes(100_003);

  it('round-trips in odd-sized chunks and adds exactly header + tag', async () => {
    const sealed = await run(plain, encryptStream(key), 777);
    expect(sealed.length).toBe(plain.length + HEADER_BYTES + TAG_BYTES);
    expect(sealed.subarray(0, 4).toString()).toBe('TSBK');
    expect((await run(sealed, decryptStream(key), 13)).equals(plain)).toBe(true);
  });

  it('uses a fresh IV per file', async () => {
    const a = await run(plain, encryptStream(key));
    const b = await run(plain, encryptStream(key));
    expect(a.subarray(5, HEADER_BYTES).equals(b.subarray(5, HEADER_BYTES))).toBe(false);
  });

  it('encrypts an empty input to a valid file', async () => {
    const sealed = await run(Buffer.alloc(0), encryptStream(key));
    expect(sealed.length).toBe(HEADER_BYTES + TAG_BYTES);
    expect((await run(sealed, decryptStream(key))).length).toBe(0);
  });

  it.each([
    ['a wrong key', (s: Buffer) => s, randomBytes(32)],
    ['a flipped body byte', (s: Buffer) => flip(s, 5000), undefined],
    ['a flipped IV byte (header is authenticated)', (s: Buffer) => flip(s, 8), undefined],
    ['a flipped tag byte', (s: Buffer) => flip(s, s.length - 1), undefined],
  ])('fails authentication with %s', async (_name, tamper, otherKey) => {
    const sealed = tamper(await run(plain, encryptStream(key)));
    await expect(run(sealed, decryptStream(otherKey ?? key))).rejects.toThrow(
      /authentication failed/,
    );
  });

  it('rejects truncated files and foreign files', async () => {
    const sealed = await run(plain, encryptStream(key));
    await expect(run(sealed.subarray(0, HEADER_BYTES + 5), decryptStream(key))).rejects.toThrow(
      /truncated|authentication/,
    );
    await expect(
      run(Buffer.from('PGDMP not encrypted at all'), decryptStream(key)),
    ).rejects.toThrow(/magic/);
  });

  it('accepts only 32-byte base64 keys', () => {
    expect(parseBackupKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseBackupKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => parseBackupKey('not base64 at all!')).toThrow(/BACKUP_ENCRYPTION_KEY/);
  });
});

function flip(buffer: Buffer, at: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[at] ^= 0x01;
  return copy;
}
