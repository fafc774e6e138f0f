import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoggedEvent, PUBLISHED_TYPES, PublishedType, compareIds } from './stream-event';

/** Receives every event of the log once per replica, in id order. */
export type EventSink = (events: LoggedEvent[]) => void;

/**
 * The cluster-wide event log behind the live stream: ids that increase across replicas,
 * retention for replay, and the small shared state (interval claims, tickets, last `top`).
 * Redis Streams when Redis is configured; one process's memory otherwise.
 */
export interface StreamBus {
  readonly kind: 'redis' | 'memory';
  /** Starts delivering new events to `sink`; `onGap` when events may have been missed (outage). */
  start(sink: EventSink, onGap: () => void): Promise<void>;
  stop(): Promise<void>;
  /** Appends an event; resolves with its id. */
  publish(type: PublishedType, data: string): Promise<string>;
  /** Appends unless the last event published under `digest`'s name had this digest. */
  publishIfChanged(type: PublishedType, data: string, digest: string): Promise<string | null>;
  /** True for exactly one caller per `name` in the cluster until `ttlMs` passes. */
  claim(name: string, ttlMs: number): Promise<boolean>;
  /** Events after `afterId`, or null when some of them are no longer retained (send `reset`). */
  replay(afterId: string): Promise<LoggedEvent[] | null>;
  /** The id of the last event this replica has delivered (`0-0` before the first). */
  readonly lastDeliveredId: string;
  putTicket(hash: string, value: string, ttlMs: number): Promise<void>;
  /** Returns and deletes a ticket: a second take of the same ticket gets null. */
  takeTicket(hash: string): Promise<string | null>;
}

const isPublishedType = (value: string): value is PublishedType =>
  (PUBLISHED_TYPES as readonly string[]).includes(value);

/** In one process: a ring of the last `retention` events. Single replica only. */
export class MemoryStreamBus implements StreamBus {
  readonly kind = 'memory' as const;
  private log: LoggedEvent[] = [];
  private lastMs = 0;
  private seq = 0;
  private maxDeletedId = '0-0';
  private sink: EventSink = () => undefined;
  private pending: LoggedEvent[] = [];
  private readonly claims = new Map<string, number>();
  private readonly tickets = new Map<string, { value: string; expiresAt: number }>();
  private readonly digests = new Map<string, string>();
  lastDeliveredId = '0-0';

  constructor(private readonly retention: number) {}

  start(sink: EventSink): Promise<void> {
    this.sink = sink;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.sink = () => undefined;
    return Promise.resolve();
  }

  publish(type: PublishedType, data: string): Promise<string> {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq++;
    }
    const event = { id: `${this.lastMs}-${this.seq}`, type, data };
    this.log.push(event);
    if (this.log.length > this.retention) {
      const removed = this.log.splice(0, this.log.length - this.retention);
      this.maxDeletedId = removed[removed.length - 1].id;
    }
    // Delivered on the next turn, as a Redis reader would, so a publisher never waits on fan-out.
    if (this.pending.push(event) === 1) setImmediate(() => this.deliver());
    return Promise.resolve(event.id);
  }

  async publishIfChanged(
    type: PublishedType,
    data: string,
    digest: string,
  ): Promise<string | null> {
    if (this.digests.get(type) === digest) return null;
    this.digests.set(type, digest);
    return this.publish(type, data);
  }

  claim(name: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [key, until] of this.claims) if (until <= now) this.claims.delete(key);
    if (this.claims.has(name)) return Promise.resolve(false);
    this.claims.set(name, now + ttlMs);
    return Promise.resolve(true);
  }

  replay(afterId: string): Promise<LoggedEvent[] | null> {
    const lastId = this.log.length ? this.log[this.log.length - 1].id : this.maxDeletedId;
    if (compareIds(afterId, this.maxDeletedId) < 0 || compareIds(afterId, lastId) > 0) {
      return Promise.resolve(null);
    }
    return Promise.resolve(this.log.filter((e) => compareIds(e.id, afterId) > 0));
  }

  putTicket(hash: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const [key, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(key);
    this.tickets.set(hash, { value, expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  takeTicket(hash: string): Promise<string | null> {
    const ticket = this.tickets.get(hash);
    this.tickets.delete(hash);
    return Promise.resolve(ticket && ticket.expiresAt > Date.now() ? ticket.value : null);
  }

  private deliver(): void {
    const events = this.pending;
    this.pending = [];
    this.lastDeliveredId = events[events.length - 1].id;
    this.sink(events);
  }
}

/** XADD with approximate trimming; the stream key is refreshed so an idle deployment's log expires. */
const PUBLISH_LUA = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return id`;

/** As PUBLISH_LUA, unless KEYS[2] holds the same digest (the last `top` sent by any replica). */
const PUBLISH_IF_CHANGED_LUA = `
if redis.call('GET', KEYS[2]) == ARGV[5] then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[4])
return id`;

/** An idle log (nothing published for this long) expires; a resuming client then gets `reset`. */
const LOG_TTL_MS = 7 * 24 * 3600_000;
const READ_BLOCK_MS = 5000;
const READ_COUNT = 1000;
const RETRY_PAUSE_MS = 500;

type StreamEntry = [id: string, fields: string[]];

interface BusRedis extends Redis {
  streamPublish(key: string, ...args: Array<string | number>): Promise<string>;
  streamPublishIfChanged(
    stream: string,
    digestKey: string,
    ...args: Array<string | number>
  ): Promise<string | null>;
}

/**
 * A Redis Stream under REDIS_KEY_PREFIX: XADD assigns ids that increase across the cluster, MAXLEN ~
 * keeps about `retention` events. Each replica reads the stream once with a blocking XREAD on its
 * own connection (a blocked connection can serve nothing else) and fans out in memory.
 */
export class RedisStreamBus implements StreamBus {
  readonly kind = 'redis' as const;
  private readonly logger = new Logger('StreamBus');
  private readonly commands: BusRedis;
  private reader?: Redis;
  private stopped = false;
  private loop?: Promise<void>;
  private readFailing = false;
  /** False until the reader knows where the log ends (Redis may be down at start). */
  private positioned = false;
  lastDeliveredId = '0-0';

  constructor(
    private readonly prefix: string,
    private readonly retention: number,
    private readonly createClient: (blocking: boolean) => Redis,
  ) {
    this.commands = createClient(false) as BusRedis;
    this.commands.defineCommand('streamPublish', { numberOfKeys: 1, lua: PUBLISH_LUA });
    this.commands.defineCommand('streamPublishIfChanged', {
      numberOfKeys: 2,
      lua: PUBLISH_IF_CHANGED_LUA,
    });
  }

  private get key(): string {
    return `${this.prefix}{stream}:events`;
  }

  /** Not called in a CLI context: it only publishes. */
  async start(sink: EventSink, onGap: () => void): Promise<void> {
    this.reader = this.createClient(true);
    // A moment for both connections, so the reader starts at the end of the log; never longer.
    await Promise.all([whenReady(this.commands), whenReady(this.reader)]);
    try {
      this.lastDeliveredId = (await this.info()).lastGenerated;
      this.positioned = true;
    } catch {
      // Redis not there yet: the loop finds the end of the log once it connects.
    }
    this.loop = this.readLoop(this.reader, sink, onGap);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A blocked XREAD only ends with its connection.
    this.reader?.disconnect();
    await this.loop;
    try {
      await this.commands.quit();
    } catch {
      this.commands.disconnect();
    }
  }

  publish(type: PublishedType, data: string): Promise<string> {
    return this.commands.streamPublish(this.key, this.retention, type, data, LOG_TTL_MS);
  }

  publishIfChanged(type: PublishedType, data: string, digest: string): Promise<string | null> {
    return this.commands.streamPublishIfChanged(
      this.key,
      `${this.prefix}{stream}:last:${type}`,
      this.retention,
      type,
      data,
      LOG_TTL_MS,
      digest,
    );
  }

  async claim(name: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.commands.set(`${this.prefix}stream:claim:${name}`, '1', 'PX', ttlMs, 'NX')) ===
      'OK'
    );
  }

  async replay(afterId: string): Promise<LoggedEvent[] | null> {
    // One transaction, so no trim can fall between the retention check and the read.
    const results = (await this.commands
      .multi()
      .xinfo('STREAM', this.key)
      .xrange(this.key, `(${afterId}`, '+')
      .exec()) as Array<[Error | null, unknown]> | null;
    if (!results) throw new Error('replay transaction aborted');
    const [[infoError, info], [rangeError, range]] = results;
    if (rangeError) throw rangeError;
    let bounds = EMPTY_LOG;
    if (infoError) {
      if (!/no such key/i.test(infoError.message)) throw infoError;
    } else {
      bounds = parseInfo(info as unknown[]);
    }
    return canReplay(afterId, bounds) ? parseEntries(range as StreamEntry[]) : null;
  }

  async putTicket(hash: string, value: string, ttlMs: number): Promise<void> {
    await this.commands.set(`${this.prefix}stream:ticket:${hash}`, value, 'PX', ttlMs);
  }

  takeTicket(hash: string): Promise<string | null> {
    return this.commands.getdel(`${this.prefix}stream:ticket:${hash}`);
  }

  private async info(): Promise<LogBounds> {
    try {
      return parseInfo((await this.commands.xinfo('STREAM', this.key)) as unknown[]);
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return EMPTY_LOG;
      throw error;
    }
  }

  private async readLoop(reader: Redis, sink: EventSink, onGap: () => void): Promise<void> {
    let checkGap = false;
    while (!this.stopped) {
      try {
        if (!this.positioned) {
          this.lastDeliveredId = (await this.info()).lastGenerated;
          this.positioned = true;
        } else if (checkGap) {
          // Back after an outage: publishes may have failed meanwhile (or the log was trimmed or
          // lost), so clients are told to refetch and delivery resumes at the end of the log.
          this.lastDeliveredId = (await this.info()).lastGenerated;
          onGap();
        }
        checkGap = false;
        const reply = (await reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          this.key,
          this.lastDeliveredId,
        )) as Array<[string, StreamEntry[]]> | null;
        if (this.readFailing) this.logger.log('stream reader reconnected');
        this.readFailing = false;
        if (!reply || reply.length === 0) continue;
        const events = parseEntries(reply[0][1]);
        if (events.length === 0) continue;
        this.lastDeliveredId = events[events.length - 1].id;
        sink(events);
      } catch (error) {
        if (this.stopped) break;
        if (!this.readFailing) {
          this.logger.warn(`stream reader: ${(error as Error).message}; retrying`);
        }
        this.readFailing = true;
        checkGap = true;
        await sleep(RETRY_PAUSE_MS);
      }
    }
  }
}

function whenReady(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    }
    client.once('ready', done);
  });
}

interface LogBounds {
  lastGenerated: string;
  /** Oldest retained id; null when the log is empty. */
  firstId: string | null;
  /** Whether any event was ever removed (trimmed) from the log. */
  trimmed: boolean;
}

const EMPTY_LOG: LogBounds = { lastGenerated: '0-0', firstId: null, trimmed: false };

/**
 * XINFO STREAM's answer. Trimming does not move max-deleted-entry-id (only XDEL does), so
 * "events after X are all retained" is decided from the first retained id and entries-added.
 */
function parseInfo(info: unknown[]): LogBounds {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
  const firstEntry = fields.get('first-entry') as [string, unknown] | null | undefined;
  const length = Number(fields.get('length') ?? 0);
  const added = Number(fields.get('entries-added') ?? length);
  return {
    lastGenerated: String(fields.get('last-generated-id') ?? '0-0'),
    firstId: firstEntry ? String(firstEntry[0]) : null,
    trimmed: added > length,
  };
}

/**
 * True when every event after `afterId` is still in the log. Conservative at the edge: a client
 * whose last event was exactly the last one trimmed gets a reset it could have done without.
 */
export function canReplay(afterId: string, bounds: LogBounds): boolean {
  if (compareIds(afterId, bounds.lastGenerated) > 0) return false; // from another log (flushed?)
  if (!bounds.trimmed) return true;
  return bounds.firstId !== null && compareIds(afterId, bounds.firstId) >= 0;
}

function parseEntries(entries: StreamEntry[]): LoggedEvent[] {
  const events: LoggedEvent[] = [];
  for (const [id, fields] of entries) {
    const values = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
    const type = values.get('type') ?? '';
    const data = values.get('data');
    if (isPublishedType(type) && data !== undefined) events.push({ id, type, data });
  }
  return events;
}
