import { MemoryStreamBus, canReplay } from './stream-bus';
import { compareIds, isStreamId } from './stream-event';

describe('stream ids', () => {
  it('orders numerically, not as text', () => {
    expect(compareIds('99-0', '100-0')).toBe(-1);
    expect(compareIds('100-10', '100-9')).toBe(1);
    expect(compareIds('5-5', '5-5')).toBe(0);
    expect(isStreamId('1796300000000-0')).toBe(true);
    expect(isStreamId('1796300000000')).toBe(false);
    expect(isStreamId('a-1')).toBe(false);
  });
});

describe('canReplay (Redis log bounds)', () => {
  const bounds = { lastGenerated: '100-0', firstId: '50-0', trimmed: true };
  it('replays from inside the retained range, resets before it or beyond the end', () => {
    expect(canReplay('60-0', bounds)).toBe(true);
    expect(canReplay('50-0', bounds)).toBe(true);
    expect(canReplay('49-9', bounds)).toBe(false);
    expect(canReplay('100-1', bounds)).toBe(false);
    expect(canReplay('1-0', { ...bounds, trimmed: false })).toBe(true);
    expect(canReplay('0-0', { lastGenerated: '0-0', firstId: null, trimmed: false })).toBe(true);
  });
});

describe('MemoryStreamBus', () => {
  it('assigns strictly increasing ids, delivers in order, replays what it retains', async () => {
    const bus = new MemoryStreamBus(5);
    const delivered: string[] = [];
    await bus.start((events) => delivered.push(...events.map((e) => e.id)));
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) ids.push(await bus.publish('ingest', String(n)));
    for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1], ids[i])).toBe(-1);
    await new Promise((r) => setImmediate(r));
    expect(delivered).toEqual(ids);
    expect(bus.lastDeliveredId).toBe(ids[7]);

    // retained: the last 5 (ids[3..7]); after ids[2] everything is still there
    expect((await bus.replay(ids[2]))?.map((e) => e.id)).toEqual(ids.slice(3));
    expect((await bus.replay(ids[5]))?.map((e) => e.data)).toEqual(['6', '7']);
    expect(await bus.replay(ids[1])).toBeNull(); // ids[2] was evicted
    expect(await bus.replay('99999999999999-0')).toBeNull();
  });

  it('tickets are single use and expire; claims go to one caller', async () => {
    const bus = new MemoryStreamBus(10);
    await bus.putTicket('h', 'user', 60_000);
    expect(await bus.takeTicket('h')).toBe('user');
    expect(await bus.takeTicket('h')).toBeNull();
    await bus.putTicket('old', 'user', -1);
    expect(await bus.takeTicket('old')).toBeNull();
    expect(await bus.claim('top:1', 1000)).toBe(true);
    expect(await bus.claim('top:1', 1000)).toBe(false);
    expect(await bus.claim('top:2', 1000)).toBe(true);
  });

  it('publishes a changed value only', async () => {
    const bus = new MemoryStreamBus(10);
    expect(await bus.publishIfChanged('top', 'a', 'da')).not.toBeNull();
    expect(await bus.publishIfChanged('top', 'a', 'da')).toBeNull();
    expect(await bus.publishIfChanged('top', 'b', 'db')).not.toBeNull();
  });
});
