import { IngestedGroup } from './ingest.repository';

export interface IngestedBatch {
  accepted: number;
  duplicates: number;
  /** Inserted rows per platform and UTC day. */
  groups: IngestedGroup[];
}

/**
 * A batch committed (all-duplicate batches too). Listeners (cache version bumps, metrics, the
 * live stream) are awaited before the request is acknowledged, so a read after a 2xx sees
 * their effect (SPEC §6); the trends module does not know them.
 */
export const INGEST_COMMITTED = 'ingest.committed';

declare module '../common/events' {
  interface AppEvents {
    [INGEST_COMMITTED]: IngestedBatch;
  }
}
