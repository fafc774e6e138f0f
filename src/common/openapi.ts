import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';

/** One problem with one input field (400 answers). */
export class FieldErrorDto {
  @ApiPropertyOptional({ description: 'Position in a batch, when there is one', example: 3 })
  index?: number;

  @ApiProperty({ example: 'limit' })
  field: string;

  @ApiProperty({ example: 'limit must be an integer from 1 to 1000' })
  message: string;
}

/** The body of every error answer (see common/http-exception.filter.ts). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'limit must be an integer from 1 to 1000' })
  message: string;

  @ApiPropertyOptional({
    type: FieldErrorDto,
    isArray: true,
    description: 'Every bad field (400 answers)',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    description: 'The X-Request-Id of the request, for the logs',
    example: 'c0a80001-6b2f-4a57-9f1e-0a1b2c3d4e5f',
  })
  requestId?: string;
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const ERRORS: Record<ErrorStatus, { description: string; headers?: typeof RETRY_AFTER }> = {
  400: { description: 'Bad parameter or body; `errors[]` names each bad field' },
  401: { description: 'Missing, malformed, invalid or expired bearer token' },
  403: { description: 'The token lacks a role this operation needs' },
  404: { description: 'Not found' },
  409: { description: 'Conflicts with the current state' },
  413: { description: 'Request body larger than INGEST_MAX_BODY' },
  429: { description: 'Rate limit exceeded', headers: RETRY_AFTER },
  500: { description: 'Unexpected error (details only in the log)' },
  503: {
    description: 'Database unavailable or query cancelled by its timeout; retry later',
    headers: RETRY_AFTER,
  },
};

/**
 * Documents error answers with the service's error body. Pass the statuses the operation can
 * answer, optionally with a more precise description:
 * `@ApiErrorResponses(400, 401, 403, 429, [404, 'No such backup'], 503)`.
 * Put it on a controller to cover every operation in it.
 */
export function ApiErrorResponses(
  ...statuses: (ErrorStatus | [ErrorStatus, string])[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, undefined];
      const known = ERRORS[status];
      return ApiResponse({
        status,
        description: description ?? known.description,
        type: ErrorResponseDto,
        ...(known.headers ? { headers: known.headers } : {}),
      });
    }),
  );
}

/**
 * A 200 answer that is JSON of `type`, or CSV (`Accept: text/csv` or `?format=csv`) with the
 * given columns as header row.
 */
export function ApiJsonOrCsvOkResponse(
  type: new (...args: never[]) => unknown,
  columns: readonly string[],
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(type),
    ApiResponse({
      status: 200,
      description: `JSON, or RFC 4180 CSV with the header row ${columns.join(',')} (empty field = null)`,
      content: {
        'application/json': { schema: { $ref: getSchemaPath(type) } },
        'text/csv': {
          schema: { type: 'string' },
          example: `${columns.join(',')}\r\n`,
        },
      },
    }),
  );
}

/** The answers of every authenticated API route: 401, 403, 429 (and 503: database). */
export const ApiAuthErrors = () => ApiErrorResponses(401, 403, 429, 503);

/**
 * Final touches on the generated document: a server entry, one `bearer` security scheme, and
 * operation ids made unique (a handler mounted on several paths, e.g. /health and
 * /monitoring/health, is one operation per path).
 */
export function finishOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  // package.json says "UNLICENSED": proprietary; the link explains that npm convention.
  document.info.license = {
    name: 'UNLICENSED (proprietary)',
    url: 'https://docs.npmjs.com/cli/configuring-npm/package-json#license',
  };
  document.servers = [{ url: '/', description: 'This service (same origin as the document)' }];
  const seen = new Map<string, number>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation?.operationId) continue;
      const count = seen.get(operation.operationId) ?? 0;
      seen.set(operation.operationId, count + 1);
      if (count > 0) operation.operationId = `${operation.operationId}_${pathSuffix(path)}`;
    }
  }
  return document;
}

const pathSuffix = (path: string) =>
  path
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/[^A-Za-z0-9]/g, ''))
    .join('_');
