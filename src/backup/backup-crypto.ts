import { DecipherGCM, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/**
 * Encrypted backup file layout (version 1):
 *
 *   "TSBK" (4 bytes) | version 0x01 (1 byte) | IV (12 bytes) | ciphertext | GCM auth tag (16 bytes)
 *
 * The 17-byte header is bound to the ciphertext as additional authenticated data, so a changed
 * header, body or tag all fail authentication. Each file gets a fresh random IV.
 */
export const CRYPTO_MAGIC = Buffer.from('TSBK', 'ascii');
export const CRYPTO_VERSION = 1;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = CRYPTO_MAGIC.length + 1 + IV_BYTES;
export const CIPHER = 'aes-256-gcm' as const;

/** What the manifest records about encryption (never the key). */
export const ENCRYPTION_PARAMS = {
  algorithm: 'AES-256-GCM',
  format: `TSBK v${CRYPTO_VERSION}: magic(4) version(1) iv(${IV_BYTES}) ciphertext tag(${TAG_BYTES}); header is AAD`,
  ivBytes: IV_BYTES,
  tagBytes: TAG_BYTES,
} as const;

export class BackupKeyError extends Error {}

/** Decodes BACKUP_ENCRYPTION_KEY (32 bytes, base64), failing with a message that names it. */
export function parseBackupKey(base64: string): Buffer {
  const trimmed = base64.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new BackupKeyError(
      `BACKUP_ENCRYPTION_KEY must be 32 bytes encoded as base64 (got ${key.length} bytes); create one with: openssl rand -base64 32`,
    );
  }
  return key;
}

/** Streams plaintext in, the encrypted file format out. */
export function encryptStream(key: Buffer, iv: Buffer = randomBytes(IV_BYTES)): Transform {
  const header = Buffer.concat([CRYPTO_MAGIC, Buffer.from([CRYPTO_VERSION]), iv]);
  const cipher = createCipheriv(CIPHER, key, iv);
  cipher.setAAD(header);
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (!headerSent) {
        this.push(header);
        headerSent = true;
      }
      done(null, cipher.update(chunk));
    },
    flush(done: TransformCallback) {
      if (!headerSent) this.push(header);
      this.push(cipher.final());
      done(null, cipher.getAuthTag());
    },
  });
}

export class BackupAuthError extends Error {}

/**
 * Streams the encrypted format in, plaintext out. The last 16 bytes are held back as the tag;
 * authentication is only known at the end, so callers must not trust the output until the
 * stream finished without error (we decrypt to a temporary file before pg_restore reads it).
 */
export function decryptStream(key: Buffer): Transform {
  let header: Buffer | null = null;
  let pending: Buffer = Buffer.alloc(0);
  let decipher: DecipherGCM | null = null;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!header) {
        if (pending.length < HEADER_BYTES) return done();
        header = pending.subarray(0, HEADER_BYTES);
        if (!header.subarray(0, CRYPTO_MAGIC.length).equals(CRYPTO_MAGIC)) {
          return done(new BackupAuthError('not an encrypted backup (magic bytes missing)'));
        }
        const version = header[CRYPTO_MAGIC.length];
        if (version !== CRYPTO_VERSION) {
          return done(new BackupAuthError(`unsupported encrypted backup version ${version}`));
        }
        decipher = createDecipheriv(CIPHER, key, header.subarray(CRYPTO_MAGIC.length + 1));
        decipher.setAAD(header);
        pending = pending.subarray(HEADER_BYTES);
      }
      if (!decipher || pending.length <= TAG_BYTES) return done();
      const body = pending.subarray(0, pending.length - TAG_BYTES);
      pending = Buffer.from(pending.subarray(pending.length - TAG_BYTES));
      done(null, decipher.update(body));
    },
    flush(done: TransformCallback) {
      if (!decipher || pending.length !== TAG_BYTES) {
        return done(new BackupAuthError('encrypted backup is truncated'));
      }
      decipher.setAuthTag(pending);
      try {
        done(null, decipher.final());
      } catch {
        done(new BackupAuthError('authentication failed: wrong key or the file was modified'));
      }
    },
  });
}
