import { Injectable } from '@nestjs/common';

export type Phase = 'starting' | 'ready' | 'stopping';

/** Where the process is in its life; readiness answers 503 unless `ready`. */
@Injectable()
export class LifecycleService {
  private current: Phase = 'starting';
  private startupError?: string;

  get phase(): Phase {
    return this.current;
  }

  get lastStartupError(): string | undefined {
    return this.startupError;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markStopping(): void {
    this.current = 'stopping';
  }

  recordStartupError(message: string): void {
    this.startupError = message;
  }
}
