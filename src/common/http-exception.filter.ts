import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable, isStatementTimeout, isUnstorableInput } from './database-errors';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Seconds a client should wait before retrying when the database is unavailable. */
export const DB_RETRY_AFTER_SECONDS = 5;

/**
 * One error body for every failure: {statusCode, error, message, errors?, requestId}.
 * Unknown errors become a bare 500 (details go to the log, never to the client); database
 * outages become 503 with Retry-After.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const requestId = String(request.id ?? '');

    let status: number;
    let body: Record<string, unknown>;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse();
      body =
        typeof response === 'string'
          ? { message: response }
          : { ...(response as Record<string, unknown>) };
      if (Array.isArray(body.message)) body.message = (body.message as string[]).join('; ');
    } else if (isFastifyError(exception)) {
      status = exception.statusCode;
      body = { message: fastifyMessage(exception) };
    } else if (isUnstorableInput(exception)) {
      // A value PostgreSQL cannot store (e.g. U+0000 in a query parameter): the client's input.
      status = HttpStatus.BAD_REQUEST;
      body = { message: 'Input contains a character that cannot be stored (U+0000)' };
    } else if (isDatabaseUnavailable(exception)) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = { message: 'Database unavailable, retry later' };
      void reply.header('Retry-After', String(DB_RETRY_AFTER_SECONDS));
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
    } else if (isStatementTimeout(exception)) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = { message: 'Query took too long and was cancelled; narrow the range or retry later' };
      void reply.header('Retry-After', String(DB_RETRY_AFTER_SECONDS));
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      body = { message: 'Internal server error' };
      this.logger.error({ err: exception, requestId }, 'unhandled error');
    }
    if (status === 401) void reply.header('WWW-Authenticate', bearerChallenge(request));
    if (status === 503 && !reply.getHeader('Retry-After')) {
      void reply.header('Retry-After', String(DB_RETRY_AFTER_SECONDS));
    }

    void reply.status(status).send({
      statusCode: status,
      error: STATUS_TEXT[status] ?? (body.error as string) ?? 'Error',
      ...body,
      requestId,
    });
  }
}

/**
 * RFC 6750 §3: a 401 names the Bearer scheme; when the request carried a bearer token, the
 * challenge says it was refused (`invalid_token`: malformed, bad signature, expired…). A request
 * without one (or with another scheme) gets the bare challenge, as §3.1 asks.
 */
export function bearerChallenge(request: Pick<FastifyRequest, 'headers'>): string {
  const header = request.headers.authorization;
  const sentToken = typeof header === 'string' && /^Bearer\s+\S/i.test(header);
  return sentToken ? 'Bearer error="invalid_token"' : 'Bearer';
}

interface FastifyError {
  statusCode: number;
  code: string;
  message: string;
}

function isFastifyError(error: unknown): error is FastifyError {
  const e = error as Partial<FastifyError>;
  return (
    typeof e?.code === 'string' &&
    e.code.startsWith('FST_') &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500
  );
}

function fastifyMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'Request body is too large';
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return 'Content-Type must be application/json';
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Body must be a JSON object';
  if (error.statusCode === 400) return `Malformed JSON body: ${error.message}`;
  return error.message;
}
