/** Calls the service's API with the signed-in user's token. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
    readonly body?: unknown,
  ) {
    super(message);
  }
}

type UnauthorizedHandler = () => void;
let token: string | null = null;
let onUnauthorized: UnauthorizedHandler = () => undefined;

export function setApiToken(value: string | null, unauthorized?: UnauthorizedHandler): void {
  token = value;
  if (unauthorized) onUnauthorized = unauthorized;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; query?: Query; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(withQuery(path, init.query), {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
    credentials: 'omit',
  });
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'Signed out: the token was refused.');
  }
  if (!response.ok) {
    const error = (body ?? {}) as {
      message?: unknown;
      errors?: { field: string; message: string }[];
    };
    const message = Array.isArray(error.message)
      ? error.message.join('; ')
      : typeof error.message === 'string'
        ? error.message
        : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, error.errors ?? [], body);
  }
  return body as T;
}

/** Lists come as `{items}`; a few older answers are bare arrays. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  const items = (body as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

/**
 * Which optional APIs this server has, read from its OpenAPI document, so the dashboard can
 * say "not available" without calling a missing route (the alerts and stream modules may be
 * absent from a deployment or an older version).
 */
export interface Capabilities {
  alerts: boolean;
  stream: boolean;
}

export async function loadCapabilities(): Promise<Capabilities> {
  try {
    const doc = await api<{ paths?: Record<string, unknown> }>('/api/docs-json');
    const paths = Object.keys(doc.paths ?? {});
    return {
      alerts: paths.some((p) => p.startsWith('/api/v1/alerts')),
      stream: paths.some((p) => p.startsWith('/api/v1/stream')),
    };
  } catch {
    // No document: try the features and report what fails.
    return { alerts: true, stream: true };
  }
}
