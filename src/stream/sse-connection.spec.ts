import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { SseConnection } from './sse-connection';
import { PublishedType, StreamEventType, toFrame } from './stream-event';

/** A socket stand-in whose writes complete only when the test says so (a client not reading). */
function stuckSocket(highWaterMark = 64) {
  const pending: Array<() => void> = [];
  const written: string[] = [];
  const raw = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      pending.push(() => callback());
    },
  });
  const release = async () => {
    while (pending.length) {
      (pending.shift() as () => void)();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { raw: raw as unknown as ServerResponse, written, release };
}

function connection(raw: ServerResponse, bound: number) {
  const dropped: StreamEventType[] = [];
  let closed = 0;
  const types = new Set<PublishedType>(['ingest', 'top', 'alert']);
  const c = new SseConnection(raw, types, bound, {
    sent: () => undefined,
    dropped: (type) => dropped.push(type),
    closed: () => closed++,
  });
  return { c, dropped, closedCount: () => closed };
}

const frame = (type: PublishedType, n: number) => toFrame(type, JSON.stringify({ n }), `1-${n}`);
const ids = (written: string[]) => written.map((text) => /^id: (\S+)/.exec(text)?.[1]);

describe('SseConnection', () => {
  it('writes straight through while the socket keeps up', async () => {
    const { raw, written, release } = stuckSocket(1 << 20);
    const { c, dropped } = connection(raw, 4);
    for (let n = 0; n < 10; n++) c.send(frame('ingest', n));
    await release();
    expect(ids(written)).toEqual(Array.from({ length: 10 }, (_, n) => `1-${n}`));
    expect(c.queued).toBe(0);
    expect(dropped).toEqual([]);
  });

  it('keeps at most `bound` events for a stuck client, dropping the oldest ingest/top, never alerts', async () => {
    const { raw, written, release } = stuckSocket(64);
    const { c, dropped } = connection(raw, 5);
    let maxQueued = 0;
    const alerts = [3, 10, 17];
    for (let n = 0; n < 20; n++) {
      c.send(frame(alerts.includes(n) ? 'alert' : n % 2 ? 'top' : 'ingest', n));
      maxQueued = Math.max(maxQueued, c.queued);
    }
    expect(maxQueued).toBe(5);
    expect(c.droppedCount).toBe(dropped.length);
    expect(dropped.every((t) => t === 'ingest' || t === 'top')).toBe(true);
    await release();
    await release();
    const delivered = ids(written);
    // every alert arrives, everything that arrives is in order, and nothing is lost unaccounted
    for (const n of alerts) expect(delivered).toContain(`1-${n}`);
    const numbers = delivered.map((id) => Number(id?.split('-')[1]));
    expect([...numbers].sort((x, y) => x - y)).toEqual(numbers);
    expect(delivered.length + dropped.length).toBe(20);
    // the newest events survived; the oldest droppable ones went first
    expect(delivered).toContain('1-19');
  });

  it('cuts off a client that lets too many alerts pile up (it resumes with Last-Event-ID)', () => {
    const { raw } = stuckSocket(16);
    const { c, closedCount } = connection(raw, 2);
    for (let n = 0; n < 20; n++) c.send(frame('alert', n));
    expect(c.droppedCount).toBe(0);
    expect(raw.destroyed).toBe(true);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(closedCount()).toBe(1);
        expect(c.closed).toBe(true);
        resolve();
      }),
    );
  });

  it('after a replay skips queued live events it already covered', async () => {
    const { raw, written, release } = stuckSocket(1 << 20);
    const { c } = connection(raw, 10);
    c.holdForReplay();
    for (const n of [4, 5, 6]) c.send(frame('ingest', n)); // live, arrived during the replay
    for (const n of [3, 4, 5]) await c.write(frame('ingest', n)); // the replay
    c.endReplay('1-5');
    await release();
    expect(ids(written)).toEqual(['1-3', '1-4', '1-5', '1-6']);
  });
});
