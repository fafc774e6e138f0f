import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, map } from 'rxjs';

export type Representation = 'json' | 'csv';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

/** How an answer becomes CSV: the columns (the JSON field names) and one record per row. */
export interface CsvExportOptions<B = unknown> {
  columns: readonly string[];
  rows: (body: B) => readonly object[];
}

export const CSV_EXPORT_KEY = 'csv:export';

/**
 * The representation a request asks for: `format=csv|json` wins; otherwise `Accept` picks CSV
 * when it ranks text/csv at least as high as JSON (so `Accept: text/csv` and
 * `Accept: text/csv, application/json;q=0.5` give CSV, browsers' and `*` defaults give JSON).
 */
export function requestedRepresentation(
  format: unknown,
  accept: string | string[] | undefined,
): Representation {
  if (format === 'csv') return 'csv';
  if (format === 'json') return 'json';
  const header = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  let csv = 0;
  let json = 0;
  for (const part of header.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'text/csv') csv = Math.max(csv, q);
    if (type === 'application/json') json = Math.max(json, q);
  }
  return csv > 0 && csv >= json ? 'csv' : 'json';
}

/** The representation of a Fastify request (query `format`, header `Accept`). */
export const representationOf = (request: FastifyRequest): Representation =>
  requestedRepresentation(
    (request.query as Record<string, unknown> | undefined)?.format,
    request.headers.accept,
  );

/** RFC 4180 CSV: header row, CRLF line ends, quotes where needed; null is an empty field. */
export function toCsv(columns: readonly string[], rows: readonly object[]): string {
  return stringify([...rows], {
    header: true,
    columns: [...columns],
    record_delimiter: 'windows',
    // csv-stringify quotes the record delimiter (CRLF) only; a bare CR or LF needs quotes too.
    quoted_match: /[\r\n]/,
    cast: {
      boolean: (value) => String(value),
      // Same digits as the JSON answer.
      number: (value) => JSON.stringify(value),
      date: (value) => value.toISOString(),
    },
  });
}

/**
 * Answers `Accept: text/csv` (or `?format=csv`) with CSV of the handler's answer. It runs
 * inside the cache interceptor, so the cache stores the CSV text under a key that includes the
 * representation (see cache.interceptor.ts).
 */
@Injectable()
export class CsvInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<CsvExportOptions | undefined>(
      CSV_EXPORT_KEY,
      context.getHandler(),
    );
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (!options || representationOf(request) !== 'csv') return next.handle();
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        void reply.header('Content-Type', CSV_CONTENT_TYPE);
        return toCsv(options.columns, options.rows(body));
      }),
    );
  }
}

/** Marks a GET as exportable as CSV. */
export const CsvExport = <B>(options: CsvExportOptions<B>) =>
  applyDecorators(SetMetadata(CSV_EXPORT_KEY, options), UseInterceptors(CsvInterceptor));
