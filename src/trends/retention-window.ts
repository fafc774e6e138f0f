import { Injectable } from '@nestjs/common';
import { DAY } from '../common/time-window';
import { IngestRepository } from './ingest.repository';

const REFRESH_MS = 60_000;

/**
 * The oldest observedAt ingest accepts: now minus the raw-observation retention policy, so
 * ingest never writes into a partition the next retention run drops. Cached for a minute;
 * the retention module calls refresh() when the policy changes.
 */
@Injectable()
export class RetentionWindow {
  private keepDays: number | null = null;
  private loadedAt = 0;

  constructor(private readonly repository: IngestRepository) {}

  async oldestAllowed(now: Date): Promise<Date | null> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.refresh();
    return this.keepDays === null ? null : new Date(now.getTime() - this.keepDays * DAY);
  }

  async refresh(): Promise<void> {
    this.keepDays = await this.repository.rawRetentionDays();
    this.loadedAt = Date.now();
  }
}
