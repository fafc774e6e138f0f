import { useState } from 'preact/hooks';
import { FormErrors, Section, Select, Status, TextInput } from '../components/ui';
import { useApp, useLoad } from '../context';
import { api, itemsOf } from '../lib/api';
import { RuleForm, editableRule, ruleBody } from '../lib/alert-rule';
import { formatCount, formatTime } from '../lib/format';

/** Shapes of SPEC §12, read defensively: the alerts API is a separate module. */
interface AlertSeries {
  ruleId?: string;
  rule?: { id?: string; name?: string } | string;
  ruleName?: string;
  trendKey?: string | null;
  platform?: string | null;
  region?: string | null;
  value?: number;
  state: string;
  since?: string;
  severity?: string;
}
interface AlertEvent extends AlertSeries {
  id: string;
  from?: string;
  to?: string;
  fromState?: string;
  toState?: string;
  at?: string;
  createdAt?: string;
  suppressed?: boolean;
}
interface Rule {
  id: string;
  name: string;
  kind: string;
  metric: string;
  window: string;
  threshold: number;
  minMentions?: number;
  severity: string;
  enabled: boolean;
  channels: string[];
  scope?: { trendKey: string | null; platform: string | null; region: string | null };
}
interface Channel {
  id: string;
  name: string;
  type: string;
  url: string;
  enabled?: boolean;
  disabled?: boolean;
}
interface Silence {
  id: string;
  ruleId?: string | null;
  trendKey?: string | null;
  until: string;
  comment?: string;
}
interface Delivery {
  id: string;
  channelId: string;
  status: string;
  attempts?: number | unknown[];
  lastStatusCode?: number | null;
  statusCode?: number | null;
  latencyMs?: number | null;
  error?: string | null;
  nextAttemptAt?: string | null;
  createdAt?: string;
  type?: string;
}

const ruleName = (a: AlertSeries) =>
  a.ruleName ?? (typeof a.rule === 'string' ? a.rule : a.rule?.name) ?? a.ruleId ?? '—';
const seriesName = (a: Pick<AlertSeries, 'trendKey' | 'platform' | 'region'>) =>
  [a.trendKey ?? 'all trends', a.platform ?? 'all platforms', a.region ?? 'all regions'].join(
    ' · ',
  );

const NOT_AVAILABLE = 'The alerts API is not available on this server.';

export function AlertsView() {
  const { capabilities, admin } = useApp();
  if (!capabilities.alerts) {
    return (
      <div class="view">
        <Section title="Alerts" id="alerts-unavailable">
          <p class="note" role="status" data-testid="alerts-unavailable">
            {NOT_AVAILABLE} Alert rules, history and deliveries appear here once the service has the
            alerts module.
          </p>
        </Section>
      </div>
    );
  }
  return (
    <div class="view">
      <FiringPanel />
      <RulesPanel admin={admin} />
      {admin && <ChannelsPanel />}
      {admin && <SilencesPanel />}
      <HistoryPanel />
      {admin && <DeliveriesPanel />}
    </div>
  );
}

function FiringPanel() {
  const firing = useLoad(
    (signal) => api('/api/v1/alerts', { signal }).then((b) => itemsOf<AlertSeries>(b)),
    [],
    'alerts',
  );
  return (
    <Section title="Firing now" id="alerts-firing">
      <Status
        loading={firing.loading && !firing.data}
        error={firing.error}
        notAvailable={NOT_AVAILABLE}
        empty={firing.data?.length === 0}
        emptyText="Nothing pending or firing."
      />
      {firing.data && firing.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="alerts-firing-table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Series</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Value
                </th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {firing.data.map((a, i) => (
                <tr key={`${ruleName(a)}-${seriesName(a)}-${i}`}>
                  <td>{ruleName(a)}</td>
                  <td>{seriesName(a)}</td>
                  <td>
                    <span class={`badge ${a.state}`}>{a.state}</span>
                  </td>
                  <td class="num">{formatCount(a.value)}</td>
                  <td>{formatTime(a.since)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function HistoryPanel() {
  const events = useLoad(
    (signal) =>
      api('/api/v1/alerts/events', { query: { limit: 50 }, signal }).then((b) =>
        itemsOf<AlertEvent>(b),
      ),
    [],
    'alerts',
  );
  return (
    <Section title="History" id="alerts-history">
      <Status
        loading={events.loading && !events.data}
        error={events.error}
        notAvailable={NOT_AVAILABLE}
        empty={events.data?.length === 0}
        emptyText="No alert transitions yet."
      />
      {events.data && events.data.length > 0 && (
        <div class="table-wrap tall">
          <table data-testid="alerts-history-table">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Rule</th>
                <th scope="col">Series</th>
                <th scope="col">Transition</th>
                <th scope="col" class="num">
                  Value
                </th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at ?? e.createdAt ?? e.since, true)}</td>
                  <td>{ruleName(e)}</td>
                  <td>{seriesName(e)}</td>
                  <td>
                    {e.fromState ?? e.from ?? '?'} → {e.toState ?? e.to ?? e.state}
                    {e.suppressed ? ' (notification suppressed)' : ''}
                  </td>
                  <td class="num">{formatCount(e.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

const KINDS = ['threshold', 'growth', 'spike', 'new_trend'];
const ALERT_WINDOWS = ['15m', '1h', '6h', '24h'];
const SEVERITIES = ['info', 'warning', 'critical'];

const emptyRule: RuleForm = {
  name: '',
  kind: 'threshold',
  metric: 'mentions',
  window: '1h',
  threshold: '',
  minMentions: '',
  trendKey: '',
  platform: '',
  region: '',
  severity: 'warning',
  channels: [],
};

function RulesPanel(props: { admin: boolean }) {
  const rules = useLoad(
    (signal) => api('/api/v1/alerts/rules', { signal }).then((b) => itemsOf<Rule>(b)),
    [],
    'alerts',
  );
  const channels = useLoad(
    (signal) => api('/api/v1/alerts/channels', { signal }).then((b) => itemsOf<Channel>(b)),
    [],
    undefined,
    props.admin,
  );
  const [form, setForm] = useState<RuleForm>(emptyRule);
  const [error, setError] = useState<Error | undefined>();
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<RuleForm>) => setForm((f) => ({ ...f, ...patch }));

  const create = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    try {
      await api('/api/v1/alerts/rules', { method: 'POST', body: ruleBody(form) });
      setForm(emptyRule);
      rules.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  const remove = async (rule: Rule) => {
    if (!window.confirm(`Delete the rule “${rule.name}”?`)) return;
    try {
      await api(`/api/v1/alerts/rules/${encodeURIComponent(rule.id)}`, { method: 'DELETE' });
    } catch (err) {
      setError(err as Error);
    }
    rules.reload();
  };
  const toggle = async (rule: Rule) => {
    try {
      await api(`/api/v1/alerts/rules/${encodeURIComponent(rule.id)}`, {
        method: 'PUT',
        body: {
          ...editableRule(rule as unknown as Record<string, unknown>),
          enabled: !rule.enabled,
        },
      });
    } catch (err) {
      setError(err as Error);
    }
    rules.reload();
  };

  return (
    <Section title="Rules" id="alerts-rules">
      <Status
        loading={rules.loading && !rules.data}
        error={rules.error}
        notAvailable={NOT_AVAILABLE}
        empty={rules.data?.length === 0}
        emptyText="No alert rules yet."
      />
      {rules.data && rules.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="alert-rules-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Condition</th>
                <th scope="col">Scope</th>
                <th scope="col">Severity</th>
                <th scope="col">Enabled</th>
                {props.admin && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rules.data.map((rule) => (
                <tr key={rule.id} data-rule-name={rule.name}>
                  <td>{rule.name}</td>
                  <td>
                    {rule.kind} of {rule.metric} over {rule.window} ≥ {formatCount(rule.threshold)}
                  </td>
                  <td>{rule.scope ? seriesName(rule.scope) : '—'}</td>
                  <td>{rule.severity}</td>
                  <td>{rule.enabled ? 'yes' : 'no'}</td>
                  {props.admin && (
                    <td class="actions" data-admin>
                      <button type="button" onClick={() => void toggle(rule)}>
                        {rule.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <button
                        type="button"
                        class="danger"
                        onClick={() => void remove(rule)}
                        aria-label={`Delete rule ${rule.name}`}
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.admin && (
        <form
          class="editor"
          data-admin
          data-testid="rule-editor"
          onSubmit={(e) => void create(e)}
          aria-label="New alert rule"
        >
          <h3>New rule</h3>
          <div class="controls">
            <TextInput
              id="rule-name"
              label="Name"
              value={form.name}
              onChange={(name) => set({ name })}
              required
            />
            <Select
              id="rule-kind"
              label="Kind"
              value={form.kind}
              options={KINDS}
              onChange={(kind) => set({ kind })}
            />
            <Select
              id="rule-metric"
              label="Metric"
              value={form.metric}
              options={['mentions', 'engagement']}
              onChange={(metric) => set({ metric })}
            />
            <Select
              id="rule-window"
              label="Window"
              value={form.window}
              options={ALERT_WINDOWS}
              onChange={(w) => set({ window: w })}
            />
            <TextInput
              id="rule-threshold"
              label="Threshold"
              value={form.threshold}
              onChange={(threshold) => set({ threshold })}
              hint="growth 2.0 = +200%"
              required
            />
            <TextInput
              id="rule-min-mentions"
              label="Minimum mentions"
              value={form.minMentions}
              onChange={(minMentions) => set({ minMentions })}
            />
            <TextInput
              id="rule-trend"
              label="Trend key"
              value={form.trendKey}
              placeholder="every trend"
              onChange={(trendKey) => set({ trendKey })}
            />
            <TextInput
              id="rule-platform"
              label="Platform"
              value={form.platform}
              placeholder="all"
              onChange={(platform) => set({ platform })}
            />
            <TextInput
              id="rule-region"
              label="Region"
              value={form.region}
              placeholder="all"
              onChange={(region) => set({ region })}
            />
            <Select
              id="rule-severity"
              label="Severity"
              value={form.severity}
              options={SEVERITIES}
              onChange={(severity) => set({ severity })}
            />
          </div>
          {(channels.data ?? []).length > 0 && (
            <fieldset>
              <legend>Notify channels</legend>
              {(channels.data ?? []).map((c) => (
                <label key={c.id} class="check">
                  <input
                    type="checkbox"
                    checked={form.channels.includes(c.id)}
                    onChange={(e) =>
                      set({
                        channels: (e.currentTarget as HTMLInputElement).checked
                          ? [...form.channels, c.id]
                          : form.channels.filter((id) => id !== c.id),
                      })
                    }
                  />{' '}
                  {c.name} ({c.type})
                </label>
              ))}
            </fieldset>
          )}
          <FormErrors error={error} />
          <button type="submit" disabled={saving}>
            {saving ? 'Creating…' : 'Create rule'}
          </button>
        </form>
      )}
    </Section>
  );
}

function ChannelsPanel() {
  const channels = useLoad(
    (signal) => api('/api/v1/alerts/channels', { signal }).then((b) => itemsOf<Channel>(b)),
    [],
  );
  const [name, setName] = useState('');
  const [type, setType] = useState('webhook');
  const [url, setUrl] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [secret, setSecret] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSecret(null);
    try {
      const created = await api<{ secret?: string }>('/api/v1/alerts/channels', {
        method: 'POST',
        body: { name: name.trim(), type, url: url.trim() },
      });
      setSecret(created?.secret ?? null);
      setName('');
      setUrl('');
      channels.reload();
    } catch (err) {
      setError(err as Error);
    }
  };
  const act = async (label: string, path: string, method: string) => {
    setNote(null);
    try {
      await api(path, { method });
      setNote(`${label}: done`);
    } catch (err) {
      setNote(`${label}: ${(err as Error).message}`);
    }
    channels.reload();
  };

  return (
    <Section title="Notification channels" id="alerts-channels">
      <Status
        loading={channels.loading && !channels.data}
        error={channels.error}
        notAvailable={NOT_AVAILABLE}
        empty={channels.data?.length === 0}
        emptyText="No channels yet."
      />
      {note && (
        <p class="note" role="status">
          {note}
        </p>
      )}
      {channels.data && channels.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="channels-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">URL</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {channels.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    {c.name}
                    {c.disabled || c.enabled === false ? ' (disabled)' : ''}
                  </td>
                  <td>{c.type}</td>
                  <td class="wrap">{c.url}</td>
                  <td class="actions" data-admin>
                    <button
                      type="button"
                      onClick={() =>
                        void act(
                          `Test ${c.name}`,
                          `/api/v1/alerts/channels/${encodeURIComponent(c.id)}/test`,
                          'POST',
                        )
                      }
                    >
                      Send test
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        window.confirm(`Delete channel “${c.name}”?`) &&
                        void act(
                          `Delete ${c.name}`,
                          `/api/v1/alerts/channels/${encodeURIComponent(c.id)}`,
                          'DELETE',
                        )
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        class="editor"
        data-admin
        onSubmit={(e) => void create(e)}
        aria-label="New notification channel"
      >
        <h3>New channel</h3>
        <div class="controls">
          <TextInput id="channel-name" label="Name" value={name} onChange={setName} required />
          <Select
            id="channel-type"
            label="Type"
            value={type}
            options={['webhook', 'slack']}
            onChange={setType}
          />
          <TextInput
            id="channel-url"
            label="URL"
            value={url}
            onChange={setUrl}
            type="url"
            required
          />
        </div>
        <FormErrors error={error} />
        {secret && (
          <p class="note" role="status">
            Signing secret (shown once): <code class="secret">{secret}</code>
          </p>
        )}
        <button type="submit">Create channel</button>
      </form>
    </Section>
  );
}

function SilencesPanel() {
  const silences = useLoad(
    (signal) => api('/api/v1/alerts/silences', { signal }).then((b) => itemsOf<Silence>(b)),
    [],
    'alerts',
  );
  const [ruleId, setRuleId] = useState('');
  const [trendKey, setTrendKey] = useState('');
  const [hours, setHours] = useState('2');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error | undefined>();

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const until = new Date(Date.now() + Number(hours) * 3600_000).toISOString();
    try {
      await api('/api/v1/alerts/silences', {
        method: 'POST',
        body: {
          ruleId: ruleId.trim() || null,
          trendKey: trendKey.trim() || null,
          until,
          comment: comment.trim(),
        },
      });
      setComment('');
      silences.reload();
    } catch (err) {
      setError(err as Error);
    }
  };
  const remove = async (id: string) => {
    try {
      await api(`/api/v1/alerts/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
    } catch (err) {
      setError(err as Error);
    }
    silences.reload();
  };

  return (
    <Section title="Silences" id="alerts-silences">
      <Status
        loading={silences.loading && !silences.data}
        error={silences.error}
        notAvailable={NOT_AVAILABLE}
        empty={silences.data?.length === 0}
        emptyText="No silences."
      />
      {silences.data && silences.data.length > 0 && (
        <ul class="results">
          {silences.data.map((s) => (
            <li key={s.id}>
              {s.ruleId ? `rule ${s.ruleId}` : 'every rule'} · {s.trendKey ?? 'every trend'} · until{' '}
              {formatTime(s.until)}
              {s.comment ? ` — ${s.comment}` : ''}{' '}
              <button type="button" class="danger" data-admin onClick={() => void remove(s.id)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="editor" data-admin onSubmit={(e) => void create(e)} aria-label="New silence">
        <h3>New silence</h3>
        <div class="controls">
          <TextInput
            id="silence-rule"
            label="Rule id"
            value={ruleId}
            placeholder="every rule"
            onChange={setRuleId}
          />
          <TextInput
            id="silence-trend"
            label="Trend key"
            value={trendKey}
            placeholder="every trend"
            onChange={setTrendKey}
          />
          <Select
            id="silence-hours"
            label="For"
            value={hours}
            options={[
              { value: '1', label: '1 hour' },
              { value: '2', label: '2 hours' },
              { value: '8', label: '8 hours' },
              { value: '24', label: '24 hours' },
              { value: '168', label: '7 days' },
            ]}
            onChange={setHours}
          />
          <TextInput id="silence-comment" label="Comment" value={comment} onChange={setComment} />
        </div>
        <FormErrors error={error} />
        <button type="submit">Create silence</button>
      </form>
    </Section>
  );
}

function DeliveriesPanel() {
  const deliveries = useLoad(
    (signal) =>
      api('/api/v1/alerts/deliveries', { query: { limit: 50 }, signal }).then((b) =>
        itemsOf<Delivery>(b),
      ),
    [],
    'alerts',
  );
  return (
    <Section
      title="Deliveries"
      id="alerts-deliveries"
      actions={
        <button type="button" onClick={deliveries.reload}>
          Refresh
        </button>
      }
    >
      <Status
        loading={deliveries.loading && !deliveries.data}
        error={deliveries.error}
        notAvailable={NOT_AVAILABLE}
        empty={deliveries.data?.length === 0}
        emptyText="No notifications sent yet."
      />
      {deliveries.data && deliveries.data.length > 0 && (
        <div class="table-wrap tall">
          <table data-testid="deliveries-table">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col" class="num">
                  HTTP
                </th>
                <th scope="col">Next attempt</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.map((d) => (
                <tr key={d.id}>
                  <td>{formatTime(d.createdAt, true)}</td>
                  <td>{d.channelId}</td>
                  <td>
                    <span class={`badge ${d.status}`}>{d.status}</span>
                  </td>
                  <td class="num">
                    {Array.isArray(d.attempts)
                      ? d.attempts.length
                      : formatCount(d.attempts as number | undefined)}
                  </td>
                  <td class="num">{d.lastStatusCode ?? d.statusCode ?? '—'}</td>
                  <td>{formatTime(d.nextAttemptAt)}</td>
                  <td class="wrap">{d.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
