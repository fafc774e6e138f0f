import { EventEmitter2 } from '@nestjs/event-emitter';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { parseTimeParam } from '../common/time-window';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { badParameter } from '../common/field-errors';
import { WINDOWS } from '../common/time-window';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { emitAndWait } from '../common/events';
import { normalizeTrendKey } from '../trends/normalize';
import { AlertClock } from './alert-clock';
import { ALERT_TRANSITION, AlertTransitionEvent } from './alert-events';
import {
  AlertsRepository,
  ChannelRecord,
  EventRecord,
  RuleInput,
  SilenceRecord,
} from './alerts.repository';
import { decodeCursor, page } from './cursor';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryOutcome, DeliveryService } from './delivery.service';
import { parseRuleDuration, formatRuleDuration } from './durations';
import { PreviewRuleDto, RuleBodyDto } from './dto/rule.dto';
import { CreateChannelDto } from './dto/channel.dto';
import { CreateSilenceDto } from './dto/silence.dto';
import { evaluationWindows } from './evaluation-query';
import { EvaluatorService } from './evaluator.service';
import { bodyFor, newWebhookId } from './notification-body';
import { isValidTimeZone } from './quiet-hours';
import { RuleDef } from './rule';
import { TargetRefused, checkTarget } from './target-guard';
import { generateSecret, secretKey } from './webhook-signature';

const ID = /^\d{1,18}$/;

export const ruleView = (r: RuleDef) => ({
  id: String(r.id),
  name: r.name,
  kind: r.kind,
  metric: r.metric,
  window: r.window,
  scope: r.scope,
  threshold: r.threshold,
  minMentions: r.minMentions,
  baselineHours: r.baselineHours,
  for: formatRuleDuration(r.forMs),
  keepFiringFor: formatRuleDuration(r.keepFiringForMs),
  repeatInterval: formatRuleDuration(r.repeatIntervalMs),
  severity: r.severity,
  channels: r.channelIds.map(String),
  quietHours: r.quietHours,
  enabled: r.enabled,
  version: r.version,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export const channelView = (c: ChannelRecord) => ({
  id: String(c.id),
  name: c.name,
  type: c.type,
  url: c.url,
  hasSecret: c.secret !== null,
  enabled: c.enabled,
  disabledReason: c.disabled_reason,
  createdAt: c.created_at.toISOString(),
});

const eventView = (e: EventRecord) => ({
  id: String(e.id),
  ruleId: String(e.rule_id),
  ruleName: e.rule_name,
  severity: e.severity,
  trendKey: e.trend_key,
  platform: e.platform,
  region: e.region,
  previousState: e.from_state,
  state: e.to_state,
  value: e.value,
  threshold: e.threshold,
  since: e.since.toISOString(),
  at: e.at.toISOString(),
  notification: e.notification,
  suppressed: e.suppressed,
  reason: e.reason,
});

const silenceView = (s: SilenceRecord) => ({
  id: String(s.id),
  ruleId: s.rule_id === null ? null : String(s.rule_id),
  trendKey: s.trend_key,
  startsAt: s.starts_at.toISOString(),
  until: s.until.toISOString(),
  comment: s.comment,
  createdBy: s.created_by,
});

function checkId(id: string, what: string): string {
  if (!ID.test(id)) throw new NotFoundException(`${what} ${id} not found`);
  return id;
}

/** Rules, channels, silences, history and preview (SPEC §12). */
@Injectable()
export class AlertsService {
  constructor(
    private readonly repo: AlertsRepository,
    private readonly deliveriesRepo: DeliveriesRepository,
    private readonly delivery: DeliveryService,
    private readonly evaluator: EvaluatorService,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    private readonly clock: AlertClock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // --- rules ---

  /** Checks what the DTO cannot (durations, time zone, channels) and fills defaults. */
  private async toInput(body: RuleBodyDto, db: EntityManager | undefined): Promise<RuleInput> {
    const duration = (field: 'for' | 'keepFiringFor' | 'repeatInterval', fallback: number) => {
      const raw = body[field];
      if (raw === undefined) return fallback;
      const ms = parseRuleDuration(raw);
      if (ms === undefined) throw badParameter(field, `${field} must be a duration such as 10m`);
      return ms;
    };
    const repeatIntervalMs = duration('repeatInterval', 4 * 3_600_000);
    if (repeatIntervalMs < 60_000)
      throw badParameter('repeatInterval', 'repeatInterval must be at least 1m');
    if (body.quietHours && !isValidTimeZone(body.quietHours.timeZone)) {
      throw badParameter(
        'quietHours.timeZone',
        'quietHours.timeZone must be an IANA time zone, e.g. Europe/Berlin',
      );
    }
    const channelIds = [...new Set(body.channels ?? [])];
    if (channelIds.length > 0) {
      const known = await this.repo.existingChannelIds(channelIds, db ?? this.repo.dataSource);
      const unknown = channelIds.find((id) => !known.has(id));
      if (unknown !== undefined) throw badParameter('channels', `unknown channel ${unknown}`);
    }
    const trendKey = body.scope?.trendKey;
    return {
      name: body.name.trim(),
      kind: body.kind,
      metric: body.metric ?? 'mentions',
      window: body.window,
      scope: {
        trendKey: trendKey === undefined || trendKey === null ? null : normalizeTrendKey(trendKey),
        platform: body.scope?.platform ?? null,
        region: body.scope?.region ?? null,
      },
      threshold: body.threshold,
      minMentions: body.minMentions ?? 0,
      baselineHours: body.baselineHours ?? 168,
      forMs: duration('for', 0),
      keepFiringForMs: duration('keepFiringFor', 0),
      repeatIntervalMs,
      severity: body.severity ?? 'warning',
      channelIds,
      quietHours: body.quietHours
        ? {
            start: body.quietHours.start,
            end: body.quietHours.end,
            timeZone: body.quietHours.timeZone,
          }
        : null,
      enabled: body.enabled ?? true,
    };
  }

  async listRules() {
    return { items: (await this.repo.listRules()).map(ruleView) };
  }

  async getRule(id: string) {
    const rule = await this.repo.getRule(checkId(id, 'rule'));
    if (!rule) throw new NotFoundException(`rule ${id} not found`);
    return ruleView(rule);
  }

  async createRule(actor: string, body: RuleBodyDto) {
    const rule = await this.repo.dataSource.transaction(async (db) => {
      const input = await this.toInput(body, db);
      const created = await this.repo.insertRule(input, actor, db);
      await this.audit.record(
        actor,
        'alerts.rule.create',
        `rule:${created.id}`,
        ruleView(created),
        db,
      );
      return created;
    });
    return ruleView(rule);
  }

  /** Replaces a rule; its series go back to normal (recorded, no notification). */
  async updateRule(actor: string, id: string, body: RuleBodyDto) {
    checkId(id, 'rule');
    const emitted: AlertTransitionEvent[] = [];
    const rule = await this.repo.dataSource.transaction(async (db) => {
      const before = await this.repo.getRule(id, db, true);
      if (!before) throw new NotFoundException(`rule ${id} not found`);
      const input = await this.toInput(body, db);
      const updated = (await this.repo.updateRule(id, input, actor, db))!;
      await this.resetSeries(before, 'rule_edited', db, emitted);
      await this.audit.record(actor, 'alerts.rule.update', `rule:${id}`, ruleView(updated), db);
      return updated;
    });
    for (const e of emitted) await emitAndWait(this.events, ALERT_TRANSITION, e);
    return ruleView(rule);
  }

  async deleteRule(actor: string, id: string): Promise<void> {
    checkId(id, 'rule');
    const emitted: AlertTransitionEvent[] = [];
    await this.repo.dataSource.transaction(async (db) => {
      const before = await this.repo.getRule(id, db, true);
      if (!before) throw new NotFoundException(`rule ${id} not found`);
      await this.resetSeries(before, 'rule_deleted', db, emitted);
      await this.repo.deleteRule(id, db);
      await this.audit.record(actor, 'alerts.rule.delete', `rule:${id}`, { name: before.name }, db);
    });
    for (const e of emitted) await emitAndWait(this.events, ALERT_TRANSITION, e);
  }

  private async resetSeries(
    rule: RuleDef,
    reason: string,
    db: EntityManager,
    emitted: AlertTransitionEvent[],
  ) {
    const t = this.clock.now();
    for (const i of await this.repo.deleteInstances(rule.id, db)) {
      await this.repo.insertEvent(
        {
          rule_id: rule.id,
          rule_name: rule.name,
          severity: rule.severity,
          trend_key: i.trend_key,
          platform: rule.scope.platform,
          region: rule.scope.region,
          from_state: i.state,
          to_state: 'normal',
          value: i.value,
          threshold: rule.threshold,
          since: t,
          at: t,
          notification: null,
          suppressed: null,
          reason,
        },
        db,
      );
      emitted.push({
        ruleId: String(rule.id),
        ruleName: rule.name,
        severity: rule.severity,
        state: 'normal',
        previousState: i.state,
        trendKey: i.trend_key,
        platform: rule.scope.platform,
        region: rule.scope.region,
        value: i.value,
        threshold: rule.threshold,
        since: t.toISOString(),
        at: t.toISOString(),
      });
    }
  }

  /** Which series would have a true condition at `at`, with values; writes nothing. */
  async preview(body: PreviewRuleDto) {
    // A time without an offset is UTC, as on every other endpoint.
    const at = parseTimeParam(body.at, 'at') ?? this.clock.now();
    if (Number.isNaN(at.getTime())) throw badParameter('at', 'at must be an ISO 8601 timestamp');
    const input = await this.toInput(body, undefined);
    const rule: RuleDef = {
      ...input,
      id: '0',
      windowMs: WINDOWS[input.window],
      version: 0,
      createdAt: at,
      updatedAt: at,
    };
    const rows = await this.repo.dataSource.transaction('REPEATABLE READ', async (db) => {
      await db.query('SET TRANSACTION READ ONLY');
      return this.evaluator.query(rule, at, [], db);
    });
    const { current } = evaluationWindows(rule, at);
    return {
      at: at.toISOString(),
      from: current.from.toISOString(),
      to: current.to.toISOString(),
      items: rows
        .filter((r) => r.cond)
        .map((r) => ({
          trendKey: r.trend_key,
          platform: rule.scope.platform,
          region: rule.scope.region,
          value: r.value,
          current: r.current,
          previous: r.previous,
        })),
    };
  }

  // --- state and history ---

  async active() {
    const rows = await this.repo.active();
    return {
      items: rows.map((r) => ({
        rule: { id: String(r.rule_id), name: r.name, severity: r.severity, kind: r.kind },
        trendKey: r.trend_key,
        platform: r.scope_platform,
        region: r.scope_region,
        value: r.value,
        threshold: r.threshold,
        state: r.state,
        since: r.since.toISOString(),
      })),
    };
  }

  async history(query: { ruleId?: string; since?: string; limit: number; cursor?: string }) {
    if (query.ruleId !== undefined && !ID.test(query.ruleId))
      throw badParameter('ruleId', 'ruleId must be a rule id');
    const rows = await this.repo.events({
      ruleId: query.ruleId,
      since: parseTimeParam(query.since, 'since'),
      before: decodeCursor(query.cursor),
      limit: query.limit + 1,
    });
    const result = page(rows, query.limit, (e) => String(e.id));
    return { items: result.items.map(eventView), nextCursor: result.nextCursor };
  }

  async deliveries(query: { channelId?: string; status?: string; limit: number; cursor?: string }) {
    if (query.channelId !== undefined && !ID.test(query.channelId))
      throw badParameter('channelId', 'channelId must be a channel id');
    const rows = await this.deliveriesRepo.list({
      channelId: query.channelId,
      status: query.status,
      before: decodeCursor(query.cursor),
      limit: query.limit + 1,
    });
    const result = page(rows, query.limit, (r) => String(r.delivery.id));
    return {
      items: result.items.map(({ delivery: d, attempts }) => ({
        id: String(d.id),
        webhookId: d.webhook_id,
        eventId: d.event_id === null ? null : String(d.event_id),
        channelId: String(d.channel_id),
        type: d.type,
        status: d.status,
        attempts: d.attempts,
        nextAttemptAt: d.status === 'pending' ? d.next_attempt_at.toISOString() : null,
        lastStatusCode: d.last_status_code,
        lastError: d.last_error,
        createdAt: d.created_at.toISOString(),
        finishedAt: d.finished_at?.toISOString() ?? null,
        attemptLog: attempts.map((a) => ({
          attempt: a.attempt,
          at: a.at.toISOString(),
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          error: a.error,
          nextAttemptAt: a.next_attempt_at?.toISOString() ?? null,
        })),
      })),
      nextCursor: result.nextCursor,
    };
  }

  // --- channels ---

  async listChannels() {
    return { items: (await this.repo.channels()).map(channelView) };
  }

  async createChannel(actor: string, body: CreateChannelDto) {
    try {
      await checkTarget(body.url, this.config.alerts.allowPrivateTargets);
    } catch (error) {
      if (error instanceof TargetRefused) throw badParameter('url', error.message);
      throw error;
    }
    let secret: string | null = null;
    if (body.type === 'webhook') {
      if (body.secret !== undefined && !secretKey(body.secret)) {
        throw badParameter('secret', 'secret must be whsec_ followed by base64 of 24 to 64 bytes');
      }
      secret = body.secret ?? generateSecret();
    } else if (body.secret !== undefined) {
      throw badParameter('secret', 'slack channels take no secret');
    }
    const channel = await this.repo.dataSource.transaction(async (db) => {
      const created = await this.repo.insertChannel(
        { name: body.name.trim(), type: body.type, url: body.url, secret },
        actor,
        db,
      );
      // Webhook URLs can carry credentials (Slack's do): the audit log keeps only the host.
      await this.audit.record(
        actor,
        'alerts.channel.create',
        `channel:${created.id}`,
        { name: created.name, type: created.type, host: new URL(created.url).host },
        db,
      );
      return created;
    });
    // The only answer that shows the secret.
    return { ...channelView(channel), secret };
  }

  async deleteChannel(actor: string, id: string): Promise<void> {
    checkId(id, 'channel');
    await this.repo.dataSource.transaction(async (db) => {
      if (!(await this.repo.deleteChannel(id, db)))
        throw new NotFoundException(`channel ${id} not found`);
      await this.audit.record(actor, 'alerts.channel.delete', `channel:${id}`, null, db);
    });
  }

  /** Sends an `alert.test` notification now (recorded as a one-attempt delivery). */
  async testChannel(actor: string, id: string) {
    checkId(id, 'channel');
    const channel = await this.repo.channel(id);
    if (!channel) throw new NotFoundException(`channel ${id} not found`);
    const at = new Date();
    const claimed = await this.repo.dataSource.transaction(async (db) => {
      const created = await this.deliveriesRepo.insertClaimed(
        {
          webhookId: newWebhookId(),
          channelId: channel.id,
          type: 'alert.test',
          body: bodyFor(channel.type, {
            type: 'alert.test',
            at,
            rule: {
              id: '0',
              name: 'test',
              kind: 'threshold',
              metric: 'mentions',
              window: '1h',
              severity: 'info',
            },
            series: { trendKey: 'test', platform: null, region: null },
            value: null,
            threshold: 0,
            state: 'firing',
            since: at,
          }),
        },
        db,
      );
      await this.audit.record(
        actor,
        'alerts.channel.test',
        `channel:${id}`,
        { deliveryId: String(created.id) },
        db,
      );
      return created;
    });
    const outcome: DeliveryOutcome = await this.delivery.deliverOnce(claimed);
    return {
      deliveryId: String(claimed.id),
      webhookId: outcome.webhookId,
      ok: outcome.status === 'succeeded',
      statusCode: outcome.statusCode,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
    };
  }

  // --- silences ---

  async listSilences(includeExpired: boolean) {
    return { items: (await this.repo.silences(includeExpired)).map(silenceView) };
  }

  async createSilence(actor: string, body: CreateSilenceDto) {
    if (body.ruleId === undefined && body.trendKey === undefined) {
      throw badParameter('ruleId', 'a silence needs ruleId, trendKey or both');
    }
    const startsAt = parseTimeParam(body.startsAt, 'startsAt') ?? new Date();
    const until = parseTimeParam(body.until, 'until') as Date;
    if (until <= startsAt)
      throw badParameter('until', 'until must be after startsAt (default now)');
    const silence = await this.repo.dataSource.transaction(async (db) => {
      if (body.ruleId !== undefined && !(await this.repo.getRule(body.ruleId, db))) {
        throw badParameter('ruleId', `unknown rule ${body.ruleId}`);
      }
      const created = await this.repo.insertSilence(
        {
          ruleId: body.ruleId ?? null,
          trendKey: body.trendKey === undefined ? null : normalizeTrendKey(body.trendKey),
          startsAt,
          until,
          comment: body.comment,
        },
        actor,
        db,
      );
      await this.audit.record(
        actor,
        'alerts.silence.create',
        `silence:${created.id}`,
        silenceView(created),
        db,
      );
      return created;
    });
    return silenceView(silence);
  }

  async deleteSilence(actor: string, id: string): Promise<void> {
    checkId(id, 'silence');
    await this.repo.dataSource.transaction(async (db) => {
      if (!(await this.repo.deleteSilence(id, db)))
        throw new NotFoundException(`silence ${id} not found`);
      await this.audit.record(actor, 'alerts.silence.delete', `silence:${id}`, null, db);
    });
  }
}
