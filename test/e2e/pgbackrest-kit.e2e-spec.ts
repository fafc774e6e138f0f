import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/common/free-port';
import {
  PG_BIN,
  TestCluster,
  asPostgres,
  asPostgresAsync,
  postgresDir,
  postgresIds,
  startTestCluster,
} from '../support/cluster';
import { TestS3, startTestS3 } from '../support/s3';

type Ini = Map<string, Map<string, string>>;

/** deploy/pgbackrest/pgbackrest.conf as sections of key=value (comments dropped). */
function readIni(path: string): Ini {
  const ini: Ini = new Map();
  let section: Map<string, string> | undefined;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = ini.get(header[1]) ?? new Map<string, string>();
      ini.set(header[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    section!.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return ini;
}

function writeIni(ini: Ini): string {
  return [...ini]
    .map(([name, kv]) => `[${name}]\n${[...kv].map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('\n');
}

/**
 * The pgBackRest kit works (SPEC §15): deploy/pgbackrest's configuration, with only paths,
 * ports and endpoints rewritten, on a throwaway cluster archiving through pgBackRest to a
 * local repository and an S3 repository (s3rver over TLS with a self-signed certificate):
 * full backup, rows written, time noted, data damaged, restore to that time into a new data
 * directory, and the restored server has exactly the rows from before the damage.
 */
describe('pgBackRest kit: point-in-time recovery', () => {
  let root: string;
  let cluster: TestCluster;
  let s3: TestS3;
  let restored: { dataDir: string; port: number } | undefined;
  let conf: string;

  const pgbackrest = (...args: string[]) =>
    asPostgresAsync('pgbackrest', [`--config=${conf}`, '--stanza=trend', ...args], 60_000);

  beforeAll(async () => {
    root = postgresDir('trend-pgbackrest-');
    conf = join(root, 'pgbackrest.conf');
    // A self-signed certificate: pgBackRest 2.45 speaks to S3 over HTTPS only.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(root, 'key.pem'),
        '-out',
        join(root, 'cert.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    s3 = await startTestS3('pitr', {
      key: readFileSync(join(root, 'key.pem')),
      cert: readFileSync(join(root, 'cert.pem')),
    });
    const postgresql = readFileSync(
      join(process.cwd(), 'deploy', 'pgbackrest', 'postgresql.pitr.conf'),
      'utf8',
    );
    const settings: Record<string, string> = {};
    for (const line of postgresql.split('\n')) {
      const m = /^\s*([a-z_]+)\s*=\s*(.+?)\s*$/.exec(line);
      if (m) settings[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
    }
    // The kit's archive_command, pointed at this test's configuration file.
    expect(settings.archive_command).toBe('pgbackrest --stanza=trend archive-push %p');
    settings.archive_command = `pgbackrest --config=${conf} --stanza=trend archive-push %p`;
    cluster = await startTestCluster(settings);

    const ini = readIni(join(process.cwd(), 'deploy', 'pgbackrest', 'pgbackrest.conf'));
    const global = ini.get('global')!;
    const stanza = ini.get('trend')!;
    // What the kit promises, checked on the file itself.
    expect(global.get('repo1-cipher-type')).toBe('aes-256-cbc');
    expect(global.get('repo2-cipher-type')).toBe('aes-256-cbc');
    expect(global.get('repo2-type')).toBe('s3');
    expect(Number(global.get('repo1-retention-full'))).toBeGreaterThan(0);
    expect(Number(global.get('repo2-retention-full'))).toBeGreaterThan(0);
    for (const dir of ['repo1', 'spool', 'log', 'lock']) mkdirSync(join(root, dir));
    const { uid, gid } = postgresIds();
    for (const dir of ['repo1', 'spool', 'log', 'lock']) chownSync(join(root, dir), uid, gid);
    global.set('repo1-path', join(root, 'repo1'));
    global.set('spool-path', join(root, 'spool'));
    global.set('log-path', join(root, 'log'));
    global.set('lock-path', join(root, 'lock'));
    global.set('repo2-s3-endpoint', '127.0.0.1');
    global.set('repo2-storage-port', String(s3.port));
    global.set('repo2-storage-verify-tls', 'n');
    global.set('repo2-s3-bucket', 'pitr');
    global.set('repo2-s3-region', 'us-east-1');
    // secrets.conf.example's keys, with test values.
    global.set('repo1-cipher-pass', 'test-cipher-pass-repo1');
    global.set('repo2-cipher-pass', 'test-cipher-pass-repo2');
    global.set('repo2-s3-key', s3.env.BACKUP_S3_ACCESS_KEY_ID);
    global.set('repo2-s3-key-secret', s3.env.BACKUP_S3_SECRET_ACCESS_KEY);
    global.set('log-level-console', 'warn');
    stanza.set('pg1-path', cluster.dataDir);
    stanza.set('pg1-port', String(cluster.port));
    stanza.set('pg1-socket-path', cluster.root);
    writeFileSync(conf, writeIni(ini), { mode: 0o600 });
    chownSync(conf, uid, gid);
  }, 60_000);

  afterAll(async () => {
    if (restored)
      try {
        asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', restored.dataDir, '-m', 'immediate', 'stop']);
      } catch {
        // not running
      }
    cluster?.destroy();
    // archive-async leaves a pgBackRest archive-push process per cluster; it would outlive the
    // test. Ours are the ones naming this test's config file: stop them by PID.
    if (conf) {
      const found = spawnSync('pgrep', ['-f', '--', `--config=${conf}`], { encoding: 'utf8' });
      for (const pid of found.stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await s3?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('restores to a noted time from the S3 repository: exactly the rows from before the damage', async () => {
    await pgbackrest('stanza-create');
    await pgbackrest('check');
    await pgbackrest('--repo=1', '--type=full', 'backup');
    await pgbackrest('--repo=2', '--type=full', 'backup');
    const info = JSON.parse(await pgbackrest('--output=json', 'info')) as {
      backup: { type: string; database: { 'repo-key': number } }[];
    }[];
    expect(info[0].backup.map((b) => [b.type, b.database['repo-key']]).sort()).toEqual([
      ['full', 1],
      ['full', 2],
    ]);

    await cluster.query('CREATE TABLE kept (n int PRIMARY KEY, note text)');
    await cluster.query("INSERT INTO kept SELECT g, 'before ' || g FROM generate_series(1, 250) g");
    const expected = await cluster.query<{ n: number; note: string }>(
      'SELECT n, note FROM kept ORDER BY n',
    );
    await new Promise((r) => setTimeout(r, 1100));
    const [{ at }] = await cluster.query<{ at: string }>(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS at",
    );
    await new Promise((r) => setTimeout(r, 1100));
    // The damage: rows deleted and changed, a table dropped.
    await cluster.query('DELETE FROM kept WHERE n % 3 = 0');
    await cluster.query("UPDATE kept SET note = 'damaged'");
    await cluster.query('INSERT INTO kept VALUES (1000, $1)', ['after']);
    // Every WAL up to now archived (check switches the segment and waits for it).
    await pgbackrest('check');

    const dataDir = join(root, 'restored');
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, postgresIds().uid, postgresIds().gid);
    await pgbackrest(
      '--repo=2',
      `--pg1-path=${dataDir}`,
      '--type=time',
      `--target=${at}`,
      '--target-action=promote',
      'restore',
    );
    const port = await freePort();
    restored = { dataDir, port };
    // Async: recovery's archive-get reads from s3rver, which runs in this process.
    await asPostgresAsync(join(PG_BIN, 'pg_ctl'), [
      '-D',
      dataDir,
      '-o',
      // Never archive into the stanza from the copy.
      `-c port=${port} -c listen_addresses='127.0.0.1' -c unix_socket_directories='${root}' -c archive_mode=off`,
      '-l',
      join(root, 'restored.log'),
      '-w',
      '-t',
      '90',
      'start',
    ]);
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      // Hot standby answers during recovery: wait for the promotion at the target time.
      let recovering = true;
      for (let i = 0; i < 600 && recovering; i++) {
        [{ recovering }] = (
          await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering')
        ).rows;
        if (recovering) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recovering).toBe(false);
      // The data is exactly as at the noted time.
      const rows = (await client.query('SELECT n, note FROM kept ORDER BY n')).rows;
      expect(rows).toEqual(expected);
      expect(rows).toHaveLength(250);
    } finally {
      await client.end();
    }
  }, 170_000);
});
