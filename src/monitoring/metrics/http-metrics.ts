import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { elapsedMs } from '../../common/http-server';
import { MetricsService } from './metrics.service';

/** Route label for requests that matched no route (404s): one bounded value, never the raw URL. */
export const UNMATCHED_ROUTE = 'UNMATCHED';

/**
 * Records api_response_time_seconds for every response in one place: a Fastify onResponse
 * hook sees successes, errors thrown anywhere in Nest, body-parser rejections and 404s alike.
 * The route label is the route template (`/api/v1/trends/:trendKey/series`), so label values
 * stay bounded whatever the clients send.
 */
const PROBE_ROUTE = /^\/(monitoring\/)?health(\/|$)/;

@Injectable()
export class HttpMetrics implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    // CLIs run an application context without an HTTP server.
    if (!this.adapterHost.httpAdapter) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Hooks added before ready() apply to every route, including those registered earlier.
    fastify.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      const status = reply.statusCode;
      this.metrics.apiResponseTime.observe(
        { method: request.method, route, status_code: String(status) },
        elapsedMs(request.raw, reply.elapsedTime) / 1000,
      );
      // A probe's 503 is a health answer (starting, stopping, dependency down), not a failed request.
      if (status >= 500 && !PROBE_ROUTE.test(route)) {
        this.metrics.errors.inc({ service: 'http', type: `status_${status}` });
      }
    });
  }

  /** Open sockets of the HTTP server (keep-alive included). */
  openConnections(): Promise<number> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      { getConnections?: (cb: (error: Error | null, count: number) => void) => void } | undefined;
    return new Promise((resolve) => {
      if (!server?.getConnections) return resolve(0);
      server.getConnections((error, count) => resolve(error ? 0 : count));
    });
  }
}
