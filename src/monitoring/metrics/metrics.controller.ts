import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../auth/roles';
import { MetricsCollector } from './metrics-collector.service';

/**
 * Prometheus scrape endpoint at /metrics and the seed's /monitoring/metrics. Served from this
 * app's own registry (MetricsService) rather than @willsoto/nestjs-prometheus' controller,
 * which always reads prom-client's global registry.
 */
@ApiExcludeController()
@Public()
@SkipThrottle()
@Controller()
export class MetricsController {
  constructor(private readonly collector: MetricsCollector) {}

  @Get(['metrics', 'monitoring/metrics'])
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return this.collector.render();
  }
}
