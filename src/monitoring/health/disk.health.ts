import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { mkdir, statfs } from 'node:fs/promises';
import { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { withTimeout } from '../../common/with-timeout';

const DISK_TIMEOUT_MS = 1000;
/** Below this much free space in BACKUP_DIR a pg_dump of any real size would fail. */
export const MIN_FREE_BYTES = 512 * 1024 ** 2;

/** Free space of the file system holding BACKUP_DIR (created if missing). */
@Injectable()
export class DiskHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(key = 'backupDisk') {
    const indicator = this.indicators.check(key);
    try {
      const stats = await withTimeout(
        this.measure(),
        DISK_TIMEOUT_MS,
        `no answer within ${DISK_TIMEOUT_MS} ms`,
      );
      const details = {
        freeBytes: stats.free,
        totalBytes: stats.total,
        minFreeBytes: MIN_FREE_BYTES,
      };
      return stats.free >= MIN_FREE_BYTES
        ? indicator.up(details)
        : indicator.down({ ...details, message: 'backup directory is almost full' });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async measure(): Promise<{ free: number; total: number }> {
    await mkdir(this.config.backup.dir, { recursive: true });
    const fs = await statfs(this.config.backup.dir);
    return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  }
}
