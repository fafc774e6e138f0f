import { api } from './api';
import {
  HEARTBEAT_TIMEOUT_MS,
  StreamInput,
  StreamState,
  initialStreamState,
  nextStreamState,
  reconnectDelayMs,
  topicsForEvent,
  Topic,
} from './stream-state';

const EVENTS = ['ingest', 'top', 'alert', 'heartbeat', 'reset'] as const;

/**
 * Keeps one EventSource on GET /api/v1/stream (SPEC §13). EventSource cannot send the bearer
 * token, so each (re)connection first takes a single-use ticket; its own automatic retry
 * would reuse a spent ticket, so errors close it and reconnect here with a fresh one,
 * resuming after the last event id. Returns a function that stops everything.
 */
export function startStream(
  available: boolean,
  onState: (state: StreamState) => void,
  onTopic: (topic: Topic) => void,
): () => void {
  let state = initialStreamState;
  let source: EventSource | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const apply = (input: StreamInput) => {
    state = nextStreamState(state, input);
    onState(state);
  };

  if (!available) {
    apply({ type: 'unavailable', detail: 'this server has no /api/v1/stream' });
    return () => undefined;
  }

  const close = () => {
    source?.close();
    source = null;
    clearTimeout(watchdog);
  };

  const scheduleReconnect = (detail: string) => {
    close();
    if (stopped) return;
    apply({ type: 'error', detail });
    const delay = reconnectDelayMs(state.failures) * (0.8 + Math.random() * 0.4);
    retryTimer = setTimeout(() => void connect(), delay);
  };

  const armWatchdog = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => scheduleReconnect('no heartbeat'), HEARTBEAT_TIMEOUT_MS);
  };

  const connect = async () => {
    if (stopped) return;
    apply({ type: 'connect' });
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>('/api/v1/stream/tickets', { method: 'POST' })).ticket;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 404) {
        apply({ type: 'unavailable', detail: 'the stream API answers 404' });
        return;
      }
      if (status === 401 || status === 403) {
        apply({ type: 'unavailable', detail: 'not allowed for this token' });
        return;
      }
      scheduleReconnect((error as Error).message);
      return;
    }
    if (stopped) return;
    const params = new URLSearchParams({ topics: 'alerts,ingest,top', ticket });
    if (state.lastEventId) params.set('lastEventId', state.lastEventId);
    const es = new EventSource(`/api/v1/stream?${params.toString()}`);
    source = es;
    es.onopen = () => {
      apply({ type: 'open' });
      armWatchdog();
    };
    es.onerror = () => scheduleReconnect('connection lost');
    for (const name of EVENTS) {
      es.addEventListener(name, (event) => {
        const message = event as MessageEvent<string>;
        apply({ type: 'event', id: message.lastEventId || undefined, at: Date.now() });
        armWatchdog();
        for (const topic of topicsForEvent(name)) onTopic(topic);
      });
    }
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    close();
    apply({ type: 'stop' });
  };
}
