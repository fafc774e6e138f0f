import { brotliDecompressSync, gzipSync } from 'node:zlib';
import { frameAnswer, unframeAnswer } from './compression';

describe('cached answer framing', () => {
  const big = JSON.stringify({
    items: Array.from({ length: 60 }, (_, i) => ({ trendKey: `tränd ${i} 🚀`, mentions: i * 7 })),
  });

  it('compresses answers at the threshold and reads them back byte-exact', async () => {
    const bytes = Buffer.byteLength(big);
    const framed = await frameAnswer(1234, big, bytes);
    expect(framed.compressed).toBe(true);
    expect(Buffer.isBuffer(framed.value)).toBe(true);
    const value = framed.value as Buffer;
    expect(value.subarray(0, 8).toString('latin1')).toBe('1234 br\n');
    // Independently decoded with zlib, not with our reader:
    expect(brotliDecompressSync(value.subarray(8)).toString('utf8')).toBe(big);
    expect(framed.storedBytes).toBe(value.length);
    expect(framed.rawBytes).toBe(bytes);
    expect(framed.storedBytes).toBeLessThan(bytes / 2);
    expect(unframeAnswer(value)).toEqual({ at: 1234, body: big });
  });

  it('keeps answers below the threshold (and everything with 0) plain text', async () => {
    const bytes = Buffer.byteLength(big);
    for (const min of [bytes + 1, 0]) {
      const framed = await frameAnswer(99, big, min);
      expect(framed.compressed).toBe(false);
      expect(framed.value).toBe(`99\n${big}`);
      expect(unframeAnswer(framed.value)).toEqual({ at: 99, body: big });
      // As Redis returns it (bytes):
      expect(unframeAnswer(Buffer.from(framed.value as string))).toEqual({ at: 99, body: big });
    }
  });

  it('reads gzip entries and rejects unknown or corrupt ones', () => {
    const gz = Buffer.concat([Buffer.from('5 gz\n'), gzipSync(Buffer.from('héllo'))]);
    expect(unframeAnswer(gz)).toEqual({ at: 5, body: 'héllo' });
    expect(unframeAnswer(Buffer.from('5 br\nnot brotli'))).toBeNull();
    expect(unframeAnswer(Buffer.from('5 zz\nx'))).toBeNull();
    expect(unframeAnswer(Buffer.from('no newline'))).toBeNull();
    expect(unframeAnswer('abc\n{}')).toBeNull();
  });
});
