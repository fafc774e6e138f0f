import { HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout } from '../../common/with-timeout';

/** Upper bound for any single indicator (each also has its own, shorter timeout). */
const INDICATOR_CEILING_MS = 3000;

export interface ReportCheck {
  key: string;
  required: boolean;
  run: () => Promise<HealthIndicatorResult> | HealthIndicatorResult;
}

export interface HealthReport {
  status: 'ok' | 'error';
  info: HealthIndicatorResult;
  error: HealthIndicatorResult;
  details: HealthIndicatorResult;
}

/**
 * Terminus-shaped report ({status, info, error, details}) in which only required checks
 * decide the status: an optional dependency that is down (Redis when REDIS_REQUIRED=false)
 * is listed under `error` while the report stays `ok`.
 */
export async function composeReport(checks: ReportCheck[]): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (check) => {
      try {
        return await withTimeout(
          Promise.resolve(check.run()),
          INDICATOR_CEILING_MS,
          `no answer within ${INDICATOR_CEILING_MS} ms`,
        );
      } catch (error) {
        return {
          [check.key]: { status: 'down', message: (error as Error).message },
        } as HealthIndicatorResult;
      }
    }),
  );
  const report: HealthReport = { status: 'ok', info: {}, error: {}, details: {} };
  results.forEach((result, i) => {
    const entry = result[checks[i].key] ?? { status: 'down', message: 'no result' };
    report.details[checks[i].key] = entry;
    if (entry.status === 'up') {
      report.info[checks[i].key] = entry;
    } else {
      report.error[checks[i].key] = entry;
      if (checks[i].required) report.status = 'error';
    }
  });
  return report;
}

/** Messages of the indicators that are plain already (no addresses, no driver errors). */
const PLAIN_MESSAGES = new Set(['not connected yet', 'migrations pending']);

/**
 * The readiness answer for probes and anyone on the open endpoint: the same Terminus shape,
 * but each failing check says only what is wrong in plain words ("database unavailable"),
 * never a driver error such as `connect ECONNREFUSED 127.0.0.1:5432`. The details stay on
 * `/health`.
 */
export function plainReadiness(report: Partial<HealthReport>): HealthReport & { message: string } {
  const plain = (results: HealthIndicatorResult | undefined): HealthIndicatorResult =>
    Object.fromEntries(
      Object.entries(results ?? {}).map(([key, entry]) => {
        if (entry.status === 'up') return [key, entry];
        const { phase, message } = entry as { phase?: unknown; message?: unknown };
        if (typeof phase === 'string') return [key, { status: 'down', phase }];
        const reason =
          typeof message === 'string' && PLAIN_MESSAGES.has(message)
            ? message
            : `${key} unavailable`;
        return [key, { status: 'down', message: reason }];
      }),
    ) as HealthIndicatorResult;
  const error = plain(report.error);
  const reasons = Object.entries(error).map(([key, entry]) => {
    const { phase, message } = entry as { phase?: string; message?: string };
    return phase ? `${key} ${phase}` : (message ?? `${key} unavailable`);
  });
  return {
    status: 'error',
    message: `not ready: ${reasons.join(', ') || 'unknown'}`,
    info: plain(report.info),
    error,
    details: plain(report.details),
  };
}
