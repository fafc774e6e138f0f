import { FieldValidationException } from './field-errors';
import { decodeCursor, encodeCursor, keysetAfter, toPage } from './cursor';

describe('cursor', () => {
  const position = { at: '2026-11-30T21:03:02.123456Z', id: '42' };

  it('round-trips a position and is URL-safe', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'bm90LWEtY3Vyc29y'],
    ['wrong version', Buffer.from(JSON.stringify({ v: 2, ...position })).toString('base64url')],
    [
      'time without microseconds',
      Buffer.from(JSON.stringify({ v: 1, at: '2026-11-30T21:03:02Z', id: '1' })).toString(
        'base64url',
      ),
    ],
    [
      'empty id',
      Buffer.from(JSON.stringify({ v: 1, at: position.at, id: '' })).toString('base64url'),
    ],
  ])('rejects a cursor it did not issue (%s) with a 400 naming cursor', (_why, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FieldValidationException);
    expect((error as FieldValidationException).getResponse()).toMatchObject({
      errors: [{ field: 'cursor' }],
    });
  });

  it('keyset condition binds both parts of the position', () => {
    const values: unknown[] = [];
    const add = (v: unknown) => `$${values.push(v)}`;
    expect(keysetAfter(undefined, 'at', 'id', 'bigint', add)).toBe('true');
    expect(keysetAfter(position, 'at', 'id', 'bigint', add)).toBe(
      '(at, id) < ($1::timestamptz, $2::bigint)',
    );
    expect(values).toEqual([position.at, '42']);
  });

  it('a page serves `limit` rows; the extra row means there is a next page', () => {
    const rows = [1, 2, 3].map((n) => ({ n, at: `2026-11-30T21:0${n}:00.000000Z` }));
    const pos = (r: { n: number; at: string }) => ({ at: r.at, id: String(r.n) });
    const more = toPage(rows, 2, pos, (r) => r.n);
    expect(more.items).toEqual([1, 2]);
    expect(decodeCursor(more.nextCursor!)).toEqual({ at: rows[1].at, id: '2' });
    expect(toPage(rows, 3, pos, (r) => r.n)).toEqual({ items: [1, 2, 3], nextCursor: null });
    expect(toPage([], 3, pos, (r) => r)).toEqual({ items: [], nextCursor: null });
  });
});
