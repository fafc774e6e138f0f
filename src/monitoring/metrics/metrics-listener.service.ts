import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Server, createServer } from 'node:http';
import { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { MetricsCollector } from './metrics-collector.service';

/**
 * METRICS_PORT: a second, plain node:http listener that serves only the metrics (GET /metrics),
 * so the scrape port can be exposed to Prometheus without exposing the API.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsListener.name);
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly collector: MetricsCollector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    // CLIs run an application context without HTTP: they must not take the scrape port.
    if (this.config.metricsPort === undefined || !this.adapterHost.httpAdapter) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
        return;
      }
      this.collector.render().then(
        (text) => res.writeHead(200, { 'Content-Type': this.collector.contentType }).end(text),
        (error: Error) => {
          this.logger.error(`metrics listener: ${error.message}`);
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, this.config.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`metrics listener on ${this.config.host}:${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
