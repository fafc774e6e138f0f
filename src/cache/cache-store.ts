/** The storage behind the cache: Redis when configured, otherwise a bounded in-process LRU. */
export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  /** Values of `keys`; null where absent (Redis: raw bytes, since entries may be compressed). */
  get(keys: string[]): Promise<Array<string | Buffer | null>>;
  /** Values of version keys; each missing key is created with its `fresh` token and that token returned. */
  versions(keys: string[], fresh: string[], ttlSeconds: number): Promise<string[]>;
  set(entries: Array<[string, string | Buffer]>, ttlSeconds: number): Promise<void>;
  /** Deletes every key under `prefix`; returns how many. */
  clear(prefix: string): Promise<number>;
  countKeys(prefix: string): Promise<number>;
  /** Memory used by the store (Redis: the server's used_memory). */
  memoryBytes(): Promise<number | null>;
  ping(): Promise<void>;
  connected(): boolean;
}

/** Escapes glob metacharacters so a prefix matches literally in SCAN MATCH. */
export const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
