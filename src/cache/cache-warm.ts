import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { TokenService } from '../auth/token.service';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobScheduler } from '../jobs/job-scheduler';

/** A CACHE_WARM_QUERIES entry → the request a dashboard makes for it. */
export function warmUrl(entry: string): string {
  const [name, window] = entry.split(':');
  return name === 'overview'
    ? '/api/v1/analytics/overview'
    : `/api/v1/trends/top?window=${encodeURIComponent(window)}`;
}

export interface WarmResult extends Record<string, unknown> {
  warmed: Array<{ query: string; status: number; cache: string | null }>;
}

/**
 * Cache warming (job `cache-warm`, a few seconds after each full hour, once per cluster under
 * the jobs runner's advisory lock). The live windows end at the end of the current hour, so
 * at each hour every dashboard query gets a new key and its first reader would wait for the
 * database. The job asks each configured query once, in process, through the full request path
 * with `Cache-Control: no-cache` — the same validation, ranges, version tokens, serialization
 * and storage as any request — so the answer lands under exactly the key the next reader
 * computes. Authenticated with a short-lived token minted for `cache-warmer` (needs
 * JWT_SECRET; with only a public key the job fails with that message).
 */
@Injectable()
export class CacheWarmer implements OnApplicationBootstrap {
  private readonly logger = new Logger('CacheWarm');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokens: TokenService,
    private readonly scheduler: JobScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, cron } = this.config.jobs.cacheWarm;
    this.scheduler.schedule('cache-warm', cron, enabled, () => this.warm());
  }

  async warm(): Promise<WarmResult> {
    const token = this.tokens.sign('cache-warmer', ['analyst'], 300);
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const warmed: WarmResult['warmed'] = [];
    for (const query of this.config.jobs.cacheWarm.queries) {
      const response = await fastify.inject({
        method: 'GET',
        url: warmUrl(query),
        headers: { authorization: `Bearer ${token}`, 'cache-control': 'no-cache' },
      });
      const cache = response.headers['x-cache'];
      warmed.push({
        query,
        status: response.statusCode,
        cache: typeof cache === 'string' ? cache : null,
      });
    }
    const failed = warmed.filter((w) => w.status !== 200);
    if (failed.length) {
      throw new Error(
        `cache warming failed for ${failed.map((f) => `${f.query} (${f.status})`).join(', ')}`,
      );
    }
    this.logger.log(`warmed ${warmed.length} queries`);
    return { warmed };
  }
}
