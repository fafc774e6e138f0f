import { randomBytes } from 'node:crypto';
import { RuleDef } from './rule';

export type NotificationType = 'alert.firing' | 'alert.resolved' | 'alert.repeat' | 'alert.test';

export interface NotificationFacts {
  type: NotificationType;
  /** When the notification was decided (the evaluation time). */
  at: Date;
  rule: Pick<RuleDef, 'id' | 'name' | 'kind' | 'metric' | 'window' | 'severity'>;
  series: { trendKey: string; platform: string | null; region: string | null };
  value: number | null;
  threshold: number;
  state: string;
  since: Date;
}

/** A Standard Webhooks message id: unique per notification × channel, same on every retry. */
export const newWebhookId = () => `msg_${randomBytes(16).toString('hex')}`;

/** The JSON body of a webhook (SPEC §12); fixed when the outbox row is written. */
export function webhookBody(n: NotificationFacts): string {
  return JSON.stringify({
    type: n.type,
    timestamp: n.at.toISOString(),
    data: {
      // Only the fields a receiver needs (never channel ids or other rule internals).
      rule: {
        id: n.rule.id,
        name: n.rule.name,
        kind: n.rule.kind,
        metric: n.rule.metric,
        window: n.rule.window,
        severity: n.rule.severity,
      },
      series: n.series,
      value: n.value,
      threshold: n.threshold,
      state: n.state,
      since: n.since.toISOString(),
      links: {
        rule: `/api/v1/alerts/rules/${n.rule.id}`,
        alerts: '/api/v1/alerts',
        series: `/api/v1/trends/${encodeURIComponent(n.series.trendKey)}/series`,
      },
    },
  });
}

const LABEL: Record<NotificationType, string> = {
  'alert.firing': 'FIRING',
  'alert.resolved': 'RESOLVED',
  'alert.repeat': 'STILL FIRING',
  'alert.test': 'TEST',
};

const format = (v: number | null) =>
  v === null ? 'n/a' : Number.isInteger(v) ? String(v) : v.toPrecision(4);

/** Slack-compatible body (`{"text"}`; Discord's /slack endpoints accept it too). */
export function slackBody(n: NotificationFacts): string {
  const where = [n.series.platform ?? 'all platforms', n.series.region ?? 'all regions'].join(', ');
  const text =
    n.type === 'alert.test'
      ? `[TEST] trend-service can reach this channel (${n.at.toISOString()})`
      : `[${LABEL[n.type]}] ${n.rule.severity}: ${n.rule.name} — "${n.series.trendKey}" ` +
        `${n.rule.kind} ${n.rule.metric} over ${n.rule.window} = ${format(n.value)} ` +
        `(threshold ${format(n.threshold)}; ${where}) since ${n.since.toISOString()}`;
  return JSON.stringify({ text });
}

export const bodyFor = (channelType: string, n: NotificationFacts) =>
  channelType === 'slack' ? slackBody(n) : webhookBody(n);
