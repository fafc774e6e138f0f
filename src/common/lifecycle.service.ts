import { Injectable } from '@nestjs/common';

export type Phase = 'starting' | 'ready' | 'stopping';

/** Where the process is in its life; readiness answers 503 unless `ready`. */
@Injectable()
export class LifecycleService {
  private current: Phase = 'starting';
  private readonly stoppingListeners: (() => void)[] = [];

  get phase(): Phase {
    return this.current;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markStopping(): void {
    if (this.current === 'stopping') return;
    this.current = 'stopping';
    for (const listener of this.stoppingListeners) listener();
  }

  /** Called once when a signal starts the shutdown, before the drain delay and app.close(). */
  onStopping(listener: () => void): void {
    this.stoppingListeners.push(listener);
  }
}
