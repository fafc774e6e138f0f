import { MetricsService } from '../../src/monitoring/metrics/metrics.service';
import type { TestApp } from './app';

/**
 * api_response_time_seconds of the GETs of `route` answered 200: how many were recorded
 * (`count`) or their total seconds (`sum`).
 */
export async function responseTimes(
  t: TestApp,
  route: string,
  field: 'count' | 'sum',
): Promise<number> {
  const { values } = await t.app.get(MetricsService).apiResponseTime.get();
  const found = values.find(
    (v) =>
      v.metricName === `api_response_time_seconds_${field}` &&
      v.labels.route === route &&
      v.labels.method === 'GET' &&
      v.labels.status_code === '200',
  );
  return found?.value ?? 0;
}
