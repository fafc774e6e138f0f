/** Event names of the live stream (SPEC §13). `heartbeat` and `reset` are per connection. */
export const STREAM_EVENT_TYPES = ['ingest', 'top', 'alert', 'heartbeat', 'reset'] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];

/** Event types that travel through the cluster-wide log (and can be replayed). */
export const PUBLISHED_TYPES = ['ingest', 'top', 'alert'] as const;
export type PublishedType = (typeof PUBLISHED_TYPES)[number];

/** Topics a client subscribes to (`?topics=`) and the event type each one carries. */
export const TOPICS: Record<string, PublishedType> = {
  alerts: 'alert',
  alert: 'alert',
  ingest: 'ingest',
  top: 'top',
};

/** Types an old client may have too many of: dropped (oldest first) for a slow reader. */
export const DROPPABLE: ReadonlySet<StreamEventType> = new Set(['ingest', 'top']);

/** One event of the cluster-wide log: id as assigned by the log (`<ms>-<seq>`), JSON data. */
export interface LoggedEvent {
  id: string;
  type: PublishedType;
  data: string;
}

/** An event ready for the wire: the SSE frame is built once and shared by every connection. */
export interface Frame {
  id?: string;
  type: StreamEventType;
  text: string;
}

const ID = /^(\d{1,16})-(\d{1,16})$/;

export const isStreamId = (value: string): boolean => ID.test(value);

/** Orders two log ids (`<ms>-<seq>`) numerically; both must pass isStreamId. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** `id:`, `event:` and `data:` lines; data is one line of JSON, so no newline splitting needed. */
export function toFrame(type: StreamEventType, data: string, id?: string): Frame {
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return { id, type, text: `${idLine}event: ${type}\ndata: ${data}\n\n` };
}

export const frameOf = (event: LoggedEvent): Frame => toFrame(event.type, event.data, event.id);
