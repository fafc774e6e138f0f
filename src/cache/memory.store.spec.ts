import { MemoryStore } from './memory.store';

/** A store of `maxEntries` (and plenty of bytes) holding `pairs` for a minute. */
async function storeWith(maxEntries: number, pairs: Array<[string, string]>): Promise<MemoryStore> {
  const store = new MemoryStore(maxEntries, 1_000_000);
  await store.set(pairs, 60);
  return store;
}

/** A clock the test moves by hand (ms). */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('MemoryStore (in-process cache without Redis)', () => {
  it('evicts the least recently used entry once the byte bound is reached', async () => {
    // Each entry: key 2 chars + value 48 chars = 100 bytes in UTF-16; room for three.
    const store = new MemoryStore(1_000, 300);
    const value = (c: string) => c.repeat(48);
    await store.set([['k1', value('a')]], 60);
    await store.set([['k2', value('b')]], 60);
    await store.set([['k3', value('c')]], 60);
    expect(await store.memoryBytes()).toBe(300);
    await store.get(['k1']); // k2 is now the least recently used
    await store.set([['k4', value('d')]], 60);
    expect(await store.get(['k1', 'k2', 'k3', 'k4'])).toEqual([
      value('a'),
      null,
      value('c'),
      value('d'),
    ]);
    expect(await store.memoryBytes()).toBe(300);
  });

  it('keeps the entry-count bound too', async () => {
    const store = await storeWith(2, [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    expect(await store.get(['a', 'b', 'c'])).toEqual([null, '2', '3']);
    expect(await store.countKeys('')).toBe(2);
  });

  it('expires entries after their TTL; versions are recreated with the fresh token', async () => {
    const clock = manualClock();
    const store = new MemoryStore(100, 1_000_000, clock);
    await store.set([['p:x', 'cached']], 10);
    expect(await store.versions(['p:v'], ['t1'], 10)).toEqual(['t1']);
    clock.advance(9_999);
    expect(await store.get(['p:x'])).toEqual(['cached']);
    expect(await store.versions(['p:v'], ['t2'], 10)).toEqual(['t1']);
    clock.advance(2);
    expect(await store.get(['p:x'])).toEqual([null]);
    expect(await store.countKeys('p:')).toBe(0);
    expect(await store.versions(['p:v'], ['t3'], 10)).toEqual(['t3']);
  });

  it('clears by prefix and reports how many were removed', async () => {
    const store = await storeWith(100, [
      ['a:1', 'x'],
      ['a:2', 'y'],
      ['b:1', 'z'],
    ]);
    expect(await store.clear('a:')).toBe(2);
    expect(await store.get(['a:1', 'a:2', 'b:1'])).toEqual([null, null, 'z']);
  });
});
