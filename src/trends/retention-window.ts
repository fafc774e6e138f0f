import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DAY } from '../common/time-window';

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

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async oldestAllowed(now: Date): Promise<Date | null> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.refresh();
    return this.keepDays === null ? null : new Date(now.getTime() - this.keepDays * DAY);
  }

  async refresh(): Promise<void> {
    const rows = (await this.dataSource.query(
      `SELECT keep_days FROM retention_policies WHERE table_name = 'trend_observations' AND enabled`,
    )) as { keep_days: number }[];
    this.keepDays = rows.length ? rows[0].keep_days : null;
    this.loadedAt = Date.now();
  }
}
