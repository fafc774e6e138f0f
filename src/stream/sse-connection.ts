import type { ServerResponse } from 'node:http';
import { DROPPABLE, Frame, PublishedType, StreamEventType, compareIds } from './stream-event';

export interface ConnectionHooks {
  /** An event was written to the socket. */
  sent(type: StreamEventType): void;
  /** An event was dropped for this slow client. */
  dropped(type: StreamEventType): void;
  /** The connection is gone (client left, server ended it): forget it. */
  closed(connection: SseConnection): void;
}

/** Past `bound` × this many undroppable (alert) events, a client is cut off and must resume. */
const HARD_LIMIT_FACTOR = 4;

/**
 * One client's stream on a raw Node response. Writes go straight to the socket while it keeps
 * up; once the socket's buffer is full (write() returns false) events wait in a queue of at most
 * `bound` events, where the oldest ingest/top events make room and are counted as dropped.
 * Alerts are never dropped: a client that lets too many of them pile up is disconnected and
 * replays them with Last-Event-ID on its reconnect.
 */
export class SseConnection {
  private readonly queue: Frame[] = [];
  private blocked = false;
  private replaying = false;
  private closedFlag = false;
  /** end() was called: nothing more is written. */
  private ending = false;
  droppedCount = 0;
  sentCount = 0;

  constructor(
    readonly raw: ServerResponse,
    readonly types: ReadonlySet<PublishedType>,
    private readonly bound: number,
    private readonly hooks: ConnectionHooks,
  ) {
    raw.on('close', () => this.onClose());
    raw.on('drain', () => this.flush());
    // A client that vanishes mid-write (EPIPE, reset) must not become an unhandled 'error'.
    raw.on('error', () => raw.destroy());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Events waiting in this connection's queue (not yet handed to the socket). */
  get queued(): number {
    return this.queue.length;
  }

  /** Bytes the socket layer holds for this connection beyond what the kernel took. */
  get socketBufferedBytes(): number {
    return this.raw.writableLength;
  }

  wants(type: PublishedType): boolean {
    return this.types.has(type);
  }

  /** Live events wait (bounded) while replayed events are written by `write`. */
  holdForReplay(): void {
    this.replaying = true;
  }

  /** Ends replay: queued live events already covered by it (id <= `lastId`) are skipped. */
  endReplay(lastId?: string): void {
    if (lastId !== undefined) {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const id = this.queue[i].id;
        if (id !== undefined && compareIds(id, lastId) <= 0) this.queue.splice(i, 1);
      }
    }
    this.replaying = false;
    this.flush();
  }

  /** Queues or writes an event. */
  send(frame: Frame): void {
    if (this.closedFlag || this.ending) return;
    if (!this.blocked && !this.replaying && this.queue.length === 0) {
      this.writeNow(frame);
      return;
    }
    this.queue.push(frame);
    if (this.queue.length > this.bound) this.makeRoom();
  }

  /** Written only if the socket keeps up (heartbeats to a stuck client are pointless). */
  sendIfIdle(frame: Frame): void {
    if (this.closedFlag || this.ending) return;
    if (!this.blocked && !this.replaying && this.queue.length === 0) {
      this.writeNow(frame);
    }
  }

  /** Writes in order and waits for the socket: for replay, which must not be dropped. */
  async write(frame: Frame): Promise<void> {
    if (this.closedFlag || this.ending) return;
    this.hooks.sent(frame.type);
    this.sentCount++;
    if (this.raw.write(frame.text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        resolve();
      };
      this.raw.on('drain', done);
      this.raw.on('close', done);
    });
  }

  /** Ends the response; a client whose socket will not drain is cut after `graceMs`. */
  end(graceMs: number): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    this.ending = true;
    this.queue.length = 0;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.raw.destroy(), graceMs);
      this.raw.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.raw.end();
    });
  }

  private writeNow(frame: Frame): void {
    this.hooks.sent(frame.type);
    this.sentCount++;
    if (!this.raw.write(frame.text)) this.blocked = true;
  }

  private flush(): void {
    if (this.closedFlag || this.ending || this.replaying) return;
    this.blocked = false;
    while (this.queue.length > 0 && !this.blocked) {
      this.writeNow(this.queue.shift() as Frame);
    }
  }

  private makeRoom(): void {
    const index = this.queue.findIndex((frame) => DROPPABLE.has(frame.type));
    if (index >= 0) {
      const [frame] = this.queue.splice(index, 1);
      this.droppedCount++;
      this.hooks.dropped(frame.type);
      return;
    }
    if (this.queue.length > this.bound * HARD_LIMIT_FACTOR) this.raw.destroy();
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.queue.length = 0;
    this.hooks.closed(this);
  }
}
