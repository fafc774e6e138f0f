import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { withTimeout } from '../common/with-timeout';
import { RedisConnection } from '../cache/redis.connection';

/** Stores max(current, new) and refreshes the TTL; LSNs fit a Lua double exactly (< 2^53). */
const MAX_LSN_LUA = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = tonumber(ARGV[1])
if new > cur then cur = new end
local out = string.format('%.0f', cur)
redis.call('SET', KEYS[1], out, 'EX', ARGV[2])
return out`;

/** `16/B374D848` → a byte position (null stays null: not a standby, or nothing replayed yet). */
export function parseLsn(text: string | null | undefined): number | null {
  if (!text) return null;
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text.trim());
  if (!match) return null;
  return parseInt(match[1], 16) * 2 ** 32 + parseInt(match[2], 16);
}

/**
 * The cluster-wide "last acknowledged write" WAL position (SPEC §14). Ingest records the
 * primary's WAL insert position after its commit and before the cache versions move and the
 * 2xx goes out; a replica may answer a read only when it has replayed at least that far.
 *
 * Shared through Redis (key `<prefix>replica:write-lsn`, a monotonic max) so every app
 * instance sees every instance's writes, like the cache's data versions; in memory without
 * Redis (single instance, like the in-process cache). When the shared value cannot be trusted
 * (Redis failed, reconnected, or lost the key) `required()` answers null — reads go to the
 * primary — until it has been re-seeded from the primary's current position, which is at
 * least every acknowledged write's.
 */
export class WritePosition {
  private readonly logger = new Logger('ReadReplicas');
  private readonly key: string;
  private readonly ttlSeconds: number;
  /** Highest position this instance recorded or read. */
  private local = 0;
  /**
   * The value may be missing writes — at start (a previous process may have acknowledged
   * writes), after a failed record, after Redis (re)connected: re-seed before trusting it.
   */
  private stale = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisConnection | undefined,
    keyPrefix: string,
    ttlSeconds: number,
    private readonly timeoutMs: number,
  ) {
    this.key = `${keyPrefix}replica:write-lsn`;
    this.ttlSeconds = Math.max(ttlSeconds, 60);
  }

  /** Redis (re)connected: it may have missed writes recorded while it was away. */
  markStale(): void {
    this.stale = true;
  }

  private get shared(): boolean {
    return this.redis?.configured === true;
  }

  /**
   * After an ingest commit: remember the primary's WAL position. Throws only when the primary
   * cannot tell it (then the write must not be acknowledged: other instances could serve it
   * stale; the client's retry is deduplicated). A Redis failure is absorbed: the position is
   * re-seeded from the primary before replicas are trusted again.
   */
  async record(): Promise<void> {
    let lsn: number;
    try {
      lsn = await this.primaryPosition();
    } catch (error) {
      this.stale = true;
      throw error;
    }
    this.local = Math.max(this.local, lsn);
    if (!this.shared) return;
    try {
      await this.storeMax(lsn);
    } catch (error) {
      this.stale = true;
      this.redis?.reportFailure();
      this.logger.warn(`could not share the write position: ${(error as Error).message}`);
    }
  }

  /**
   * The position a replica must have replayed to serve a read now, or null when unknown
   * (then the primary answers). Called at query time, after the cache read its versions.
   */
  async required(): Promise<number | null> {
    if (!this.shared) {
      if (this.stale) {
        try {
          this.local = Math.max(this.local, await this.primaryPosition());
          this.stale = false;
        } catch {
          return null;
        }
      }
      return this.local;
    }
    const redis = this.redis as RedisConnection;
    if (!redis.available) return null;
    try {
      if (this.stale) {
        await this.reseed();
        return this.local;
      }
      const value = await withTimeout(
        (redis.client as NonNullable<RedisConnection['client']>).get(this.key),
        this.timeoutMs,
        'write position read timed out',
      );
      if (value === null) {
        // Expired, evicted or cleared: the primary's current position covers every write.
        await this.reseed();
        return this.local;
      }
      this.local = Math.max(this.local, Number(value));
      return this.local;
    } catch (error) {
      redis.reportFailure();
      this.logger.debug(`write position unavailable: ${(error as Error).message}`);
      return null;
    }
  }

  private async reseed(): Promise<void> {
    const lsn = await this.primaryPosition();
    this.local = Math.max(this.local, await this.storeMax(lsn));
    this.stale = false;
  }

  private async storeMax(lsn: number): Promise<number> {
    const client = (this.redis as RedisConnection).client as NonNullable<RedisConnection['client']>;
    const stored = (await withTimeout(
      client.eval(MAX_LSN_LUA, 1, this.key, String(lsn), String(this.ttlSeconds)),
      this.timeoutMs,
      'write position update timed out',
    )) as string;
    return Number(stored);
  }

  /** The insert position: at or past the end of every commit record already acknowledged. */
  private async primaryPosition(): Promise<number> {
    const rows = (await this.dataSource.query(
      'SELECT pg_current_wal_insert_lsn()::text AS lsn',
    )) as { lsn: string }[];
    const lsn = parseLsn(rows[0]?.lsn);
    if (lsn === null) throw new Error('no WAL position');
    return lsn;
  }
}
