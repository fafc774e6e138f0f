import { ClientRequest, IncomingMessage, request } from 'node:http';

/** One parsed Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal EventSource-like client on node:http (headers allowed, no automatic reconnect), so
 * tests can pause reading, watch every frame and see non-200 answers.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  body = '';
  ended = false;
  private buffer = '';
  private waiters: Array<() => void> = [];

  private constructor(
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (res.statusCode !== 200) {
        this.body += chunk;
        return;
      }
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.parse(block);
      }
      this.notify();
    });
    const finish = () => {
      this.ended = true;
      this.notify();
    };
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, {
        headers: { accept: 'text/event-stream', ...headers },
        agent: false,
      });
      req.on('response', (res) => resolve(new SseClient(req, res)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** The JSON error body of a non-200 answer. */
  async json(): Promise<Record<string, unknown>> {
    await this.until(() => this.ended, 10_000);
    return JSON.parse(this.body) as Record<string, unknown>;
  }

  ofType(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Resolves once `predicate` holds (checked on each chunk), or rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out; events so far: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  pause(): void {
    this.res.pause();
  }

  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
    this.res.destroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private parse(block: string): void {
    const event: SseEvent = { event: 'message', data: '' };
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else if (field === 'data') data.push(value);
      else continue; // retry: and unknown fields dispatch nothing
      any = true;
    }
    if (!any || data.length === 0) return;
    event.data = data.join('\n');
    this.events.push(event);
  }
}

/** Orders `<ms>-<seq>` ids numerically (written for the tests, not taken from the service). */
export function idLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am < bm || (am === bm && as < bs);
}
