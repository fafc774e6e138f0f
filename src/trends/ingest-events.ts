import { IngestedGroup } from './ingest.repository';

export interface IngestedBatch {
  accepted: number;
  duplicates: number;
  /** Inserted rows per platform and UTC day. */
  groups: IngestedGroup[];
  /** UTC days (YYYY-MM-DD) of every row of the batch, duplicates included. */
  days: string[];
}

/**
 * A batch committed (all-duplicate batches too). Listeners (cache version bumps, metrics, the
 * live stream) are awaited before the request is acknowledged, so a read after a 2xx sees
 * their effect (SPEC §6); the trends module does not know them.
 */
export const INGEST_COMMITTED = 'ingest.committed';

/**
 * The same batch once every `ingest.committed` listener finished (cache versions moved), just
 * before the 2xx: for listeners that tell others to refetch (the live stream), so a refetch
 * never reads an answer cached before the write.
 */
export const INGEST_ACKNOWLEDGED = 'ingest.acknowledged';

declare module '../common/events' {
  interface AppEvents {
    [INGEST_COMMITTED]: IngestedBatch;
    [INGEST_ACKNOWLEDGED]: IngestedBatch;
  }
}
