import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type as TransformType } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { badParameter } from './field-errors';

/**
 * Opaque cursors for lists that grow (job runs, backups, audit log, alert events, deliveries).
 *
 * Lists are ordered newest first on (time, id) and paged by keyset: the cursor holds the
 * (time, id) of the last row served, and the next page reads rows strictly after it in that
 * order. Rows inserted while a client pages land before the first page (newer times), so a
 * walk sees every row that existed when it started exactly once: no gaps, no repeats.
 *
 * The time travels as PostgreSQL's text with microseconds (see `cursorTimeSql`), never as a JS
 * Date, which would drop the microseconds and repeat or skip rows sharing a millisecond.
 */
export interface CursorPosition {
  /** The row's time as UTC text with microseconds, e.g. 2026-11-30T21:03:02.123456Z. */
  at: string;
  /** The row's id as text (bigint or text ids). */
  id: string;
}

const CURSOR_VERSION = 1;
const AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(
    JSON.stringify({ v: CURSOR_VERSION, at: position.at, id: position.id }),
  ).toString('base64url');
}

/** The position a cursor names; a cursor this service did not issue is a 400 naming `cursor`. */
export function decodeCursor(cursor: string | undefined): CursorPosition | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const p = parsed as Partial<CursorPosition> & { v?: unknown };
  if (
    p === null ||
    typeof p !== 'object' ||
    p.v !== CURSOR_VERSION ||
    typeof p.at !== 'string' ||
    !AT_PATTERN.test(p.at) ||
    Number.isNaN(Date.parse(p.at)) ||
    typeof p.id !== 'string' ||
    p.id.length === 0 ||
    p.id.length > 200
  ) {
    throw invalidCursor();
  }
  return { at: p.at, id: p.id };
}

const invalidCursor = () =>
  badParameter('cursor', 'cursor is not valid: pass the nextCursor of a previous page unchanged');

/** SQL text of a timestamptz column as the cursor stores it (UTC, microseconds). */
export const cursorTimeSql = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The keyset condition "after this cursor" for lists ordered by (time DESC, id DESC).
 * `add` binds a parameter and returns its placeholder; `idType` is the id column's SQL type.
 */
export function keysetAfter(
  position: CursorPosition | undefined,
  timeColumn: string,
  idColumn: string,
  idType: 'bigint' | 'text',
  add: (value: unknown) => string,
): string {
  if (!position) return 'true';
  return `(${timeColumn}, ${idColumn}) < (${add(position.at)}::timestamptz, ${add(position.id)}::${idType})`;
}

/** One page: read `limit + 1` rows, serve `limit`, and the extra row says whether more exist. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function toPage<R, T>(
  rows: R[],
  limit: number,
  position: (row: R) => CursorPosition,
  view: (row: R) => T,
): Page<T> {
  const served = rows.slice(0, limit);
  const last = served[served.length - 1];
  return {
    items: served.map(view),
    nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null,
  };
}

const PAGE_LIMIT_MAX = 500;

/**
 * `?limit=&cursor=` of a paged list. Extend it in the list's query DTO; to change the default
 * limit, redeclare `limit` there.
 */
export class PageQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: PAGE_LIMIT_MAX,
    default: 50,
    description: 'Items per page',
  })
  @IsOptional()
  @TransformType(() => Number)
  @IsInt({ message: `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}` })
  @Min(1, { message: `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}` })
  @Max(PAGE_LIMIT_MAX, { message: `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}` })
  limit: number = 50;

  @ApiPropertyOptional({
    description: 'Opaque: the nextCursor of the previous page; omitted = first page (newest items)',
    example: 'eyJ2IjoxLCJhdCI6IjIwMjYtMTEtMzBUMjE6MDM6MDIuMTIzNDU2WiIsImlkIjoiNDIifQ',
  })
  @IsOptional()
  @IsString({ message: 'cursor must be a string' })
  @MaxLength(1000, { message: 'cursor is not valid: too long' })
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not valid: not a cursor of this service' })
  cursor?: string;
}

type Constructor<T = object> = new (...args: never[]) => T;

/**
 * The OpenAPI class of a page of `item`: `{items: item[], nextCursor: string | null}`, named
 * `<name>` in the document.
 */
export function PageResponseDto(item: Constructor, name: string): Constructor<Page<unknown>> {
  class PageOf {
    @ApiProperty({ type: item, isArray: true })
    items: unknown[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as ?cursor= to read the next page; null on the last page',
      example: null,
    })
    nextCursor: string | null;
  }
  Object.defineProperty(PageOf, 'name', { value: name });
  return PageOf;
}
