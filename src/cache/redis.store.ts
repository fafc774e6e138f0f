import { CacheStore, globEscape } from './cache-store';
import { ScriptedRedis } from './redis.connection';

/** Cache storage on the shared Redis connection. Callers bound every call with their own timeout. */
export class RedisStore implements CacheStore {
  readonly kind = 'redis' as const;

  constructor(private readonly client: ScriptedRedis) {}

  async get(keys: string[]): Promise<Array<string | null>> {
    return keys.length === 1 ? [await this.client.get(keys[0])] : this.client.mget(keys);
  }

  versions(keys: string[], fresh: string[], ttlSeconds: number): Promise<string[]> {
    return this.client.trendVersions(keys.length, ...keys, ...fresh, ttlSeconds);
  }

  async set(entries: Array<[string, string]>, ttlSeconds: number): Promise<void> {
    if (entries.length === 1) {
      await this.client.set(entries[0][0], entries[0][1], 'EX', ttlSeconds);
      return;
    }
    const pipeline = this.client.pipeline();
    for (const [key, value] of entries) pipeline.set(key, value, 'EX', ttlSeconds);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  /** SCAN + UNLINK over the prefix only: never KEYS, never FLUSHDB. */
  async clear(prefix: string): Promise<number> {
    let removed = 0;
    for await (const keys of this.scan(prefix)) {
      if (keys.length) removed += await this.client.unlink(...keys);
    }
    return removed;
  }

  async countKeys(prefix: string): Promise<number> {
    let count = 0;
    for await (const keys of this.scan(prefix)) count += keys.length;
    return count;
  }

  async memoryBytes(): Promise<number | null> {
    const info = await this.client.info('memory');
    const match = /^used_memory:(\d+)/m.exec(info);
    return match ? Number(match[1]) : null;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  connected(): boolean {
    return this.client.status === 'ready';
  }

  private async *scan(prefix: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        'MATCH',
        `${globEscape(prefix)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      yield keys;
    } while (cursor !== '0');
  }
}
