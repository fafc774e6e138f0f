import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import { SendResult, sendNotification } from './webhook-sender';

const BATCH = 10;
/** Longest wait a Retry-After can impose (a hostile or broken receiver cannot park us forever). */
const MAX_RETRY_AFTER_MS = 6 * 3_600_000;

export interface DeliveryOutcome extends SendResult {
  deliveryId: string;
  webhookId: string;
  status: 'succeeded' | 'failed' | 'pending';
  nextAttemptAt: Date | null;
}

/**
 * Delivers the outbox. Every replica polls every ALERTS_DELIVERY_POLL_MS and claims due rows
 * with FOR UPDATE SKIP LOCKED, so each attempt happens on one replica; a row left `sending` by
 * a process that died becomes due again when its lease ends. Only 2xx is success; other
 * answers and network errors retry with exponential backoff and jitter (or after Retry-After,
 * whichever is later) up to ALERTS_DELIVERY_MAX_ATTEMPTS; 410 Gone disables the channel.
 */
@Injectable()
export class DeliveryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryService.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.alerts.deliveryEnabled) this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce()
        .then(() => undefined)
        .catch((error: Error) => {
          // Database not up yet or gone for a moment: the next poll tries again.
          this.logger.debug(`delivery poll failed: ${error.message}`);
        })
        .finally(() => this.schedule());
    }, this.config.alerts.deliveryPollMs);
    this.timer.unref();
  }

  /** Claims and sends what is due now; returns how many deliveries were attempted. */
  async pollOnce(): Promise<number> {
    let total = 0;
    // Drain in batches, bounded so one poll never runs away.
    for (let round = 0; round < 10 && !this.stopped; round++) {
      const claimed = await this.deliveries.claim(BATCH);
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((d) => this.attempt(d)));
      total += claimed.length;
    }
    return total;
  }

  /** Sends one delivery this process already claimed (the channel test), once. */
  deliverOnce(claimed: ClaimedDelivery): Promise<DeliveryOutcome> {
    return this.attempt(claimed, true);
  }

  private backoffMs(attempt: number): number {
    const exponential = this.config.alerts.deliveryBaseDelayMs * 2 ** (attempt - 1);
    // Up to +25% jitter so retries of many deliveries do not arrive in lockstep.
    return Math.round(exponential * (1 + Math.random() * 0.25));
  }

  private async attempt(d: ClaimedDelivery, once = false): Promise<DeliveryOutcome> {
    const result = await sendNotification(
      { url: d.url, secret: d.secret, webhookId: d.webhook_id, body: d.body },
      this.config.alerts.allowPrivateTargets,
    );
    this.metrics.webhookDeliveryDuration.observe(result.latencyMs / 1000);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    const exhausted = once || d.attempts >= this.config.alerts.deliveryMaxAttempts;
    const status = ok ? 'succeeded' : gone || exhausted ? 'failed' : 'pending';
    const retryInMs =
      status === 'pending'
        ? Math.max(
            this.backoffMs(d.attempts),
            Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
          )
        : undefined;
    const nextAttemptAt = await this.deliveries.recordAttempt(d, {
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error,
      status,
      retryInMs,
      disableChannel: gone ? '410 Gone from the receiver' : undefined,
    });
    const label = ok ? 'success' : gone ? 'gone' : status === 'failed' ? 'failed' : 'retry';
    this.metrics.alertNotifications.inc({ channel_type: d.channel_type, result: label });
    if (!ok) {
      this.logger.warn(
        `delivery ${d.id} (${d.webhook_id}) attempt ${d.attempts} to channel ${d.channel_id}: ${result.error}` +
          (status === 'pending' ? `; retry in ${retryInMs} ms` : `; ${status}`),
      );
    }
    return { ...result, deliveryId: d.id, webhookId: d.webhook_id, status, nextAttemptAt };
  }
}
