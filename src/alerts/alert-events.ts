import { Injectable, Logger } from '@nestjs/common';

export type AlertState = 'normal' | 'pending' | 'firing' | 'recovering';

/** One state transition of one rule × series, as committed (SPEC §12, §13 `alert` events). */
export interface AlertTransitionEvent {
  ruleId: string;
  ruleName: string;
  severity: string;
  /** The new state. */
  state: AlertState;
  previousState: AlertState;
  trendKey: string;
  platform: string | null;
  region: string | null;
  value: number | null;
  threshold: number;
  /** When the series entered its new state's episode (ISO). */
  since: string;
  /** Evaluation time of the transition (ISO). */
  at: string;
}

type Listener = (event: AlertTransitionEvent) => Promise<void> | void;

/**
 * Lets other modules (the live stream) follow alert transitions without the alerts module
 * knowing them. Emitted after the transaction that recorded the transitions commits; a
 * failing listener is logged and never undoes or blocks evaluation.
 */
@Injectable()
export class AlertEvents {
  private readonly logger = new Logger(AlertEvents.name);
  private readonly listeners: Listener[] = [];

  onTransition(listener: Listener): void {
    this.listeners.push(listener);
  }

  async emitTransition(event: AlertTransitionEvent): Promise<void> {
    await Promise.all(
      this.listeners.map(async (listener) => {
        try {
          await listener(event);
        } catch (error) {
          this.logger.warn(`alert transition listener failed: ${(error as Error).message}`);
        }
      }),
    );
  }
}
