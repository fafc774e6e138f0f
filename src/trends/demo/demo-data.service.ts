import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AdvisoryLock, withAdvisoryLock } from '../../database/advisory-lock';
import { ObservationRow } from '../ingest-validator';
import { IngestRepository } from '../ingest.repository';
import { IngestService } from '../ingest.service';
import { demoObservations } from './demo-data';

const BATCH = 5000;

/** Loads the demo data set through the real ingest path (so rollups are exact). */
@Injectable()
export class DemoDataService {
  private readonly logger = new Logger(DemoDataService.name);

  constructor(
    private readonly ingest: IngestService,
    private readonly observations: IngestRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Loads `days` of demo data when the database holds no observation yet. */
  async loadIfEmpty(days = 7): Promise<number> {
    const outcome = await withAdvisoryLock(this.dataSource, AdvisoryLock.DemoData, async () =>
      (await this.observations.hasObservations()) ? 0 : this.load(days),
    );
    return outcome.acquired ? outcome.result : 0;
  }

  async load(days: number, end = new Date()): Promise<number> {
    const started = Date.now();
    let batch: ObservationRow[] = [];
    let accepted = 0;
    for (const row of demoObservations({ days, end })) {
      batch.push(row);
      if (batch.length === BATCH) {
        accepted += (await this.ingest.ingestRows(batch)).accepted;
        batch = [];
      }
    }
    if (batch.length) accepted += (await this.ingest.ingestRows(batch)).accepted;
    this.logger.log(
      `loaded ${accepted} demo observations (${days} days) in ${Date.now() - started} ms`,
    );
    return accepted;
  }
}
