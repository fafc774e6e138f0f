/**
 * Connection state of the live stream (SPEC §13), kept apart from EventSource so the rules
 * are unit-tested: what the badge says, when to reconnect, and what an event asks the views
 * to refetch.
 */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'unavailable' | 'offline';

export interface StreamState {
  status: StreamStatus;
  /** Consecutive failed attempts, for the backoff. */
  failures: number;
  lastEventId?: string;
  lastEventAt?: number;
  detail?: string;
}

export type StreamInput =
  | { type: 'connect' }
  | { type: 'open' }
  | { type: 'event'; id?: string; at: number }
  | { type: 'error'; detail?: string }
  | { type: 'unavailable'; detail: string }
  | { type: 'stop' };

export const initialStreamState: StreamState = { status: 'connecting', failures: 0 };

export function nextStreamState(state: StreamState, input: StreamInput): StreamState {
  switch (input.type) {
    case 'connect':
      return {
        ...state,
        status: state.failures > 0 ? 'reconnecting' : 'connecting',
        detail: undefined,
      };
    case 'open':
      return { ...state, status: 'live', failures: 0, detail: undefined };
    case 'event':
      return {
        ...state,
        status: 'live',
        failures: 0,
        lastEventAt: input.at,
        lastEventId: input.id ?? state.lastEventId,
      };
    case 'error':
      return {
        ...state,
        status: 'reconnecting',
        failures: state.failures + 1,
        detail: input.detail,
      };
    case 'unavailable':
      return { ...state, status: 'unavailable', detail: input.detail };
    case 'stop':
      return { ...state, status: 'offline' };
  }
}

/** Exponential backoff with a cap: 1 s, 2 s, 4 s … 30 s (jitter added by the caller). */
export function reconnectDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}

/** Heartbeats come every 15 s; silence for longer than this means a dead connection. */
export const HEARTBEAT_TIMEOUT_MS = 45_000;

export const STATUS_LABEL: Record<StreamStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Live updates not available',
  offline: 'Offline',
};

/** Which data an event makes stale; views refetch what they show. */
export type Topic = 'trends' | 'alerts';

export function topicsForEvent(event: string): Topic[] {
  switch (event) {
    case 'ingest':
    case 'top':
      return ['trends'];
    case 'alert':
      return ['alerts'];
    case 'reset':
      return ['trends', 'alerts'];
    default:
      return [];
  }
}
