import { SeriesState, notificationFor, step } from './state-machine';

const MIN = 60_000;
const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 12, 0) + m * MIN);

/** Runs a condition sequence (one evaluation per minute) and returns the states. */
function run(conditions: boolean[], forMs: number, keepFiringForMs: number): string[] {
  let s: SeriesState | undefined;
  return conditions.map((c, i) => {
    const r = step(s, c, at(i), { forMs, keepFiringForMs });
    s = r.next === 'normal' ? undefined : { state: r.next, since: r.since, activeAt: r.activeAt };
    return r.next;
  });
}

describe('alert state machine', () => {
  it('fires at once with for 0 and resolves at once without keepFiringFor', () => {
    expect(run([false, true, true, false], 0, 0)).toEqual(['normal', 'firing', 'firing', 'normal']);
  });

  it('holds pending for `for`, and drops back to normal if the condition fails first', () => {
    expect(run([true, true, true, false], 2 * MIN, 0)).toEqual([
      'pending',
      'pending',
      'firing',
      'normal',
    ]);
    expect(run([true, false, true], 2 * MIN, 0)).toEqual(['pending', 'normal', 'pending']);
  });

  it('recovers for keepFiringFor after the first false evaluation, and re-fires if the condition returns', () => {
    expect(run([true, false, false, false], 0, 2 * MIN)).toEqual([
      'firing',
      'recovering',
      'recovering',
      'normal',
    ]);
    expect(run([true, false, true, false], 0, 5 * MIN)).toEqual([
      'firing',
      'recovering',
      'firing',
      'recovering',
    ]);
  });

  it('keeps `since` of a state that continues', () => {
    const first = step(undefined, true, at(0), { forMs: 5 * MIN, keepFiringForMs: 0 });
    const second = step(
      { state: 'pending', since: first.since, activeAt: first.activeAt },
      true,
      at(1),
      { forMs: 5 * MIN, keepFiringForMs: 0 },
    );
    expect(second.since).toEqual(at(0));
  });

  it('notifies on firing and on resolve only', () => {
    expect(notificationFor('normal', 'firing')).toBe('alert.firing');
    expect(notificationFor('pending', 'firing')).toBe('alert.firing');
    expect(notificationFor('recovering', 'firing')).toBeUndefined();
    expect(notificationFor('firing', 'normal')).toBe('alert.resolved');
    expect(notificationFor('recovering', 'normal')).toBe('alert.resolved');
    expect(notificationFor('pending', 'normal')).toBeUndefined();
    expect(notificationFor('firing', 'recovering')).toBeUndefined();
  });
});
