import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { FieldValidationException } from '../common/field-errors';
import { ReadReplicasService } from '../database/read-replicas.service';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { emitAndWait, emitEvent } from '../common/events';
import { INGEST_ACKNOWLEDGED, INGEST_COMMITTED } from './ingest-events';
import { ObservationRow, validateIngestBody } from './ingest-validator';
import { IngestRepository } from './ingest.repository';
import { RetentionWindow } from './retention-window';

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

@Injectable()
export class IngestService {
  constructor(
    private readonly repository: IngestRepository,
    private readonly retention: RetentionWindow,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly replicas: ReadReplicasService,
  ) {}

  /** Validates the whole body (all-or-nothing), then stores it in one transaction. */
  async ingestBody(body: unknown, now = new Date()): Promise<IngestResult> {
    const validation = validateIngestBody(
      body,
      {
        maxBatch: this.config.ingest.maxBatch,
        maxFutureSkewMs: this.config.ingest.maxFutureSkewMs,
        oldestAllowed: await this.retention.oldestAllowed(now),
        platforms: this.config.ingest.platforms,
      },
      now,
    );
    if ('errors' in validation) throw new FieldValidationException(validation.errors);
    return this.ingestRows(validation.rows);
  }

  /** Stores already-validated rows (also used by the demo-data loader). */
  async ingestRows(rows: ObservationRow[]): Promise<IngestResult> {
    const unique = dedupeBatch(rows);
    const groups = await this.repository.insertBatch(unique);
    const accepted = groups.reduce((sum, g) => sum + g.accepted, 0);
    const result = { accepted, duplicates: rows.length - accepted };
    // Before the cache versions move and the 2xx: no replica answers a read until it has
    // replayed this write (SPEC §14; a no-op without replicas). Also for all-duplicate
    // batches: a retry of a batch whose first answer was lost must still be covered.
    await this.replicas.recordWrite();
    // Emitted for all-duplicate batches too, so duplicate counters see every batch.
    const batch = {
      ...result,
      groups,
      days: [...new Set(rows.map((r) => r.observedAt.slice(0, 10)))],
    };
    await emitAndWait(this.events, INGEST_COMMITTED, batch);
    emitEvent(this.events, INGEST_ACKNOWLEDGED, batch);
    return result;
  }
}

/** Keeps the first of items sharing the dedup key: duplicates inside a batch count once. */
export function dedupeBatch(rows: ObservationRow[]): ObservationRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = `${row.platform}\u0000${row.region}\u0000${row.trendKey}\u0000${row.observedAtMicros}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
