import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LifecycleService } from '../common/lifecycle.service';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { TopQueryDto } from '../trends/dto/query.dto';
import { TrendsService } from '../trends/trends.service';
import { StreamService } from './stream.service';

export const TOP_LIMIT = 10;

/**
 * Every STREAM_TOP_INTERVAL_S, one replica in the cluster (the one that claims the interval in
 * Redis, among those with a client watching `top`) computes the live 1h top 10 and publishes it
 * as a `top` event, only when it differs from the last one published by any replica. Clients
 * never trigger a query of their own.
 */
@Injectable()
export class TopPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('StreamTop');
  private timer?: NodeJS.Timeout;
  private failing = false;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stream: StreamService,
    private readonly trends: TrendsService,
    private readonly lifecycle: LifecycleService,
  ) {}

  private get intervalMs(): number {
    return this.config.stream.topIntervalS * 1000;
  }

  onApplicationBootstrap(): void {
    if (this.stream.serving) this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One tick: claim this interval, compute, publish if changed. Returns the event id if sent. */
  async tick(now = Date.now()): Promise<string | null> {
    if (this.lifecycle.phase !== 'ready') return null; // the database is not up yet (or going)
    // Only replicas with a client watching compete: no queries while nobody looks.
    if (!this.stream.watching('top')) return null;
    const interval = Math.floor(now / this.intervalMs);
    try {
      if (!(await this.stream.bus.claim(`top:${interval}`, this.intervalMs * 2))) return null;
      const top = await this.trends.top(
        Object.assign(new TopQueryDto(), { window: '1h', limit: TOP_LIMIT }),
      );
      const data = JSON.stringify(top);
      const digest = createHash('sha1').update(data).digest('base64url');
      const id = await this.stream.bus.publishIfChanged('top', data, digest);
      this.failing = false;
      return id;
    } catch (error) {
      if (!this.failing) this.logger.warn(`live top not computed: ${(error as Error).message}`);
      this.failing = true;
      return null;
    }
  }

  /** Ticks at interval boundaries, so every replica competes for the same interval. */
  private schedule(): void {
    if (this.stopped) return;
    const delay = this.intervalMs - (Date.now() % this.intervalMs);
    this.timer = setTimeout(() => {
      this.running = this.tick().then(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
