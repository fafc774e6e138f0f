import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { AuthUser } from '../auth/roles';
import { AppConfig, hasRedis } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { ALERT_TRANSITION, AlertTransitionEvent } from '../alerts/alert-events';
import { OnAppEvent } from '../common/events';
import { INGEST_ACKNOWLEDGED, IngestedBatch } from '../trends/ingest-events';
import { SseConnection } from './sse-connection';
import { MemoryStreamBus, RedisStreamBus, StreamBus } from './stream-bus';
import { Frame, LoggedEvent, PublishedType, frameOf, isStreamId, toFrame } from './stream-event';
import { createStreamRedis } from './stream-redis';

export const TICKET_TTL_MS = 60_000;
/** How long a client that does not read gets to take the end of its stream at shutdown. */
const END_GRACE_MS = 250;
/** EventSource waits this long before reconnecting after the stream ends. */
const RETRY_MS = 3000;

export interface StreamTicket {
  ticket: string;
  expiresAt: string;
}

/** What one connection asked for. */
export interface StreamRequest {
  user: AuthUser;
  types: ReadonlySet<PublishedType>;
  /** From Last-Event-ID or `lastEventId`; replay after it, or `reset`. */
  lastEventId?: string;
}

/**
 * The live stream of this replica: publishes events to the cluster-wide log, fans the log out
 * to its own connections in memory, sends heartbeats, and ends every stream on shutdown.
 * `publish` is the public entry point for other modules (alerts wire `publish('alert', …)`).
 */
@Injectable()
export class StreamService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Stream');
  readonly bus: StreamBus;
  private readonly connections = new Set<SseConnection>();
  private reserved = 0;
  private stopping = false;
  private started = false;
  private heartbeatTimer?: NodeJS.Timeout;
  private publishFailing = false;
  /** The latest `top` event delivered while some client here watched `top`; sent to new ones. */
  private lastTop?: Frame;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.bus = hasRedis(config.redis)
      ? new RedisStreamBus(config.redis.keyPrefix, config.stream.retention, (blocking) =>
          createStreamRedis(config.redis, blocking),
        )
      : new MemoryStreamBus(config.stream.retention);
  }

  /** Not awaited: the ingest's 2xx waits for nothing here (the publish runs on its own). */
  // After the cache versions moved: dashboards refetch on this event.
  @OnAppEvent(INGEST_ACKNOWLEDGED, { suppressErrors: true })
  onIngest(batch: IngestedBatch): void {
    if (batch.accepted > 0) void this.publish('ingest', ingestPayload(batch));
  }

  /** Every alert transition (§12), after its transaction committed; publish never rejects. */
  @OnAppEvent(ALERT_TRANSITION, { suppressErrors: true })
  onAlertTransition(transition: AlertTransitionEvent): void {
    void this.publish('alert', transition);
  }

  /** Readers and heartbeats only where clients can connect (not in a CLI, which only publishes). */
  get serving(): boolean {
    return Boolean(this.adapterHost.httpAdapter);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.serving) return;
    await this.bus.start(
      (events) => this.fanOut(events),
      () => this.resetAll('the live stream was interrupted (Redis unreachable): refetch'),
    );
    this.started = true;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.stream.heartbeatS * 1000);
    this.heartbeatTimer.unref();
  }

  /** Ends every stream at once (never waits for clients), then stops the reader. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeatTimer);
    await Promise.all([...this.connections].map((c) => c.end(END_GRACE_MS)));
    await this.bus.stop();
  }

  /**
   * Appends an event to the cluster-wide log; every replica's clients get it. Never rejects:
   * resolves with the event id, or null when the log is unreachable (logged, counted).
   */
  async publish(type: PublishedType, data: unknown): Promise<string | null> {
    try {
      const id = await this.bus.publish(type, JSON.stringify(data));
      this.publishFailing = false;
      return id;
    } catch (error) {
      this.metrics.errors.inc({ service: 'stream', type: 'publish' });
      if (!this.publishFailing) {
        this.logger.warn(`stream publish failed: ${(error as Error).message}`);
      }
      this.publishFailing = true;
      return null;
    }
  }

  async issueTicket(user: AuthUser): Promise<StreamTicket> {
    const ticket = randomBytes(32).toString('base64url');
    await this.bus.putTicket(hashTicket(ticket), JSON.stringify(user), TICKET_TTL_MS);
    return { ticket, expiresAt: new Date(Date.now() + TICKET_TTL_MS).toISOString() };
  }

  /** The user a ticket was issued to; null when unknown, expired or already used. */
  async redeemTicket(ticket: string): Promise<AuthUser | null> {
    const value = await this.bus.takeTicket(hashTicket(ticket));
    return value === null ? null : (JSON.parse(value) as AuthUser);
  }

  /** Takes a connection slot if one is free on this replica (release() if the stream never opens). */
  tryReserve(): boolean {
    if (this.stopping || !this.started) return false;
    if (this.connections.size + this.reserved >= this.config.stream.maxConnections) return false;
    this.reserved++;
    return true;
  }

  release(): void {
    this.reserved--;
  }

  /** Whether any client of this replica subscribes to `type`. */
  watching(type: PublishedType): boolean {
    for (const connection of this.connections) if (connection.wants(type)) return true;
    return false;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Per-connection buffer figures (tests, diagnostics). */
  connectionStats(): Array<{ queued: number; socketBytes: number; dropped: number; sent: number }> {
    return [...this.connections].map((c) => ({
      queued: c.queued,
      socketBytes: c.socketBufferedBytes,
      dropped: c.droppedCount,
      sent: c.sentCount,
    }));
  }

  /** Takes over the reply (a reserved slot) and streams until the client or the server ends it. */
  async open(request: FastifyRequest, reply: FastifyReply, stream: StreamRequest): Promise<void> {
    this.reserved--;
    reply.hijack();
    const raw = reply.raw;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) headers[name] = String(value);
    }
    raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no', // nginx-style proxies must not buffer the stream
      'x-request-id': String(request.id),
    });
    raw.socket?.setNoDelay(true);
    const connection = new SseConnection(raw, stream.types, this.config.stream.clientBuffer, {
      sent: (type) => this.metrics.streamEvents.inc({ type }),
      dropped: (type) => this.metrics.streamEventsDropped.inc({ type }),
      closed: (c) => {
        if (this.connections.delete(c)) this.metrics.streamConnections.dec();
        // Unwatched, the top here is no longer kept current: do not hand out a stale one.
        if (c.wants('top') && !this.watching('top')) this.lastTop = undefined;
      },
    });
    if (raw.destroyed) return; // the client left while we were authenticating it
    this.connections.add(connection);
    this.metrics.streamConnections.inc();
    raw.write(`retry: ${RETRY_MS}\n: connected\n\n`);

    if (stream.lastEventId === undefined) {
      // A new dashboard starts with the current top (its original id: older than what follows).
      if (this.lastTop && connection.wants('top')) connection.send(this.lastTop);
      return;
    }
    // Live events queue up behind the replay; the tail taken now is where live delivery starts.
    connection.holdForReplay();
    const tail = this.bus.lastDeliveredId;
    let events: LoggedEvent[] | null = null;
    if (isStreamId(stream.lastEventId)) {
      try {
        events = await this.bus.replay(stream.lastEventId);
      } catch (error) {
        this.logger.warn(`stream replay failed: ${(error as Error).message}`);
      }
    }
    if (events === null) {
      await connection.write(
        resetFrame(tail, 'cannot resume after Last-Event-ID (not retained or unknown): refetch'),
      );
      connection.endReplay(tail);
      return;
    }
    for (const event of events) {
      if (connection.wants(event.type)) await connection.write(frameOf(event));
    }
    connection.endReplay(events.length ? events[events.length - 1].id : stream.lastEventId);
  }

  private fanOut(events: LoggedEvent[]): void {
    for (const event of events) {
      const frame = frameOf(event);
      if (event.type === 'top') this.lastTop = frame;
      for (const connection of this.connections) {
        if (connection.wants(event.type)) connection.send(frame);
      }
    }
  }

  private resetAll(reason: string): void {
    const frame = resetFrame(this.bus.lastDeliveredId, reason);
    for (const connection of this.connections) connection.send(frame);
  }

  private heartbeat(): void {
    const frame = toFrame('heartbeat', JSON.stringify({ at: new Date().toISOString() }));
    for (const connection of this.connections) connection.sendIfIdle(frame);
  }
}

const hashTicket = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

const resetFrame = (id: string, reason: string) => toFrame('reset', JSON.stringify({ reason }), id);

/** `ingest` event data: what a committed batch added, per platform and UTC day. */
export function ingestPayload(batch: IngestedBatch) {
  const byPlatform: Record<string, number> = {};
  const days = new Set<string>();
  for (const group of batch.groups) {
    if (group.accepted === 0) continue;
    byPlatform[group.platform] = (byPlatform[group.platform] ?? 0) + group.accepted;
    days.add(group.day);
  }
  return {
    accepted: batch.accepted,
    duplicates: batch.duplicates,
    byPlatform,
    days: [...days].sort(),
    at: new Date().toISOString(),
  };
}
