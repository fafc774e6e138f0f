import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/openapi';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../auth/roles';
import { MetricsCollector } from './metrics-collector.service';

/**
 * Prometheus scrape endpoint at /metrics and the seed's /monitoring/metrics. Served from this
 * app's own registry (MetricsService) rather than prom-client's global registry (what
 * @willsoto/nestjs-prometheus' controller served; that package is not used).
 */
@ApiTags('health')
@ApiErrorResponses([400, 'Malformed URL'])
@Public()
@SkipThrottle()
@Controller()
export class MetricsController {
  constructor(private readonly collector: MetricsCollector) {}

  @Get(['metrics', 'monitoring/metrics'])
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format 0.0.4); not throttled, no token',
    security: [],
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example:
          '# TYPE trends_processed_total counter\ntrends_processed_total{platform="twitter"} 42\n',
      },
    },
  })
  metrics(): Promise<string> {
    return this.collector.render();
  }
}
