import { EventEmitter2 } from '@nestjs/event-emitter';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { emitAndWait } from '../common/events';
import { withSession } from '../database/session';
import { JobOutcome, JobsService } from '../jobs/jobs.service';
import { JobTrigger } from '../jobs/job-names';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { AlertClock } from './alert-clock';
import { ALERT_TRANSITION, AlertState, AlertTransitionEvent } from './alert-events';
import { AlertsRepository, InstanceRecord, SilenceRecord } from './alerts.repository';
import { DeliveriesRepository } from './deliveries.repository';
import { EvaluationRow, evaluationQuery } from './evaluation-query';
import { NotificationType, bodyFor, newWebhookId } from './notification-body';
import { inQuietHours } from './quiet-hours';
import { RuleDef } from './rule';
import { notificationFor, step } from './state-machine';

export interface RuleEvaluation {
  transitions: number;
  notifications: number;
  suppressed: number;
}

const GAUGE_REFRESH_MS = 15_000;

/** statement_timeout of one rule's evaluation. */
const EVAL_TIMEOUT_MS = 30_000;

/**
 * Evaluates every enabled rule at t (the `alerts` job). Per rule, in one transaction: lock the
 * rule row, run its one set-based query, step each series' state machine, write instances,
 * events and outbox rows. Transitions are emitted to listeners after the commit.
 */
@Injectable()
export class EvaluatorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(EvaluatorService.name);

  constructor(
    private readonly repo: AlertsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly events: EventEmitter2,
    private readonly clock: AlertClock,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
    private readonly registry: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Every replica refreshes alerts_firing from the database, not only the one that ran the
    // last evaluation, so any replica's scrape is current.
    const gauge = setInterval(() => {
      void this.refreshFiringGauge().catch(() => undefined);
    }, GAUGE_REFRESH_MS);
    gauge.unref();
    this.registry.addInterval('alerts-firing-gauge', gauge);
    if (!this.config.jobs.enabled) {
      this.logger.log('schedule of alerts is off');
      return;
    }
    // An interval, not a cron: ALERTS_EVAL_INTERVAL_S need not divide a minute.
    const interval = setInterval(() => {
      void this.run('cron').catch((error: Error) =>
        this.logger.error(`alerts run could not start: ${error.message}`),
      );
    }, this.config.alerts.evalIntervalS * 1000);
    this.registry.addInterval('alerts', interval);
    this.logger.log(`scheduled alerts every ${this.config.alerts.evalIntervalS} s`);
  }

  /** One run of the `alerts` job (advisory lock, job_runs row) at the clock's time. */
  run(trigger: JobTrigger, at?: Date): Promise<JobOutcome<Record<string, unknown>>> {
    return this.jobs.run('alerts', trigger, async () => {
      const t = at ?? this.clock.now();
      return { at: t.toISOString(), ...(await this.evaluateAll(t)) };
    });
  }

  async evaluateAll(t: Date): Promise<RuleEvaluation & { rules: number; errors: number }> {
    const totals = { rules: 0, errors: 0, transitions: 0, notifications: 0, suppressed: 0 };
    for (const id of await this.repo.enabledRuleIds()) {
      totals.rules++;
      const started = performance.now();
      try {
        const result = await this.evaluateRule(id, t);
        totals.transitions += result.transitions;
        totals.notifications += result.notifications;
        totals.suppressed += result.suppressed;
        this.metrics.alertEvaluations.inc({ result: 'ok' });
      } catch (error) {
        totals.errors++;
        this.metrics.alertEvaluations.inc({ result: 'error' });
        this.logger.error(`evaluation of rule ${id} failed: ${(error as Error).message}`);
      } finally {
        this.metrics.alertEvaluationDuration.observe((performance.now() - started) / 1000);
      }
    }
    await this.refreshFiringGauge().catch(() => undefined);
    if (totals.errors > 0 && totals.errors === totals.rules) {
      throw new Error(`every rule evaluation failed (${totals.errors})`);
    }
    return totals;
  }

  async refreshFiringGauge(): Promise<void> {
    const rows = await this.repo.firingBySeverity();
    this.metrics.alertsFiring.reset();
    for (const severity of ['info', 'warning', 'critical']) {
      this.metrics.alertsFiring.set(
        { severity },
        rows.find((r) => r.severity === severity)?.n ?? 0,
      );
    }
  }

  /** Evaluates one rule at t; returns what changed. */
  async evaluateRule(id: string, t: Date): Promise<RuleEvaluation> {
    const emitted: AlertTransitionEvent[] = [];
    const result = await withSession(
      this.repo.dataSource,
      { transaction: true, statementTimeoutMs: EVAL_TIMEOUT_MS },
      async (runner) => {
        const db = runner.manager;
        // The row lock serializes evaluations of one rule (and edits of it).
        const rule = await this.repo.getRule(id, db, true);
        if (!rule || !rule.enabled) return { transitions: 0, notifications: 0, suppressed: 0 };
        return this.applyRule(rule, t, db, emitted);
      },
    );
    for (const event of emitted) await emitAndWait(this.events, ALERT_TRANSITION, event);
    return result;
  }

  /** Rows of the rule's query at t (no side effects): also what preview answers. */
  async query(
    rule: RuleDef,
    t: Date,
    activeKeys: string[],
    db: EntityManager,
  ): Promise<EvaluationRow[]> {
    const built = evaluationQuery(rule, t, this.config.alerts.maxSeriesPerRule, activeKeys);
    const rows = (await db.query(built.sql, built.params)) as EvaluationRow[];
    // Only the highest maxSeries series may be in a true condition at once.
    let kept = 0;
    return rows.map((r) => {
      const cond = r.cond && kept < this.config.alerts.maxSeriesPerRule;
      if (cond) kept++;
      return { ...r, cond };
    });
  }

  private async applyRule(
    rule: RuleDef,
    t: Date,
    db: EntityManager,
    emitted: AlertTransitionEvent[],
  ): Promise<RuleEvaluation> {
    const instances = new Map(
      (await this.repo.instances(rule.id, db)).map((i) => [i.trend_key, i] as const),
    );
    const rows = await this.query(rule, t, [...instances.keys()], db);
    const byKey = new Map(rows.map((r) => [r.trend_key, r] as const));
    const keys = new Set([
      ...rows.filter((r) => r.cond).map((r) => r.trend_key),
      ...instances.keys(),
    ]);
    const silences = await this.repo.activeSilences(rule.id, t, db);
    const quiet = inQuietHours(t, rule.quietHours);
    const channels = await this.repo.enabledChannels(rule.channelIds, db);
    const outcome: RuleEvaluation = { transitions: 0, notifications: 0, suppressed: 0 };

    for (const key of [...keys].sort()) {
      const row = byKey.get(key);
      const condition = row?.cond ?? false;
      const value = row?.value ?? null;
      const before = instances.get(key);
      const previous: AlertState = before ? before.state : 'normal';
      const next = step(
        before && { state: before.state, since: before.since, activeAt: before.active_at },
        condition,
        t,
        rule,
      );

      // Which notification this evaluation calls for, before suppression.
      let notification: NotificationType | undefined;
      let notified = before?.notified ?? false;
      let lastNotifiedAt = before?.last_notified_at ?? null;
      const transition = notificationFor(previous, next.next);
      if (transition === 'alert.firing') notification = 'alert.firing';
      else if (transition === 'alert.resolved' && notified) notification = 'alert.resolved';
      else if (next.next === 'firing' && previous === 'firing') {
        if (!notified)
          notification = 'alert.firing'; // held back by a silence or quiet hours
        else if (lastNotifiedAt && t.getTime() - lastNotifiedAt.getTime() >= rule.repeatIntervalMs)
          notification = 'alert.repeat';
      }
      if (next.next === previous && !notification) {
        if (before && value !== null && before.value !== value)
          await this.repo.upsertInstance({ ...before, value }, t, db);
        continue;
      }

      const suppressedBy = notification ? this.suppression(silences, key, quiet) : null;
      if (notification && !suppressedBy) {
        notified = notification !== 'alert.resolved';
        lastNotifiedAt = t;
      }
      const eventValue = value ?? before?.value ?? null;
      const eventId = await this.repo.insertEvent(
        {
          rule_id: rule.id,
          rule_name: rule.name,
          severity: rule.severity,
          trend_key: key,
          platform: rule.scope.platform,
          region: rule.scope.region,
          from_state: previous,
          to_state: next.next,
          value: eventValue,
          threshold: rule.threshold,
          since: next.since,
          at: t,
          notification: notification ?? null,
          suppressed: notification ? suppressedBy : null,
          reason: null,
        },
        db,
      );

      if (notification && suppressedBy) {
        outcome.suppressed++;
        for (const c of channels)
          this.metrics.alertNotifications.inc({ channel_type: c.type, result: 'suppressed' });
      } else if (notification) {
        for (const channel of channels) {
          await this.deliveries.insert(
            {
              webhookId: newWebhookId(),
              eventId,
              channelId: channel.id,
              type: notification,
              body: bodyFor(channel.type, {
                type: notification,
                at: t,
                rule,
                series: { trendKey: key, platform: rule.scope.platform, region: rule.scope.region },
                value: eventValue,
                threshold: rule.threshold,
                state: next.next,
                since: next.since,
              }),
            },
            db,
          );
          outcome.notifications++;
        }
      }

      if (next.next === 'normal') {
        if (before) await this.repo.deleteInstance(rule.id, key, db);
      } else {
        const instance: InstanceRecord = {
          rule_id: rule.id,
          trend_key: key,
          state: next.next,
          value: eventValue,
          since: next.since,
          active_at: next.activeAt,
          notified,
          last_notified_at: lastNotifiedAt,
        };
        await this.repo.upsertInstance(instance, t, db);
      }
      if (next.next !== previous) {
        outcome.transitions++;
        emitted.push({
          ruleId: rule.id,
          ruleName: rule.name,
          severity: rule.severity,
          state: next.next,
          previousState: previous,
          trendKey: key,
          platform: rule.scope.platform,
          region: rule.scope.region,
          value: eventValue,
          threshold: rule.threshold,
          since: next.since.toISOString(),
          at: t.toISOString(),
        });
      }
    }
    return outcome;
  }

  private suppression(silences: SilenceRecord[], key: string, quiet: boolean): string | null {
    const silence = silences.find((s) => s.trend_key === null || s.trend_key === key);
    if (silence) return `silence ${silence.id}`;
    return quiet ? 'quiet_hours' : null;
  }
}
