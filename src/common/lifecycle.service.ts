import { Injectable, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { emitEvent } from './events';

export type Phase = 'starting' | 'ready' | 'stopping';

/**
 * A signal started the shutdown, before the drain delay and app.close(): providers stop
 * background work (pg tools) while the pools are still open. Listeners must not block.
 */
export const LIFECYCLE_STOPPING = 'lifecycle.stopping';

declare module './events' {
  interface AppEvents {
    [LIFECYCLE_STOPPING]: undefined;
  }
}

/** Where the process is in its life; readiness answers 503 unless `ready`. */
@Injectable()
export class LifecycleService {
  private current: Phase = 'starting';
  private readonly stoppingController = new AbortController();

  constructor(@Optional() private readonly events?: EventEmitter2) {}

  get phase(): Phase {
    return this.current;
  }

  /**
   * Aborted when shutdown begins (SIGTERM/SIGINT). Long-lived responses (SSE streams, hijacked
   * replies, long polls) listen to it and end themselves, so they never hold up the exit (a
   * per-response signal rather than the event bus: each listener goes with its response):
   * `lifecycle.stopping.addEventListener('abort', () => stream.end(), { once: true })`.
   */
  get stopping(): AbortSignal {
    return this.stoppingController.signal;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markStopping(): void {
    if (this.current === 'stopping') return;
    this.current = 'stopping';
    if (!this.stoppingController.signal.aborted) this.stoppingController.abort();
    if (this.events) emitEvent(this.events, LIFECYCLE_STOPPING, undefined);
  }
}
