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

/**
 * One committed transition, for other modules (the live stream) that the alerts module does
 * not know. Emitted after the transaction that recorded it commits; a failing listener is
 * logged (`suppressErrors: true`) and never undoes or blocks evaluation.
 */
export const ALERT_TRANSITION = 'alert.transition';

declare module '../common/events' {
  interface AppEvents {
    [ALERT_TRANSITION]: AlertTransitionEvent;
  }
}
