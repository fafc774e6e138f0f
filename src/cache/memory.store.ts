import { LRUCache } from 'lru-cache';
import { CacheStore } from './cache-store';

/**
 * In-process cache used when no Redis is configured: an LRU (lru-cache) bounded by entry count
 * and by bytes, each entry with its TTL. Single replica only — other processes neither see its
 * entries nor its version bumps.
 */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries: LRUCache<string, string | Buffer>;

  /** `clock` (ms) only for tests; lru-cache reads performance.now() by default. */
  constructor(maxEntries: number, maxBytes: number, clock?: { now(): number }) {
    this.entries = new LRUCache<string, string | Buffer>({
      max: maxEntries,
      maxSize: maxBytes,
      perf: clock,
      // Read the clock on every check (the default caches it for 1 ms on a timer).
      ttlResolution: 0,
      // Keys and text are UTF-16 in memory; compressed entries are bytes.
      sizeCalculation: (value, key) =>
        Math.max(2 * key.length + (typeof value === 'string' ? 2 * value.length : value.length), 1),
    });
  }

  async get(keys: string[]): Promise<Array<string | Buffer | null>> {
    return keys.map((key) => this.entries.get(key) ?? null);
  }

  async versions(keys: string[], fresh: string[], ttlSeconds: number): Promise<string[]> {
    return keys.map((key, i) => {
      const value = this.entries.get(key);
      if (value !== undefined) return value.toString(); // tokens are always text
      this.write(key, fresh[i], ttlSeconds);
      return fresh[i];
    });
  }

  async set(entries: Array<[string, string | Buffer]>, ttlSeconds: number): Promise<void> {
    for (const [key, value] of entries) this.write(key, value, ttlSeconds);
  }

  async clear(prefix: string): Promise<number> {
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && this.entries.delete(key)) removed++;
    }
    return removed;
  }

  async countKeys(prefix: string): Promise<number> {
    this.entries.purgeStale();
    let count = 0;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) count++;
    return count;
  }

  async memoryBytes(): Promise<number> {
    return this.entries.calculatedSize;
  }

  async ping(): Promise<void> {}

  connected(): boolean {
    return true;
  }

  private write(key: string, value: string | Buffer, ttlSeconds: number): void {
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
  }
}
