import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { BackupRepository, BackupRow, OffsiteState } from './backup.repository';

type S3Settings = NonNullable<AppConfig['backup']['s3']>;

/** 8 MiB parts (S3's minimum is 5 MiB), two in flight: bounded memory for any backup size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/** Only the error's name and message: SDK errors never carry the credentials, but be sure. */
function describe(error: unknown, secret?: string): string {
  const e = error as { name?: string; message?: string; code?: string };
  let text = `${e.name ?? 'Error'}: ${e.message || e.code || 'unknown error'}`;
  if (secret) text = text.split(secret).join('***');
  return text.slice(0, 500);
}

/**
 * Off-site copies of backups on S3-compatible storage (SPEC §15): the file and its manifest
 * uploaded (multipart) after each backup and checked by reading the object back (size and
 * sha256), downloaded when verify/restore find no local file, deleted by rotation. A failure
 * is recorded on the backup and counted; the local backup is never touched; the next run
 * retries.
 */
@Injectable()
export class BackupOffsite implements OnModuleDestroy {
  private readonly logger = new Logger(BackupOffsite.name);
  private readonly settings: S3Settings | undefined;
  private client: S3Client | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly backups: BackupRepository,
    private readonly metrics: MetricsService,
  ) {
    this.settings = config.backup.s3;
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  private s3(): { client: S3Client; settings: S3Settings } {
    const settings = this.settings;
    if (!settings) throw new Error('off-site storage is not configured (BACKUP_S3_BUCKET)');
    this.client ??= new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      // The SDK's default CRC checksums are refused by many S3-compatible servers; we check
      // the stored object ourselves with sha256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
    return { client: this.client, settings };
  }

  keyFor(row: BackupRow): string {
    return `${this.settings?.prefix ?? ''}${row.file}`;
  }

  /**
   * Uploads every succeeded backup still on disk whose copy is missing or failed (the newest
   * one included): this is the retry of earlier failures. Never throws.
   */
  async uploadPending(
    localPath: (row: BackupRow) => string,
  ): Promise<{ uploaded: string[]; failed: string[] }> {
    const result = { uploaded: [] as string[], failed: [] as string[] };
    if (!this.enabled) return result;
    let pending: BackupRow[];
    try {
      pending = await this.backups.pendingOffsite();
    } catch (error) {
      this.logger.error(`off-site: pending backups not read: ${(error as Error).message}`);
      return result;
    }
    for (const row of pending) {
      const state = await this.upload(row, localPath(row));
      (state.status === 'uploaded' ? result.uploaded : result.failed).push(row.id);
    }
    return result;
  }

  /** Uploads one backup and its manifest, checks the object, records the outcome. */
  async upload(row: BackupRow, path: string): Promise<OffsiteState> {
    const key = this.keyFor(row);
    const attempts = (row.offsite?.attempts ?? 0) + 1;
    let state: OffsiteState;
    try {
      const { client, settings } = this.s3();
      const put = async (objectKey: string, body: Readable, contentType: string) => {
        await new Upload({
          client,
          params: {
            Bucket: settings.bucket,
            Key: objectKey,
            Body: body,
            ContentType: contentType,
            Metadata: { sha256: row.sha256 ?? '', 'backup-id': row.id },
          },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
          leavePartsOnError: false,
        }).done();
      };
      await put(key, createReadStream(path), 'application/octet-stream');
      await put(
        `${key}.manifest.json`,
        Readable.from([JSON.stringify(row.manifest, null, 2) + '\n']),
        'application/json',
      );
      const check = await this.checkObject(key);
      if (check.sizeBytes !== Number(row.size_bytes) || check.sha256 !== row.sha256)
        throw new Error(
          `stored object differs: ${check.sizeBytes} bytes sha256 ${check.sha256}, expected ${row.size_bytes} bytes sha256 ${row.sha256}`,
        );
      state = {
        key,
        status: 'uploaded',
        uploadedAt: new Date().toISOString(),
        error: null,
        sizeBytes: check.sizeBytes,
        sha256: check.sha256,
        attempts,
      };
      this.metrics.backupOffsiteLastSuccess.set(Date.now() / 1000);
      this.logger.log(`off-site: backup ${row.id} uploaded to ${key} and checked`);
    } catch (error) {
      const message = describe(error, this.settings?.secretAccessKey);
      state = { key, status: 'failed', uploadedAt: null, error: message, attempts };
      this.metrics.backupOffsiteFailures.inc();
      this.metrics.errors.inc({ service: 'backup', type: 'offsite_upload' });
      this.logger.error(
        `off-site: upload of backup ${row.id} failed (retried next run): ${message}`,
      );
    }
    await this.backups.recordOffsite(row.id, state).catch((e: Error) => {
      this.logger.error(`off-site: state of ${row.id} not recorded: ${e.message}`);
    });
    return state;
  }

  /** Size from HEAD, sha256 of the object as read back. */
  async checkObject(key: string): Promise<{ sizeBytes: number; sha256: string }> {
    const { client, settings } = this.s3();
    const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    const hash = createHash('sha256');
    let bytes = 0;
    const got = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
    for await (const chunk of got.Body as Readable) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    if (head.ContentLength !== undefined && head.ContentLength !== bytes)
      throw new Error(`HEAD says ${head.ContentLength} bytes, read back ${bytes}`);
    return { sizeBytes: bytes, sha256: hash.digest('hex') };
  }

  /** Downloads the off-site copy of a backup to `dest` (owner-only, never overwriting). */
  async download(row: BackupRow, dest: string): Promise<void> {
    if (row.offsite?.status !== 'uploaded')
      throw new Error('backup file missing locally and there is no checked off-site copy');
    try {
      const { client, settings } = this.s3();
      const got = await client.send(
        new GetObjectCommand({ Bucket: settings.bucket, Key: row.offsite.key }),
      );
      await pipeline(got.Body as Readable, createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      this.metrics.backupOffsiteFailures.inc();
      throw new Error(
        `off-site download of ${row.offsite.key} failed: ${describe(error, this.settings?.secretAccessKey)}`,
      );
    }
  }

  /** Rotation: deletes the object and its manifest. */
  async remove(row: BackupRow): Promise<void> {
    if (!row.offsite || row.offsite.status === 'deleted') return;
    try {
      const { client, settings } = this.s3();
      const key = row.offsite.key;
      const res = await client.send(
        new DeleteObjectsCommand({
          Bucket: settings.bucket,
          Delete: { Objects: [{ Key: key }, { Key: `${key}.manifest.json` }], Quiet: true },
        }),
      );
      if (res.Errors?.length)
        throw new Error(res.Errors.map((e) => `${e.Key}: ${e.Code} ${e.Message}`).join('; '));
      await this.backups.recordOffsite(row.id, { ...row.offsite, status: 'deleted' });
    } catch (error) {
      this.metrics.backupOffsiteFailures.inc();
      throw new Error(`off-site delete failed: ${describe(error, this.settings?.secretAccessKey)}`);
    }
  }

  /** Seeds the gauge after a restart from the ledger. */
  async seedMetrics(): Promise<void> {
    const at = await this.backups.latestOffsiteUpload();
    if (at) this.metrics.backupOffsiteLastSuccess.set(at.getTime() / 1000);
  }

  onModuleDestroy(): void {
    this.client?.destroy();
  }
}
