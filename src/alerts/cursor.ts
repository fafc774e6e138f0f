import { badParameter } from '../common/field-errors';

/** Opaque keyset cursors for the growing lists (events, deliveries): the last id seen. */
export const encodeCursor = (id: string): string => Buffer.from(`id:${id}`).toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const match = /^id:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match)
    throw badParameter('cursor', 'cursor must be a nextCursor value from a previous page');
  return match[1];
}

/** Page of `limit` from rows fetched with limit + 1. */
export function page<T>(rows: T[], limit: number, idOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  return {
    items,
    nextCursor: rows.length > limit ? encodeCursor(idOf(items[items.length - 1])) : null,
  };
}
