import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { decryptStream, parseBackupKey } from './backup-crypto';
import { removeQuietly, sha256File } from './backup-files';
import { BackupOffsite } from './backup-offsite';
import { BackupRow } from './backup.repository';

export type ArchiveStep = 'file' | 'checksum' | 'decrypt';

export interface OpenedArchive {
  /** A pg_restore-readable file (decrypted when the backup is encrypted). */
  path: string;
  /** Where the bytes came from: the local file, or the off-site copy downloaded for this run. */
  source: 'local' | 'offsite';
  cleanup: () => Promise<void>;
}

/**
 * Hands verify and restore a checked, readable archive: the local file, or the off-site copy
 * when the local file is gone; checks size and sha256 against the ledger; for encrypted
 * backups decrypts (authenticating) into an owner-only temporary file, so pg_restore never
 * reads unauthenticated bytes.
 */
@Injectable()
export class BackupArchives {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly offsite: BackupOffsite,
  ) {}

  localPath(row: BackupRow): string {
    return join(this.config.backup.dir, row.file);
  }

  private tempPath(row: BackupRow, kind: string): string {
    return join(this.config.backup.dir, `.${row.id}.${randomBytes(4).toString('hex')}.${kind}.tmp`);
  }

  /** Where verify or restore will read `row` from: its local file, or else the off-site copy. */
  async sourceFor(row: BackupRow): Promise<OpenedArchive['source']> {
    const local = await stat(this.localPath(row)).catch(() => undefined);
    return !local && this.offsite.enabled && row.offsite?.status === 'uploaded'
      ? 'offsite'
      : 'local';
  }

  async open(
    row: BackupRow,
    onStep: (next: ArchiveStep) => void = () => undefined,
  ): Promise<OpenedArchive> {
    const temps: string[] = [];
    const cleanup = async () => {
      for (const t of temps) await removeQuietly(t);
    };
    try {
      let path = this.localPath(row);
      let source: OpenedArchive['source'] = 'local';
      const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw new Error(`backup file unreadable: ${error.message}`);
        return undefined;
      });
      if (!info) {
        if (!this.offsite.enabled || row.offsite?.status !== 'uploaded')
          throw new Error(`backup file missing: ${row.file} (and no checked off-site copy)`);
        const downloaded = this.tempPath(row, 'offsite');
        temps.push(downloaded);
        await this.offsite.download(row, downloaded);
        path = downloaded;
        source = 'offsite';
      }
      const size = info?.size ?? (await stat(path)).size;
      if (row.size_bytes !== null && size !== Number(row.size_bytes))
        throw new Error(`backup file is ${size} bytes, expected ${row.size_bytes}`);
      onStep('checksum');
      const { sha256 } = await sha256File(path);
      if (sha256 !== row.sha256)
        throw new Error(`sha256 mismatch: file ${sha256}, recorded ${row.sha256}`);
      onStep('decrypt');
      if (!row.encrypted) return { path, source, cleanup };

      const raw = this.config.backup.encryptionKey;
      if (raw === undefined)
        throw new Error('backup is encrypted but BACKUP_ENCRYPTION_KEY is not set');
      const key = parseBackupKey(raw);
      const plain = this.tempPath(row, 'plain');
      temps.push(plain);
      await pipeline(
        createReadStream(path),
        decryptStream(key),
        createWriteStream(plain, { flags: 'wx', mode: 0o600 }),
      );
      return { path: plain, source, cleanup };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
}
