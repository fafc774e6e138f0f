import { CacheStore } from './cache-store';

interface Entry {
  value: string | Buffer;
  expiresAt: number;
}

/**
 * In-process cache used when no Redis is configured: a Map kept in recency order (a Map iterates
 * in insertion order, so re-inserting on read makes the first key the least recently used).
 * Single replica only — other processes neither see its entries nor its version bumps.
 */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxEntries: number) {}

  async get(keys: string[]): Promise<Array<string | Buffer | null>> {
    return keys.map((key) => this.read(key));
  }

  async versions(keys: string[], fresh: string[], ttlSeconds: number): Promise<string[]> {
    return keys.map((key, i) => {
      const value = this.read(key);
      if (value !== null) return value.toString(); // tokens are always text
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
      if (key.startsWith(prefix)) {
        this.remove(key);
        removed++;
      }
    }
    return removed;
  }

  async countKeys(prefix: string): Promise<number> {
    let count = 0;
    const now = Date.now();
    for (const [key, entry] of this.entries)
      if (entry.expiresAt > now && key.startsWith(prefix)) count++;
    return count;
  }

  async memoryBytes(): Promise<number> {
    return this.bytes;
  }

  async ping(): Promise<void> {}

  connected(): boolean {
    return true;
  }

  private read(key: string): string | Buffer | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.remove(key);
      return null;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  private write(key: string, value: string | Buffer, ttlSeconds: number): void {
    this.remove(key);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
    this.bytes += 2 * (key.length + value.length);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= 2 * (key.length + entry.value.length);
    this.entries.delete(key);
  }
}
