import { Injectable } from '@nestjs/common';
import { IngestedGroup } from './ingest.repository';

export interface IngestedBatch {
  accepted: number;
  duplicates: number;
  /** Inserted rows per platform and UTC day. */
  groups: IngestedGroup[];
}

type Listener = (batch: IngestedBatch) => Promise<void> | void;

/**
 * Lets other modules react to a committed batch (cache invalidation, metrics) without the
 * trends module knowing them. Listeners are awaited before the request is acknowledged, so a
 * read after a 2xx sees their effect (SPEC §6).
 */
@Injectable()
export class IngestEvents {
  private readonly listeners: Listener[] = [];

  onCommitted(listener: Listener): void {
    this.listeners.push(listener);
  }

  async emitCommitted(batch: IngestedBatch): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(batch)));
  }
}
