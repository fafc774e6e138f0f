import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Db } from './alerts.repository';

export type DeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled';
export const DELIVERY_STATUSES: DeliveryStatus[] = [
  'pending',
  'sending',
  'succeeded',
  'failed',
  'cancelled',
];

/** A delivery claimed by this replica, with what is needed to send it. */
export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  type: string;
  body: string;
  attempts: number;
  channel_id: string;
  channel_type: 'webhook' | 'slack';
  url: string;
  secret: string | null;
}

export interface DeliveryRecord {
  id: string;
  webhook_id: string;
  event_id: string | null;
  channel_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface AttemptRecord {
  delivery_id: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  next_attempt_at: Date | null;
}

/** How long a claimed delivery stays ours: longer than the 10 s send timeout. */
const LEASE_SECONDS = 60;

/** The notification outbox: claim, record attempts, list. */
@Injectable()
export class DeliveriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    d: { webhookId: string; eventId: string | null; channelId: string; type: string; body: string },
    db: Db,
  ): Promise<string> {
    const rows = (await db.query(
      `INSERT INTO notification_deliveries (webhook_id, event_id, channel_id, type, body)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [d.webhookId, d.eventId, d.channelId, d.type, d.body],
    )) as { id: string }[];
    return rows[0].id;
  }

  /**
   * Writes a delivery already claimed by the caller (the channel test sends it at once), so no
   * worker can take it first.
   */
  async insertClaimed(
    d: { webhookId: string; channelId: string; type: string; body: string },
    db: Db,
  ): Promise<ClaimedDelivery> {
    const rows = (await db.query(
      `WITH d AS (
         INSERT INTO notification_deliveries
           (webhook_id, channel_id, type, body, status, attempts, lease_until)
         VALUES ($1, $2, $3, $4, 'sending', 1, now() + make_interval(secs => ${LEASE_SECONDS}))
         RETURNING id, webhook_id, type, body, attempts, channel_id)
       SELECT d.*, c.type AS channel_type, c.url, c.secret
       FROM d JOIN notification_channels c ON c.id = d.channel_id`,
      [d.webhookId, d.channelId, d.type, d.body],
    )) as ClaimedDelivery[];
    return rows[0];
  }

  /**
   * Claims due deliveries (or one by id) for this replica: `FOR UPDATE SKIP LOCKED` lets every
   * replica claim at once without taking the same row; the lease makes a row whose sender
   * died due again, so nothing is lost (at-least-once).
   */
  async claim(limit: number): Promise<ClaimedDelivery[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE notification_deliveries d
       SET status = 'sending', attempts = d.attempts + 1,
           lease_until = now() + make_interval(secs => ${LEASE_SECONDS})
       FROM notification_channels c
       WHERE c.id = d.channel_id AND d.id IN (
         SELECT id FROM notification_deliveries
         WHERE ((status = 'pending' AND next_attempt_at <= now())
                OR (status = 'sending' AND lease_until < now()))
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING d.id, d.webhook_id, d.type, d.body, d.attempts, d.channel_id,
                 c.type AS channel_type, c.url, c.secret`,
      [limit],
    )) as [ClaimedDelivery[], number];
    return rows;
  }

  /** Records one attempt and the delivery's new status in one transaction. */
  async recordAttempt(
    d: ClaimedDelivery,
    outcome: {
      statusCode: number | null;
      latencyMs: number;
      error: string | null;
      /** succeeded / failed, or pending with the delay before the next attempt. */
      status: 'succeeded' | 'failed' | 'pending';
      retryInMs?: number;
      disableChannel?: string;
    },
  ): Promise<Date | null> {
    return this.dataSource.transaction(async (db) => {
      const [[updated]] = (await db.query(
        `UPDATE notification_deliveries SET status = $2, last_status_code = $3, last_error = $4,
           lease_until = NULL,
           next_attempt_at = CASE WHEN $2 = 'pending'
             THEN now() + make_interval(secs => $5::float8 / 1000) ELSE next_attempt_at END,
           finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
         WHERE id = $1 AND status = 'sending'
         RETURNING CASE WHEN status = 'pending' THEN next_attempt_at END AS next`,
        [d.id, outcome.status, outcome.statusCode, outcome.error, outcome.retryInMs ?? 0],
      )) as [{ next: Date | null }[], number];
      const next = updated?.next ?? null;
      await db.query(
        `INSERT INTO notification_delivery_attempts
           (delivery_id, attempt, status_code, latency_ms, error, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [d.id, d.attempts, outcome.statusCode, outcome.latencyMs, outcome.error, next],
      );
      if (outcome.disableChannel) {
        await db.query(
          `UPDATE notification_channels SET enabled = false, disabled_reason = $2 WHERE id = $1`,
          [d.channel_id, outcome.disableChannel],
        );
        await db.query(
          `UPDATE notification_deliveries SET status = 'cancelled', finished_at = now(),
             last_error = $2, lease_until = NULL
           WHERE channel_id = $1 AND status = 'pending'`,
          [d.channel_id, `channel disabled: ${outcome.disableChannel}`],
        );
      }
      return next;
    });
  }

  async list(filter: {
    channelId?: string;
    status?: string;
    before?: string;
    limit: number;
  }): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] }[]> {
    const deliveries = (await this.dataSource.query(
      `SELECT id, webhook_id, event_id, channel_id, type, status, attempts, next_attempt_at,
              last_status_code, last_error, created_at, finished_at
       FROM notification_deliveries
       WHERE ($1::bigint IS NULL OR channel_id = $1) AND ($2::text IS NULL OR status = $2)
         AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [filter.channelId ?? null, filter.status ?? null, filter.before ?? null, filter.limit],
    )) as DeliveryRecord[];
    if (deliveries.length === 0) return [];
    const attempts = (await this.dataSource.query(
      `SELECT delivery_id, attempt, at, status_code, latency_ms, error, next_attempt_at
       FROM notification_delivery_attempts WHERE delivery_id = ANY($1::bigint[])
       ORDER BY delivery_id, attempt, id`,
      [deliveries.map((d) => d.id)],
    )) as AttemptRecord[];
    return deliveries.map((delivery) => ({
      delivery,
      attempts: attempts.filter((a) => String(a.delivery_id) === String(delivery.id)),
    }));
  }
}
