import { Injectable } from '@nestjs/common';

export type Phase = 'starting' | 'ready' | 'stopping';

/** Where the process is in its life; readiness answers 503 unless `ready`. */
@Injectable()
export class LifecycleService {
  private current: Phase = 'starting';
  private readonly stoppingController = new AbortController();

  get phase(): Phase {
    return this.current;
  }

  /**
   * Aborted when shutdown begins (SIGTERM/SIGINT). Long-lived responses (SSE streams, hijacked
   * replies, long polls) listen to it and end themselves, so they never hold up the exit:
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
  }

  /** Called once when a signal starts the shutdown, before the drain delay and app.close(). */
  onStopping(listener: () => void): void {
    this.stopping.addEventListener('abort', listener, { once: true });
  }
}
