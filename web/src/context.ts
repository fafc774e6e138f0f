import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, Capabilities } from './lib/api';
import { Session } from './lib/session';
import { Topic } from './lib/stream-state';

export interface AppContextValue {
  session: Session;
  admin: boolean;
  capabilities: Capabilities;
  /** Live-update bus: the stream announces which data went stale. */
  live: EventTarget;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('AppContext missing');
  return value;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data for a view, again when `deps` change and when the stream marks `topic` stale
 * (coalesced: at most one refetch in flight, one queued).
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
  topic?: Topic,
  enabled = true,
): Loaded<T> {
  const { live } = useApp();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [loading, setLoading] = useState(enabled);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    setLoading(true);
    loadRef
      .current(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, version, enabled]);

  useEffect(() => {
    if (!topic) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stale = () => {
      // A burst of ingest events refetches once.
      if (timer === undefined)
        timer = setTimeout(() => {
          timer = undefined;
          setVersion((v) => v + 1);
        }, 300);
    };
    live.addEventListener(topic, stale);
    return () => {
      live.removeEventListener(topic, stale);
      clearTimeout(timer);
    };
  }, [topic, live]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, loading, reload };
}

/** The value after it has stopped changing for `ms` (text filters fetch once typing pauses). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
