import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const deploy = (...parts: string[]) => join(__dirname, '..', '..', 'deploy', ...parts);

describe('deploy kit', () => {
  it('alert rules pass promtool check rules', () => {
    const check = spawnSync('promtool', ['check', 'rules', deploy('prometheus', 'alerts.yml')], {
      encoding: 'utf8',
    });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the scrape config passes promtool check config', () => {
    const check = spawnSync(
      'promtool',
      ['check', 'config', deploy('prometheus', 'prometheus.yml')],
      { encoding: 'utf8' },
    );
    expect(check.status).toBe(0);
  });

  it('alerts cover every case the issue lists', () => {
    const rules = readFileSync(deploy('prometheus', 'alerts.yml'), 'utf8');
    for (const needle of [
      'up{job="trend-service"} == 0',
      'status_code=~"5.."',
      'histogram_quantile(0.95',
      'backup_last_success_timestamp_seconds{job="trend-service"}) > 26 * 3600',
      'backup_last_verified_timestamp_seconds{job="trend-service"}) == 0',
      'default_partition_rows{job="trend-service"}) > 0',
      'partitions_premade_ahead{job="trend-service"}) < 2',
      'job_runs_total{job="trend-service", status="failed"}',
      'time() - max(wal_archive_last_success_timestamp_seconds{job="trend-service"}) > 15 * 60',
      'increase(wal_archive_failures_total{job="trend-service"}[10m])',
      'time() - max(backup_offsite_last_success_timestamp_seconds{job="trend-service"}) > 26 * 3600',
      'backup_last_restore_duration_seconds{job="trend-service"}) > 300',
    ]) {
      expect(rules).toContain(needle);
    }
  });

  it('the Grafana dashboard is valid JSON with a query on every panel', () => {
    const dashboard = JSON.parse(readFileSync(deploy('grafana', 'trend-service.json'), 'utf8')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const panel of panels) expect(panel.targets?.length).toBeGreaterThan(0);
    const titles = panels.map((p) => p.title.toLowerCase()).join('|');
    for (const topic of ['ingest', 'latency', 'cache hit', 'error', 'job', 'partition', 'backup']) {
      expect(titles).toContain(topic);
    }
  });

  it('the Deployment probes /health/live and /health/ready with the seed resources', () => {
    const manifest = readFileSync(deploy('k8s', 'deployment.yaml'), 'utf8');
    expect(manifest).toMatch(/livenessProbe:\s+httpGet:\s+path: \/health\/live/);
    expect(manifest).toMatch(/readinessProbe:\s+httpGet:\s+path: \/health\/ready/);
    expect(manifest).toMatch(/startupProbe:\s+httpGet:/);
    expect(manifest).toMatch(
      /requests:\s+memory: 256Mi\s+cpu: 250m\s+limits:\s+memory: 512Mi\s+cpu: 500m/,
    );
    for (const file of [
      'service.yaml',
      'configmap.yaml',
      'secret.example.yaml',
      'pdb.yaml',
      'hpa.yaml',
    ]) {
      expect(readFileSync(deploy('k8s', file), 'utf8')).toMatch(/^kind: /m);
    }
  });
});
