import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { OnAppEvent } from '../common/events';
import { withTimeout } from '../common/with-timeout';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { INGEST_COMMITTED, IngestedBatch } from '../trends/ingest-events';
import { CacheStore } from './cache-store';
import { CachedAnswer, frameAnswer, unframeAnswer } from './compression';
import { MemoryStore } from './memory.store';
import { REDIS_READY, RedisConnection } from './redis.connection';
import { RedisStore } from './redis.store';

/** What an answer depends on: the UTC days/months it reads, or any data at all. */
export type CacheScope = { kind: 'all' } | { kind: 'days'; days: string[] };

export interface CacheRequest {
  /** Route template, e.g. /api/v1/trends/:trendKey/series. */
  route: string;
  /** Normalized parameters (sorted JSON of params + validated query). */
  identity: string;
  /** The answer's format (JSON today; see cache-request.ts). */
  representation: string;
  /** The resolved ranges, serialized; part of the exact key. */
  rangeSignature: string;
  /** Re-resolves the ranges after the query ran: the exact key is only written if unchanged. */
  currentRangeSignature: () => string;
  scope: CacheScope;
}

export interface CacheDirectives {
  noCache: boolean;
  /** Seconds of accepted staleness (Cache-Control: max-stale). */
  maxStale?: number;
}

export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

export interface CacheAnswer {
  /** The JSON body, or the handler's own value when it was not JSON-serializable. */
  body: unknown;
  status: CacheStatus;
  /** Seconds since the answer was computed (HIT, STALE). */
  age?: number;
}

export interface CacheStats {
  connected: boolean;
  hits: number;
  misses: number;
  hitRate: number | null;
  keys: number | null;
  memoryBytes: number | null;
  /** Answers this replica wrote to the store since it started: their size, and as stored. */
  written: { entries: number; compressed: number; rawBytes: number; storedBytes: number };
}

export interface CacheHealth {
  configured: boolean;
  connected: boolean;
  latencyMs?: number;
  error?: string;
}

export type { CachedAnswer };

/** Ranges longer than this read month versions instead of one version per day. */
const MAX_DAY_VERSIONS = 62;

/**
 * Cache-aside with exact invalidation (SPEC §6).
 *
 * Each UTC day (and month) has a version token in the store; ingest replaces the token of every
 * day it wrote before acknowledging. A read first fetches the tokens of its days (one round
 * trip, creating missing ones), then looks up the entry keyed by route + normalized query +
 * resolved ranges + those tokens (second round trip). A write to a day therefore makes every
 * older entry over that day unreachable; entries over other days keep hitting. Tokens are
 * unique values, never counters, so a version key that expired, was evicted or cleared can
 * never come back with an old value and revive an old entry.
 *
 * A second entry per query ("latest", keyed without versions or ranges) holds the newest answer
 * for `Cache-Control: max-stale`.
 *
 * In front of Redis, an in-process L1 keeps answer bytes by their exact key (versions
 * included). The version tokens still come from Redis on every request, so an L1 entry is only
 * ever found under the versions it was computed for: as exact as the Redis entry it mirrors,
 * without its transfer. Latest (max-stale) entries stay in Redis only.
 */
@Injectable()
export class CacheService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CacheService.name);
  private readonly store: CacheStore;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly versionTtl: number;
  private readonly timeoutMs: number;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly instance = randomBytes(4).toString('hex');
  private sequence = 0;
  /** Set when a version bump could not reach Redis: entries may be stale until the epoch moves. */
  private epochBumpPending = false;
  private counts = { hits: 0, misses: 0 };
  private written = { entries: 0, compressed: 0, rawBytes: 0, storedBytes: 0 };
  /** Answers of at least this many bytes are stored compressed (Redis only; 0 = never). */
  private readonly compressMinBytes: number;
  /** L1: exact key material → answer; null when the store is the in-process one already. */
  private readonly local: LRUCache<string, CachedAnswer> | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly metrics: MetricsService,
  ) {
    this.prefix = config.redis.keyPrefix;
    this.ttl = config.redis.ttlSeconds;
    // Version tokens outlive the entries built on them; an expired token is simply recreated.
    this.versionTtl = Math.max(2 * this.ttl, 86_400);
    this.timeoutMs = config.redis.opTimeoutMs;
    this.compressMinBytes = config.redis.compressMinBytes;
    this.store = redis.client
      ? new RedisStore(redis.client)
      : new MemoryStore(config.redis.memoryMaxEntries, config.redis.memoryMaxMb * 1024 * 1024);
    const l1Bytes = config.redis.l1MaxMb * 1024 * 1024;
    this.local =
      this.store.kind === 'redis' && l1Bytes > 0
        ? new LRUCache<string, CachedAnswer>({
            maxSize: l1Bytes,
            // The text in UTF-16 and its UTF-8 bytes; the key is short.
            sizeCalculation: (answer, key) =>
              2 * (answer.body.length + key.length) + (answer.bytes?.length ?? 0) + 64,
            ttl: this.ttl * 1000,
          })
        : null;
  }

  /**
   * On every (re)connection: writes acknowledged while this replica was cut off (by it, or
   * by a replica that has since gone away) may be missing from Redis, and a Redis restarted
   * from a snapshot holds old entries. A new epoch retires every entry; the cache re-warms.
   */
  @OnAppEvent(REDIS_READY, { suppressErrors: true })
  onRedisReady(): void {
    this.epochBumpPending = true; // reads wait for the bump rather than racing it
    void this.bumpEpoch();
  }

  /**
   * The first connection usually becomes ready during module init, before event listeners
   * are attached: start with the same new epoch (a pending bump is made by the first read
   * if Redis is not there yet).
   */
  onApplicationBootstrap(): void {
    if (!this.redis.configured) return;
    if (this.redis.ready) this.onRedisReady();
    else this.epochBumpPending = true;
  }

  get storeKind(): 'redis' | 'memory' {
    return this.store.kind;
  }

  /** Serves one cacheable read: from the cache when allowed, otherwise by `compute` (the handler). */
  async serve(
    request: CacheRequest,
    directives: CacheDirectives,
    compute: () => Promise<unknown>,
  ): Promise<CacheAnswer> {
    const startedAt = Date.now();
    if (!this.storeAvailable()) return this.bypass(compute);
    // One budget of CACHE_OP_TIMEOUT_MS for all store calls of this request.
    const budget = new Budget(this.timeoutMs);
    if (this.epochBumpPending && !(await this.bumpEpoch())) return this.bypass(compute);

    const versionKeys = this.versionKeys(request.scope);
    let versions: string[];
    try {
      versions = await this.call(
        this.store.versions(
          versionKeys,
          versionKeys.map(() => this.token()),
          this.versionTtl,
        ),
        budget,
      );
    } catch {
      return this.bypass(compute);
    }
    const latestKey = this.latestKey(request);
    const material = exactMaterial(request, versions);
    const exactKey = this.exactKey(request, material);

    if (!directives.noCache) {
      const running = this.inflight.get(exactKey);
      if (running) return this.join(running);
      const local = this.local?.get(material);
      if (local)
        return this.served('hit', { body: local.body, status: 'HIT', age: ageOf(local.at) });
      const keys = directives.maxStale === undefined ? [exactKey] : [exactKey, latestKey];
      let found: Array<string | Buffer | null>;
      try {
        found = await this.call(this.store.get(keys), budget);
      } catch {
        return this.bypass(compute);
      }
      const exact = found[0] === null ? null : unframe(found[0]);
      if (exact) {
        this.remember(material, exact);
        return this.served('hit', { body: exact.body, status: 'HIT', age: ageOf(exact.at) });
      }
      const latest = found[1] ? unframe(found[1]) : null;
      if (
        latest &&
        directives.maxStale !== undefined &&
        Date.now() - latest.at <= directives.maxStale * 1000
      ) {
        return this.served('stale', { body: latest.body, status: 'STALE', age: ageOf(latest.at) });
      }
      // No await between this check and registering our own flight below: a concurrent miss
      // resumed in the same tick must find one or the other.
      const late = this.inflight.get(exactKey);
      if (late) return this.join(late);
    }

    this.count('miss');
    const work = this.computeAndStore(request, compute, startedAt, material, latestKey, budget);
    this.inflight.set(exactKey, work);
    try {
      return { body: await work, status: 'MISS' };
    } finally {
      // Forget it only after the current I/O callbacks ran: a lookup answered in the same
      // Redis reply batch as our write must still find the flight instead of querying again.
      setImmediate(() => {
        if (this.inflight.get(exactKey) === work) this.inflight.delete(exactKey);
      });
    }
  }

  /**
   * The fast path may use the store now: Redis is configured and not paused after a failure, and
   * no version bump is pending (otherwise the full path decides, and bypasses).
   */
  get fastPathReady(): boolean {
    return this.store.kind === 'redis' && this.redis.available && !this.epochBumpPending;
  }

  /** Version keys of a scope, with a fresh token for each (created by the store where missing). */
  versionRequest(scope: CacheScope): { keys: string[]; fresh: string[]; ttlSeconds: number } {
    const keys = this.versionKeys(scope);
    // One new token serves every key of this request: each key still only ever gets values it
    // never held before, which is all exactness needs (see the class comment).
    const token = this.token();
    return { keys, fresh: keys.map(() => token), ttlSeconds: this.versionTtl };
  }

  /**
   * A plain exact lookup for the fast path, given the version tokens it already read: L1, then
   * one Redis GET. A hit is counted like any other; anything else (absent, error) is null, and
   * the caller hands the request to the full path.
   */
  async lookupExact(request: CacheRequest, versions: string[]): Promise<CachedAnswer | null> {
    const material = exactMaterial(request, versions);
    let found = this.local?.get(material);
    if (!found) {
      let value: string | Buffer | null;
      try {
        [value] = await this.call(this.store.get([this.exactKey(request, material)]));
      } catch {
        return null;
      }
      const exact = value === null ? null : unframe(value);
      if (!exact) return null;
      found = this.remember(material, exact);
    }
    this.served('hit', { body: found.body, status: 'HIT' });
    return found;
  }

  /**
   * The fast path's one store call, with the same failure accounting as ours but no timer of
   * our own: the client's per-command timeout (CACHE_OP_TIMEOUT_MS, redis.connection.ts)
   * bounds it. A second timer and its promises per cache hit cost ≈ 10 µs (bench/query).
   */
  fastPathCall<T>(operation: Promise<T>): Promise<T> {
    return operation.catch((error: unknown) => {
      this.failed(error);
      throw error;
    });
  }

  /** Makes every cached answer unreachable (data changed outside ingest: restore, SQL, relocation). */
  async invalidateAll(): Promise<boolean> {
    return this.bumpEpoch();
  }

  /** Deletes every key under the prefix (SCAN + UNLINK; in memory: the prefix's entries). */
  async clear(): Promise<number> {
    this.local?.clear();
    try {
      const removed = await this.store.clear(this.prefix);
      this.metrics.cacheOperations.inc({ operation: 'clear', result: 'ok' });
      return removed;
    } catch (error) {
      this.metrics.cacheOperations.inc({ operation: 'clear', result: 'error' });
      throw error;
    }
  }

  async stats(): Promise<CacheStats> {
    const { hits, misses } = this.counts;
    const base = {
      connected: this.store.connected(),
      hits,
      misses,
      hitRate: hitRate(hits, misses),
      written: { ...this.written },
    };
    try {
      const [keys, memoryBytes] = await Promise.all([
        this.store.countKeys(this.prefix),
        this.call(this.store.memoryBytes()),
      ]);
      return { ...base, keys, memoryBytes };
    } catch {
      return { ...base, connected: false, keys: null, memoryBytes: null };
    }
  }

  /** For /health: is the cache store reachable, and how fast. */
  async health(): Promise<CacheHealth> {
    if (!this.redis.configured) return { configured: false, connected: false };
    const started = process.hrtime.bigint();
    try {
      await this.call(this.store.ping());
      const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
      return { configured: true, connected: true, latencyMs: Math.round(latencyMs * 1000) / 1000 };
    } catch (error) {
      return { configured: true, connected: false, error: (error as Error).message };
    }
  }

  /**
   * Ingest listener: replace the version token of each day (and month) written. Awaited before
   * the 2xx; a failure it does not absorb fails the ingest (`suppressErrors: false`).
   */
  @OnAppEvent(INGEST_COMMITTED, { suppressErrors: false })
  async onIngest(batch: IngestedBatch): Promise<void> {
    // All-duplicate batches bump their days too: a retry may follow a commit whose bump was
    // lost (process died, the write-position record failed), and its 2xx must still be exact.
    if (batch.days.length === 0) return;
    const keys = new Set<string>([`${this.prefix}{v}:all`]);
    for (const day of batch.days) {
      keys.add(`${this.prefix}{v}:d:${day}`);
      keys.add(`${this.prefix}{v}:m:${day.slice(0, 7)}`);
    }
    try {
      // Redis was just found failing (here or by the rate limiter): do not wait on it again.
      if (!this.storeAvailable()) throw new Error('Redis paused after a failure');
      await this.call(
        this.store.set(
          [...keys].map((key) => [key, this.token()]),
          this.versionTtl,
        ),
      );
      this.metrics.cacheOperations.inc({ operation: 'invalidate', result: 'ok' });
    } catch (error) {
      // The write is committed; Redis missed it. Serve nothing cached until the epoch moves.
      this.epochBumpPending = true;
      this.metrics.cacheOperations.inc({ operation: 'invalidate', result: 'error' });
      this.metrics.errors.inc({ service: 'cache', type: 'invalidate' });
      this.logger.warn(
        `version bump failed (${(error as Error).message}); cache bypassed until Redis is back`,
      );
    }
  }

  private async bumpEpoch(): Promise<boolean> {
    try {
      await this.call(this.store.set([[`${this.prefix}{v}:epoch`, this.token()]], this.versionTtl));
      this.epochBumpPending = false;
      this.metrics.cacheOperations.inc({ operation: 'invalidate', result: 'ok' });
      return true;
    } catch {
      this.epochBumpPending = true;
      this.metrics.cacheOperations.inc({ operation: 'invalidate', result: 'error' });
      return false;
    }
  }

  /**
   * Both entries of one query share the hash tag of the query's identity, so the pair is read
   * (MGET) and written (pipeline) in one hash slot of a cluster, and queries spread over slots.
   */
  private latestKey(request: CacheRequest): string {
    return `${this.prefix}l:{${queryTag(request)}}`;
  }

  private exactKey(request: CacheRequest, material: string): string {
    return `${this.prefix}c:{${queryTag(request)}}:${sha1(material)}`;
  }

  /** Into L1 with its UTF-8 bytes, for what is left of the entry's TTL; returns what is kept. */
  private remember(material: string, answer: CachedAnswer): CachedAnswer {
    if (!this.local) return answer;
    const left = this.ttl * 1000 - (Date.now() - answer.at);
    if (left <= 0) return answer;
    const kept = { ...answer, bytes: Buffer.from(answer.body) };
    this.local.set(material, kept, { ttl: left });
    return kept;
  }

  private versionKeys(scope: CacheScope): string[] {
    const keys = [`${this.prefix}{v}:epoch`];
    if (scope.kind === 'all') return [...keys, `${this.prefix}{v}:all`];
    if (scope.days.length <= MAX_DAY_VERSIONS)
      return [...keys, ...scope.days.map((d) => `${this.prefix}{v}:d:${d}`)];
    const months = [...new Set(scope.days.map((d) => d.slice(0, 7)))];
    return [...keys, ...months.map((m) => `${this.prefix}{v}:m:${m}`)];
  }

  private async join(running: Promise<unknown>): Promise<CacheAnswer> {
    this.metrics.cacheOperations.inc({ operation: 'get', result: 'coalesced' });
    return { body: await running, status: 'MISS' };
  }

  private async computeAndStore(
    request: CacheRequest,
    compute: () => Promise<unknown>,
    startedAt: number,
    material: string,
    latestKey: string,
    budget: Budget,
  ): Promise<unknown> {
    const value = await compute();
    // Text answers (CSV) are stored as they are, JSON answers as their JSON.
    const body = typeof value === 'string' ? value : JSON.stringify(value);
    if (typeof body !== 'string') return value;
    // The in-process store keeps text: compressing there would only cost CPU.
    const framed = await frameAnswer(
      startedAt,
      body,
      this.store.kind === 'redis' ? this.compressMinBytes : 0,
    );
    const entries: Array<[string, string | Buffer]> = [[latestKey, framed.value]];
    // If the hour (or minute) rolled over while the query ran, the handler may have answered a later range.
    if (request.currentRangeSignature() === request.rangeSignature) {
      entries.push([this.exactKey(request, material), framed.value]);
      this.remember(material, { at: startedAt, body });
    }
    try {
      await this.call(this.store.set(entries, this.ttl), budget);
      this.metrics.cacheOperations.inc({ operation: 'set', result: 'ok' });
      this.written.entries += entries.length;
      if (framed.compressed) this.written.compressed += entries.length;
      this.written.rawBytes += entries.length * framed.rawBytes;
      this.written.storedBytes += entries.length * framed.storedBytes;
    } catch {
      this.metrics.cacheOperations.inc({ operation: 'set', result: 'error' });
    }
    return body;
  }

  private async bypass(compute: () => Promise<unknown>): Promise<CacheAnswer> {
    this.metrics.cacheOperations.inc({ operation: 'get', result: 'bypass' });
    const value = await compute();
    // Text answers (CSV) are stored as they are, JSON answers as their JSON.
    const body = typeof value === 'string' ? value : JSON.stringify(value);
    return { body: typeof body === 'string' ? body : value, status: 'BYPASS' };
  }

  private served(result: 'hit' | 'stale', answer: CacheAnswer): CacheAnswer {
    this.count('hit');
    this.metrics.cacheOperations.inc({ operation: 'get', result });
    return answer;
  }

  private count(kind: 'hit' | 'miss'): void {
    if (kind === 'hit') this.counts.hits++;
    else {
      this.counts.misses++;
      this.metrics.cacheOperations.inc({ operation: 'get', result: 'miss' });
    }
    this.metrics.cacheHitRate.set(hitRate(this.counts.hits, this.counts.misses) ?? 0);
  }

  /** The in-process store is always there; Redis pauses briefly after a failure. */
  private storeAvailable(): boolean {
    return this.store.kind !== 'redis' || this.redis.available;
  }

  /** Every store call gives up after CACHE_OP_TIMEOUT_MS; failures are counted as errors. */
  private async call<T>(operation: Promise<T>, budget = new Budget(this.timeoutMs)): Promise<T> {
    try {
      return await budget.run(operation);
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  /** Accounts for a failed store call; Redis is paused for the other callers. */
  private failed(error: unknown): void {
    if (this.store.kind === 'redis') this.redis.reportFailure();
    this.metrics.cacheOperations.inc({ operation: 'store', result: 'error' });
    this.metrics.errors.inc({
      service: 'cache',
      type: /timed out/i.test((error as Error).message) ? 'timeout' : 'unavailable',
    });
  }

  /** A value never produced before by any process: version tokens must not repeat. */
  private token(): string {
    return `${Date.now().toString(36)}.${this.instance}.${(this.sequence++).toString(36)}`;
  }
}

/** The time a request may still spend waiting on the store. */
class Budget {
  constructor(private remainingMs: number) {}

  async run<T>(operation: Promise<T>): Promise<T> {
    if (this.remainingMs < 1) {
      operation.catch(() => undefined);
      throw new Error('cache time budget exhausted');
    }
    const started = Date.now();
    try {
      return await withTimeout(
        operation,
        this.remainingMs,
        `cache operation timed out after its budget`,
      );
    } finally {
      this.remainingMs -= Date.now() - started;
    }
  }
}

/** What the exact key is made of: route + representation + normalized query + resolved ranges + version tokens. */
const exactMaterial = (request: CacheRequest, versions: string[]): string =>
  `${request.route}\n${request.representation}\n${request.identity}\n${request.rangeSignature}\n${versions.join(',')}`;

const queryTag = (request: CacheRequest): string =>
  sha1(`${request.route}\n${request.representation}\n${request.identity}`);

const sha1 = (text: string): string => createHash('sha1').update(text).digest('base64url');

const ageOf = (at: number): number => Math.max(0, Math.floor((Date.now() - at) / 1000));

const hitRate = (hits: number, misses: number): number | null =>
  hits + misses ? hits / (hits + misses) : null;

/** Entries are `<computed-at ms>\n<json>`, or compressed (compression.ts); sent as stored, never re-serialized. */
const unframe = (value: string | Buffer): CachedAnswer | null => unframeAnswer(value);
