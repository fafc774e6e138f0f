/**
 * Recognises errors that mean "the database is unavailable right now" (connection refused,
 * server shutting down, too many clients, pool timeout): those answer 503 + Retry-After.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  // before the first successful connection (database unreachable at start-up)
  /DataSource is not initialized|Driver not Connected|Connection with .* not found|No connection options/i,
  /Cannot use a pool after calling end/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (
      typeof e.message === 'string' &&
      UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string))
    ) {
      return true;
    }
    current = e.driverError ?? e.cause;
  }
  return false;
}

/** query_canceled: statement_timeout fired. */
export function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.code === '57014' || e?.driverError?.code === '57014';
}

/** 22021 (invalid byte sequence, e.g. NUL in text) and 22P05 (untranslatable character in jsonb). */
export function isUnstorableInput(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === '22021' || code === '22P05';
}
