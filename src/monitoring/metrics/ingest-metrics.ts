import { Injectable } from '@nestjs/common';
import { OnAppEvent } from '../../common/events';
import { INGEST_COMMITTED, IngestedBatch } from '../../trends/ingest-events';
import { MetricsService } from './metrics.service';

const RATE_WINDOW_MS = 5 * 60_000;

/**
 * Counts committed ingest batches (trends_processed_total per platform, duplicates) and keeps
 * a short in-memory history for the ingest rate shown by /monitoring/status (this replica).
 */
@Injectable()
export class IngestMetrics {
  private readonly startedAt = Date.now();
  private recent: { at: number; accepted: number }[] = [];

  constructor(private readonly metrics: MetricsService) {}

  @OnAppEvent(INGEST_COMMITTED, { suppressErrors: false })
  onIngest(batch: IngestedBatch): void {
    for (const group of batch.groups) {
      if (group.accepted > 0)
        this.metrics.trendsProcessed.inc({ platform: group.platform }, group.accepted);
    }
    if (batch.duplicates > 0) this.metrics.trendsDuplicates.inc(batch.duplicates);
    if (batch.accepted > 0) this.remember(batch.accepted);
  }

  /** Accepted observations per second over the last five minutes (or since start if shorter). */
  ratePerSecond(now = Date.now()): number {
    this.trim(now);
    const accepted = this.recent.reduce((sum, entry) => sum + entry.accepted, 0);
    const spanMs = Math.min(RATE_WINDOW_MS, Math.max(now - this.startedAt, 1000));
    return Math.round((accepted / (spanMs / 1000)) * 1000) / 1000;
  }

  private remember(accepted: number): void {
    const now = Date.now();
    this.recent.push({ at: now, accepted });
    this.trim(now);
  }

  private trim(now: number): void {
    const oldest = now - RATE_WINDOW_MS;
    if (this.recent.length && this.recent[0].at < oldest)
      this.recent = this.recent.filter((e) => e.at >= oldest);
  }
}
