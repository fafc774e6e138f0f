import { CacheStore, globEscape } from './cache-store';
import type Redis from 'ioredis';
import { ScriptedRedis } from './redis.connection';
import { isCluster, masterNodes } from './redis-client.factory';

/** Cache storage on the shared Redis connection. Callers bound every call with their own timeout. */
export class RedisStore implements CacheStore {
  readonly kind = 'redis' as const;

  constructor(private readonly client: ScriptedRedis) {}

  async get(keys: string[]): Promise<Array<Buffer | null>> {
    return keys.length === 1
      ? [await this.client.getBuffer(keys[0])]
      : this.client.mgetBuffer(keys);
  }

  versions(keys: string[], fresh: string[], ttlSeconds: number): Promise<string[]> {
    return this.client.trendVersions(keys.length, ...keys, ...fresh, ttlSeconds);
  }

  async set(entries: Array<[string, string | Buffer]>, ttlSeconds: number): Promise<void> {
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

  /**
   * SCAN + UNLINK over the prefix only: never KEYS, never FLUSHDB. On a cluster every master is
   * scanned, and keys are unlinked one by one (one pipeline per batch): a multi-key UNLINK of
   * keys from different hash slots is refused.
   */
  async clear(prefix: string): Promise<number> {
    let removed = 0;
    const cluster = isCluster(this.client);
    for (const node of masterNodes(this.client)) {
      for await (const keys of scan(node, prefix)) {
        if (keys.length === 0) continue;
        if (!cluster) {
          removed += await node.unlink(...keys);
          continue;
        }
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error, count] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          removed += Number(count);
        }
      }
    }
    return removed;
  }

  async countKeys(prefix: string): Promise<number> {
    let count = 0;
    for (const node of masterNodes(this.client)) {
      for await (const keys of scan(node, prefix)) count += keys.length;
    }
    return count;
  }

  /** used_memory of the server, or the sum over a cluster's masters. */
  async memoryBytes(): Promise<number | null> {
    let total: number | null = null;
    for (const node of masterNodes(this.client)) {
      const match = /^used_memory:(\d+)/m.exec(await node.info('memory'));
      if (match) total = (total ?? 0) + Number(match[1]);
    }
    return total;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  connected(): boolean {
    return this.client.status === 'ready';
  }
}

async function* scan(node: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    yield keys;
  } while (cursor !== '0');
}
