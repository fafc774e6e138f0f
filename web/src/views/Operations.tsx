import { useState } from 'preact/hooks';
import { Section, Status } from '../components/ui';
import { useApp, useLoad } from '../context';
import { ApiError, api, itemsOf } from '../lib/api';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatTime,
} from '../lib/format';

interface Component {
  status: string;
  [key: string]: unknown;
}
interface HealthReport {
  status: string;
  details?: Record<string, Component>;
}
interface StatusAnswer {
  version: string;
  phase: string;
  uptimeSeconds: number;
  components: Record<string, Component>;
  ingest: { ratePerSecond: number; windowSeconds: number; scope: string };
  cache: { hitRate: number | null };
}
interface CacheStats {
  connected: boolean;
  hits: number;
  misses: number;
  hitRate: number | null;
  keys: number | null;
  memoryBytes: number | null;
}
interface JobRun {
  id: string;
  job: string;
  trigger: string;
  status: string;
  startedAt: string;
  durationMs: number | null;
  error: string | null;
}
interface Backup {
  id: string;
  status: string;
  sizeBytes: number | null;
  encrypted: boolean;
  trigger: string;
  startedAt: string;
  verifiedAt: string | null;
  deletedAt: string | null;
  error: string | null;
  verification?: { status?: string; restoreDurationMs?: number } | null;
}

/** Verify runs in the background (202): follow the backup until its verification ends. */
async function verifyAndWait(id: string): Promise<string> {
  const path = `/api/v1/admin/backups/${encodeURIComponent(id)}`;
  await api(`${path}/verify`, { method: 'POST' });
  for (let i = 0; i < 600; i++) {
    const backup = await api<Backup>(path);
    const status = backup.verification?.status;
    if (status && status !== 'running') {
      const took = backup.verification?.restoreDurationMs;
      return took === undefined ? status : `${status} (restore ${formatMs(took)})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return 'still running (see the backup list)';
}
interface Partition {
  table: string;
  partition: string;
  from: string | null;
  to: string | null;
  estimatedRows: number;
  bytes: number;
  isDefault: boolean;
}

/** The health report comes back with 503 when a required check fails: still worth showing. */
async function loadHealth(signal: AbortSignal): Promise<HealthReport> {
  try {
    return await api<HealthReport>('/health', { signal });
  } catch (error) {
    if (
      error instanceof ApiError &&
      error.status === 503 &&
      error.body &&
      typeof error.body === 'object'
    ) {
      const body = error.body as HealthReport & { details?: unknown };
      if (body.details) return body;
    }
    throw error;
  }
}

const detailOf = (component: Component): string => {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(component)) {
    if (key === 'status' || value === null || typeof value === 'object') continue;
    parts.push(`${key}: ${typeof value === 'number' ? formatCount(value) : String(value)}`);
  }
  return parts.join(' · ');
};

export function OperationsView() {
  const { admin } = useApp();
  const health = useLoad(loadHealth, []);
  return (
    <div class="view">
      <Section
        title="Health"
        id="health"
        actions={
          <button type="button" onClick={health.reload}>
            Refresh
          </button>
        }
      >
        <Status loading={health.loading && !health.data} error={health.error} />
        {health.data && (
          <ul class="components" data-testid="health-components">
            {Object.entries(health.data.details ?? {}).map(([name, component]) => (
              <li key={name} class={component.status === 'up' ? 'ok' : 'bad'}>
                <strong>{name}</strong> <span class="badge">{component.status}</span>{' '}
                <span class="muted">{detailOf(component)}</span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {admin ? (
        <AdminOperations />
      ) : (
        <p class="note">Cache, jobs, backups and partitions are shown to the admin role.</p>
      )}
    </div>
  );
}

function AdminOperations() {
  const status = useLoad((signal) => api<StatusAnswer>('/monitoring/status', { signal }), []);
  const cache = useLoad((signal) => api<CacheStats>('/api/v1/admin/cache', { signal }), []);
  const jobs = useLoad(
    (signal) =>
      api('/api/v1/admin/jobs', { query: { limit: 20 }, signal }).then((b) => itemsOf<JobRun>(b)),
    [],
  );
  const partitions = useLoad(
    (signal) =>
      api('/api/v1/admin/retention/partitions', { signal }).then((b) => itemsOf<Partition>(b)),
    [],
  );
  return (
    <div data-admin class="stack">
      <Section title="Service" id="service">
        <Status loading={status.loading && !status.data} error={status.error} />
        {status.data && (
          <dl class="tiles" data-testid="service-status">
            <div>
              <dt>Version</dt>
              <dd>{status.data.version}</dd>
            </div>
            <div>
              <dt>Phase</dt>
              <dd>{status.data.phase}</dd>
            </div>
            <div>
              <dt>Uptime</dt>
              <dd>{formatDuration(status.data.uptimeSeconds)}</dd>
            </div>
            <div>
              <dt>Ingest rate</dt>
              <dd>{formatCount(Math.round(status.data.ingest.ratePerSecond * 100) / 100)}/s</dd>
            </div>
            <div>
              <dt>Cache hit rate</dt>
              <dd data-testid="cache-hit-rate">
                {formatPercent(cache.data?.hitRate ?? status.data.cache.hitRate)}
              </dd>
            </div>
          </dl>
        )}
        {cache.data && (
          <p class="caption">
            Cache {cache.data.connected ? 'connected' : 'not connected'}:{' '}
            {formatCount(cache.data.hits)} hits, {formatCount(cache.data.misses)} misses
            {cache.data.keys !== null && <>, {formatCount(cache.data.keys)} keys</>}
            {cache.data.memoryBytes !== null && <>, {formatBytes(cache.data.memoryBytes)}</>}
          </p>
        )}
      </Section>
      <Section
        title="Jobs"
        id="jobs"
        actions={
          <button type="button" onClick={jobs.reload}>
            Refresh
          </button>
        }
      >
        <Status
          loading={jobs.loading && !jobs.data}
          error={jobs.error}
          empty={jobs.data?.length === 0}
          emptyText="No job has run yet."
        />
        {jobs.data && jobs.data.length > 0 && (
          <div class="table-wrap">
            <table data-testid="jobs-table">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col" class="num">
                    Duration
                  </th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.map((run) => (
                  <tr key={run.id}>
                    <td>{run.job}</td>
                    <td>{run.trigger}</td>
                    <td>
                      <span class={`badge ${run.status}`}>{run.status}</span>
                    </td>
                    <td>{formatTime(run.startedAt, true)}</td>
                    <td class="num">{formatMs(run.durationMs)}</td>
                    <td class="wrap">{run.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <BackupsPanel />
      <Section title="Partitions" id="partitions">
        <Status
          loading={partitions.loading && !partitions.data}
          error={partitions.error}
          empty={partitions.data?.length === 0}
        />
        {partitions.data && partitions.data.length > 0 && (
          <div class="table-wrap tall">
            <table data-testid="partitions-table">
              <thead>
                <tr>
                  <th scope="col">Table</th>
                  <th scope="col">Partition</th>
                  <th scope="col">Range (UTC)</th>
                  <th scope="col" class="num">
                    Rows (est.)
                  </th>
                  <th scope="col" class="num">
                    Size
                  </th>
                </tr>
              </thead>
              <tbody>
                {partitions.data.map((p) => (
                  <tr key={p.partition}>
                    <td>{p.table}</td>
                    <td>{p.partition}</td>
                    <td>
                      {p.isDefault ? 'DEFAULT' : `${formatTime(p.from)} – ${formatTime(p.to)}`}
                    </td>
                    <td class="num">{formatCount(p.estimatedRows)}</td>
                    <td class="num">{formatBytes(p.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </div>
  );
}

function BackupsPanel() {
  const backups = useLoad(
    (signal) =>
      api('/api/v1/admin/backups', { query: { limit: 10 }, signal }).then((b) =>
        itemsOf<Backup>(b),
      ),
    [],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  const run = async (label: string, action: () => Promise<unknown>) => {
    setBusy(label);
    setMessage(null);
    try {
      const outcome = await action();
      setMessage({
        text: `${label}: ${typeof outcome === 'string' ? outcome : 'done'}`,
        error: false,
      });
    } catch (error) {
      setMessage({ text: `${label}: ${(error as Error).message}`, error: true });
    } finally {
      setBusy(null);
      backups.reload();
    }
  };

  return (
    <Section
      title="Backups"
      id="backups"
      actions={
        <>
          <button
            type="button"
            data-admin
            disabled={busy !== null}
            onClick={() =>
              void run('Backup', () => api('/api/v1/admin/backups', { method: 'POST' }))
            }
          >
            Start backup
          </button>
          <button type="button" onClick={backups.reload}>
            Refresh
          </button>
        </>
      }
    >
      {message && (
        <p class={message.error ? 'error' : 'note'} role="status">
          {message.text}
        </p>
      )}
      <Status
        loading={backups.loading && !backups.data}
        error={backups.error}
        empty={backups.data?.length === 0}
        emptyText="No backup yet."
      />
      {backups.data && backups.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="backups-table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Verified</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {backups.data.map((b) => (
                <tr key={b.id}>
                  <td>{formatTime(b.startedAt, true)}</td>
                  <td>
                    <span class={`badge ${b.status}`}>{b.deletedAt ? 'rotated' : b.status}</span>
                    {b.error ? ` ${b.error}` : ''}
                  </td>
                  <td>{b.trigger}</td>
                  <td class="num">{formatBytes(b.sizeBytes)}</td>
                  <td>{formatTime(b.verifiedAt)}</td>
                  <td>
                    {b.status === 'succeeded' && !b.deletedAt && (
                      <button
                        type="button"
                        data-admin
                        disabled={busy !== null}
                        aria-label={`Verify backup ${b.id}`}
                        onClick={() => void run(`Verify ${b.id}`, () => verifyAndWait(b.id))}
                      >
                        {busy === `Verify ${b.id}` ? 'Verifying…' : 'Verify'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
