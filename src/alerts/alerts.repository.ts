import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WINDOWS } from '../common/time-window';
import { RuleKind, RuleMetric } from './dto/rule.dto';
import { QuietHours } from './quiet-hours';
import { RuleDef } from './rule';

export type Db = DataSource | EntityManager;

interface RuleRecord {
  id: string;
  name: string;
  kind: string;
  metric: string;
  window_name: string;
  scope_trend_key: string | null;
  scope_platform: string | null;
  scope_region: string | null;
  threshold: number;
  min_mentions: string;
  baseline_hours: number;
  for_ms: string;
  keep_firing_for_ms: string;
  repeat_interval_ms: string;
  severity: string;
  channel_ids: string[];
  quiet_hours: QuietHours | null;
  enabled: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const toRule = (r: RuleRecord): RuleDef => ({
  id: r.id,
  name: r.name,
  kind: r.kind as RuleKind,
  metric: r.metric as RuleMetric,
  window: r.window_name,
  windowMs: WINDOWS[r.window_name],
  scope: { trendKey: r.scope_trend_key, platform: r.scope_platform, region: r.scope_region },
  threshold: r.threshold,
  minMentions: Number(r.min_mentions),
  baselineHours: r.baseline_hours,
  forMs: Number(r.for_ms),
  keepFiringForMs: Number(r.keep_firing_for_ms),
  repeatIntervalMs: Number(r.repeat_interval_ms),
  severity: r.severity,
  channelIds: r.channel_ids.map(String),
  quietHours: r.quiet_hours,
  enabled: r.enabled,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type RuleInput = Omit<RuleDef, 'id' | 'version' | 'createdAt' | 'updatedAt' | 'windowMs'>;

const RULE_COLUMNS = `name, kind, metric, window_name, scope_trend_key, scope_platform, scope_region,
  threshold, min_mentions, baseline_hours, for_ms, keep_firing_for_ms, repeat_interval_ms,
  severity, channel_ids, quiet_hours, enabled`;

const ruleValues = (r: RuleInput) => [
  r.name,
  r.kind,
  r.metric,
  r.window,
  r.scope.trendKey,
  r.scope.platform,
  r.scope.region,
  r.threshold,
  r.minMentions,
  r.baselineHours,
  r.forMs,
  r.keepFiringForMs,
  r.repeatIntervalMs,
  r.severity,
  r.channelIds,
  r.quietHours === null ? null : JSON.stringify(r.quietHours),
  r.enabled,
];

export interface ChannelRecord {
  id: string;
  name: string;
  type: 'webhook' | 'slack';
  url: string;
  secret: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
}

export interface InstanceRecord {
  rule_id: string;
  trend_key: string;
  state: 'pending' | 'firing' | 'recovering';
  value: number | null;
  since: Date;
  active_at: Date;
  notified: boolean;
  last_notified_at: Date | null;
}

export interface EventRecord {
  id: string;
  rule_id: string;
  rule_name: string;
  severity: string;
  trend_key: string;
  platform: string | null;
  region: string | null;
  from_state: string;
  to_state: string;
  value: number | null;
  threshold: number;
  since: Date;
  at: Date;
  notification: string | null;
  suppressed: string | null;
  reason: string | null;
}

export interface SilenceRecord {
  id: string;
  rule_id: string | null;
  trend_key: string | null;
  starts_at: Date;
  until: Date;
  comment: string;
  created_by: string;
}

/** SQL of rules, channels, silences, instances and events. */
@Injectable()
export class AlertsRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async listRules(db: Db = this.dataSource): Promise<RuleDef[]> {
    const rows = (await db.query(`SELECT * FROM alert_rules ORDER BY id`)) as RuleRecord[];
    return rows.map(toRule);
  }

  async enabledRuleIds(): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM alert_rules WHERE enabled ORDER BY id`,
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async getRule(id: string, db: Db = this.dataSource, lock = false): Promise<RuleDef | undefined> {
    const rows = (await db.query(
      `SELECT * FROM alert_rules WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    )) as RuleRecord[];
    return rows[0] && toRule(rows[0]);
  }

  async insertRule(rule: RuleInput, actor: string, db: Db): Promise<RuleDef> {
    const rows = (await db.query(
      `INSERT INTO alert_rules (${RULE_COLUMNS}, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       RETURNING *`,
      [...ruleValues(rule), actor],
    )) as RuleRecord[];
    return toRule(rows[0]);
  }

  async updateRule(
    id: string,
    rule: RuleInput,
    actor: string,
    db: Db,
  ): Promise<RuleDef | undefined> {
    const rows = (await db.query(
      `UPDATE alert_rules SET (${RULE_COLUMNS}, updated_by, version, updated_at) =
         ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
          version + 1, now())
       WHERE id = $1 RETURNING *`,
      [id, ...ruleValues(rule), actor],
    )) as [RuleRecord[], number];
    const updated = rows[0];
    return updated[0] && toRule(updated[0]);
  }

  async deleteRule(id: string, db: Db): Promise<boolean> {
    await db.query(`DELETE FROM alert_instances WHERE rule_id = $1`, [id]);
    await db.query(`DELETE FROM alert_silences WHERE rule_id = $1`, [id]);
    const [, count] = (await db.query(`DELETE FROM alert_rules WHERE id = $1`, [id])) as [
      unknown,
      number,
    ];
    return count > 0;
  }

  async instances(ruleId: string, db: Db): Promise<InstanceRecord[]> {
    return (await db.query(
      `SELECT rule_id, trend_key, state, value, since, active_at, notified, last_notified_at
       FROM alert_instances WHERE rule_id = $1`,
      [ruleId],
    )) as InstanceRecord[];
  }

  async deleteInstances(ruleId: string, db: Db): Promise<InstanceRecord[]> {
    return (
      (await db.query(
        `DELETE FROM alert_instances WHERE rule_id = $1
         RETURNING rule_id, trend_key, state, value, since, active_at, notified, last_notified_at`,
        [ruleId],
      )) as [InstanceRecord[], number]
    )[0];
  }

  async upsertInstance(i: InstanceRecord, t: Date, db: Db): Promise<void> {
    await db.query(
      `INSERT INTO alert_instances
         (rule_id, trend_key, state, value, since, active_at, notified, last_notified_at, evaluated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (rule_id, trend_key) DO UPDATE SET state = excluded.state,
         value = excluded.value, since = excluded.since, active_at = excluded.active_at,
         notified = excluded.notified, last_notified_at = excluded.last_notified_at,
         evaluated_at = excluded.evaluated_at`,
      [
        i.rule_id,
        i.trend_key,
        i.state,
        i.value,
        i.since,
        i.active_at,
        i.notified,
        i.last_notified_at,
        t,
      ],
    );
  }

  async deleteInstance(ruleId: string, trendKey: string, db: Db): Promise<void> {
    await db.query(`DELETE FROM alert_instances WHERE rule_id = $1 AND trend_key = $2`, [
      ruleId,
      trendKey,
    ]);
  }

  async insertEvent(e: Omit<EventRecord, 'id'>, db: Db): Promise<string> {
    const rows = (await db.query(
      `INSERT INTO alert_events (rule_id, rule_name, severity, trend_key, platform, region,
         from_state, to_state, value, threshold, since, at, notification, suppressed, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
      [
        e.rule_id,
        e.rule_name,
        e.severity,
        e.trend_key,
        e.platform,
        e.region,
        e.from_state,
        e.to_state,
        e.value,
        e.threshold,
        e.since,
        e.at,
        e.notification,
        e.suppressed,
        e.reason,
      ],
    )) as { id: string }[];
    return rows[0].id;
  }

  /** Events newest first; `before` is the keyset cursor (an event id). */
  async events(filter: {
    ruleId?: string;
    since?: Date;
    before?: string;
    limit: number;
  }): Promise<EventRecord[]> {
    return (await this.dataSource.query(
      `SELECT * FROM alert_events
       WHERE ($1::bigint IS NULL OR rule_id = $1) AND ($2::timestamptz IS NULL OR at >= $2)
         AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [filter.ruleId ?? null, filter.since ?? null, filter.before ?? null, filter.limit],
    )) as EventRecord[];
  }

  /** Series that are pending, firing or recovering, with their rule. */
  async active(): Promise<(InstanceRecord & RuleRecord)[]> {
    return (await this.dataSource.query(
      `SELECT r.*, i.rule_id, i.trend_key, i.state, i.value, i.since, i.active_at, i.notified,
              i.last_notified_at
       FROM alert_instances i JOIN alert_rules r ON r.id = i.rule_id
       ORDER BY i.since DESC, i.rule_id, i.trend_key COLLATE "C"`,
    )) as (InstanceRecord & RuleRecord)[];
  }

  async firingBySeverity(): Promise<{ severity: string; n: number }[]> {
    return (await this.dataSource.query(
      `SELECT r.severity, count(*)::int AS n FROM alert_instances i
       JOIN alert_rules r ON r.id = i.rule_id
       WHERE i.state IN ('firing', 'recovering') GROUP BY r.severity`,
    )) as { severity: string; n: number }[];
  }

  // --- channels ---

  async channels(db: Db = this.dataSource): Promise<ChannelRecord[]> {
    return (await db.query(
      `SELECT id, name, type, url, secret, enabled, disabled_reason, created_at
       FROM notification_channels ORDER BY id`,
    )) as ChannelRecord[];
  }

  async channel(id: string, db: Db = this.dataSource): Promise<ChannelRecord | undefined> {
    const rows = (await db.query(
      `SELECT id, name, type, url, secret, enabled, disabled_reason, created_at
       FROM notification_channels WHERE id = $1`,
      [id],
    )) as ChannelRecord[];
    return rows[0];
  }

  async existingChannelIds(ids: string[], db: Db = this.dataSource): Promise<Set<string>> {
    const rows = (await db.query(
      `SELECT id FROM notification_channels WHERE id = ANY($1::bigint[])`,
      [ids],
    )) as { id: string }[];
    return new Set(rows.map((r) => String(r.id)));
  }

  async enabledChannels(ids: string[], db: Db): Promise<ChannelRecord[]> {
    return (await db.query(
      `SELECT id, name, type, url, secret, enabled, disabled_reason, created_at
       FROM notification_channels WHERE id = ANY($1::bigint[]) AND enabled ORDER BY id`,
      [ids],
    )) as ChannelRecord[];
  }

  async insertChannel(
    c: { name: string; type: string; url: string; secret: string | null },
    actor: string,
    db: Db,
  ): Promise<ChannelRecord> {
    const rows = (await db.query(
      `INSERT INTO notification_channels (name, type, url, secret, created_by)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING id, name, type, url, secret, enabled, disabled_reason, created_at`,
      [c.name, c.type, c.url, c.secret, actor],
    )) as ChannelRecord[];
    return rows[0];
  }

  /** Deletes a channel, cancels its undelivered notifications and unlinks it from rules. */
  async deleteChannel(id: string, db: Db): Promise<boolean> {
    const [, count] = (await db.query(`DELETE FROM notification_channels WHERE id = $1`, [id])) as [
      unknown,
      number,
    ];
    if (count === 0) return false;
    await db.query(
      `UPDATE notification_deliveries SET status = 'cancelled', finished_at = now(),
         last_error = 'channel deleted', lease_until = NULL
       WHERE channel_id = $1 AND status IN ('pending', 'sending')`,
      [id],
    );
    await db.query(
      `UPDATE alert_rules SET channel_ids = array_remove(channel_ids, $1::bigint)
       WHERE $1::bigint = ANY(channel_ids)`,
      [id],
    );
    return true;
  }

  // --- silences ---

  async silences(includeExpired: boolean): Promise<SilenceRecord[]> {
    return (await this.dataSource.query(
      `SELECT * FROM alert_silences WHERE $1 OR until > now() ORDER BY id DESC`,
      [includeExpired],
    )) as SilenceRecord[];
  }

  /** Silences covering rule `ruleId` at time t (any trend key or a given one). */
  async activeSilences(ruleId: string, t: Date, db: Db): Promise<SilenceRecord[]> {
    return (await db.query(
      `SELECT * FROM alert_silences
       WHERE starts_at <= $2 AND until > $2 AND (rule_id IS NULL OR rule_id = $1)`,
      [ruleId, t],
    )) as SilenceRecord[];
  }

  async insertSilence(
    s: {
      ruleId: string | null;
      trendKey: string | null;
      startsAt: Date;
      until: Date;
      comment: string;
    },
    actor: string,
    db: Db,
  ): Promise<SilenceRecord> {
    const rows = (await db.query(
      `INSERT INTO alert_silences (rule_id, trend_key, starts_at, until, comment, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [s.ruleId, s.trendKey, s.startsAt, s.until, s.comment, actor],
    )) as SilenceRecord[];
    return rows[0];
  }

  async deleteSilence(id: string, db: Db): Promise<boolean> {
    const [, count] = (await db.query(`DELETE FROM alert_silences WHERE id = $1`, [id])) as [
      unknown,
      number,
    ];
    return count > 0;
  }
}
