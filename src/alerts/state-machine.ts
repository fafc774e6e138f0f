import { AlertState } from './alert-events';

/** What the state machine needs to know about a series (absent row = normal). */
export interface SeriesState {
  state: Exclude<AlertState, 'normal'>;
  /** When the current state began. */
  since: Date;
  /** When the condition became true for this episode (start of pending/firing). */
  activeAt: Date;
}

export interface Timing {
  forMs: number;
  keepFiringForMs: number;
}

export interface Step {
  next: AlertState;
  since: Date;
  activeAt: Date;
}

/**
 * One evaluation of one series at time t, as Prometheus/Grafana do it:
 * normal → pending (condition true, `for` > 0) → firing (held for `for`; `for` 0 goes straight
 * to firing) → recovering (condition false, within `keepFiringFor` of the first false
 * evaluation) → normal; recovering → firing when the condition returns; pending → normal when
 * it fails before `for` has passed.
 */
export function step(
  current: SeriesState | undefined,
  condition: boolean,
  t: Date,
  timing: Timing,
): Step {
  const at = (next: AlertState, since: Date, activeAt: Date): Step => ({ next, since, activeAt });
  if (!current) {
    if (!condition) return at('normal', t, t);
    return timing.forMs > 0 ? at('pending', t, t) : at('firing', t, t);
  }
  switch (current.state) {
    case 'pending':
      if (!condition) return at('normal', t, t);
      return t.getTime() - current.activeAt.getTime() >= timing.forMs
        ? at('firing', t, current.activeAt)
        : at('pending', current.since, current.activeAt);
    case 'firing':
      if (condition) return at('firing', current.since, current.activeAt);
      return timing.keepFiringForMs > 0
        ? at('recovering', t, current.activeAt)
        : at('normal', t, current.activeAt);
    case 'recovering':
      if (condition) return at('firing', t, current.activeAt);
      return t.getTime() - current.since.getTime() >= timing.keepFiringForMs
        ? at('normal', t, current.activeAt)
        : at('recovering', current.since, current.activeAt);
  }
}

/** Notification a transition calls for (before silences and quiet hours are applied). */
export function notificationFor(
  previous: AlertState,
  next: AlertState,
): 'alert.firing' | 'alert.resolved' | undefined {
  if (next === 'firing' && (previous === 'normal' || previous === 'pending')) return 'alert.firing';
  if (next === 'normal' && (previous === 'firing' || previous === 'recovering'))
    return 'alert.resolved';
  return undefined;
}
