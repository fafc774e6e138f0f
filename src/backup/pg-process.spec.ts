import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { LifecycleService } from '../common/lifecycle.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/config';
import { ConnectionTarget } from '../database/data-source';
import { PgProcessRunner, ShutdownInterrupt, minimalPgEnv } from './pg-process';

const target = {
  host: '127.0.0.1',
  port: 5432,
  user: 'u',
  password: 'pw',
  database: 'd',
  ssl: 'disable',
} as unknown as ConnectionTarget;

describe('pg process port', () => {
  let bin: string;
  const config = () => ({ backup: { pgBinDir: bin } }) as unknown as AppConfig;

  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'trend-pg-process-'));
    // A fake pg_dump: prints its environment and process group, or sleeps when asked to.
    writeFileSync(
      join(bin, 'pg_dump'),
      '#!/bin/sh\nif [ "$1" = sleep ]; then exec sleep 30; fi\nenv\necho "PGID=$(ps -o pgid= $$ | tr -d " ")"\n',
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('gives tools PATH and libpq settings only, never the service secrets', () => {
    const env = minimalPgEnv(target, {
      PATH: '/usr/bin',
      JWT_SECRET: 'j',
      BACKUP_ENCRYPTION_KEY: 'k',
      BACKUP_S3_SECRET_ACCESS_KEY: 's',
      HOME: '/root',
    });
    expect(Object.keys(env).sort()).toEqual(
      ['LC_ALL', 'PATH', 'PGAPPNAME', 'PGCONNECT_TIMEOUT', 'PGPASSWORD', 'PGSSLMODE'].sort(),
    );
    expect(env).toMatchObject({ PATH: '/usr/bin', PGPASSWORD: 'pw', PGSSLMODE: 'prefer' });
    expect(Object.keys(minimalPgEnv(undefined, { PATH: '/x', JWT_SECRET: 'j' }))).toEqual([
      'PATH',
      'LC_ALL',
    ]);
  });

  it('runs a tool in its own process group with that environment', async () => {
    process.env.JWT_SECRET_FOR_TEST = 'must-not-leak';
    try {
      const runner = new PgProcessRunner(config());
      const { stdout } = await runner.run(runner.resolve('pg_dump'), [], target, 'x');
      expect(stdout).not.toContain('must-not-leak');
      expect(stdout).toContain('PGPASSWORD=pw');
      const pgid = Number(/PGID=(\d+)/.exec(stdout)![1]);
      // Its own group (detached), not the test runner's: a terminal's SIGINT would miss it.
      const ours = Number(execFileSync('ps', ['-o', 'pgid=', String(process.pid)]).toString());
      expect(pgid).toBeGreaterThan(0);
      expect(pgid).not.toBe(ours);
      expect(runner.running).toBe(0);
    } finally {
      delete process.env.JWT_SECRET_FOR_TEST;
    }
  });

  it('stops its children when the service begins stopping; the run says interrupted', async () => {
    // Wired as in the app: the runner hears the lifecycle's stopping event on the event bus.
    const context = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot()],
      providers: [LifecycleService, PgProcessRunner, { provide: APP_CONFIG, useValue: config() }],
    }).compile();
    await context.init();
    const lifecycle = context.get(LifecycleService);
    const runner = context.get(PgProcessRunner);
    const running = runner.run(runner.resolve('pg_dump'), ['sleep'], target, 'x');
    for (let i = 0; i < 50 && runner.running === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(runner.running).toBe(1);
    lifecycle.markStopping();
    await expect(running).rejects.toBeInstanceOf(ShutdownInterrupt);
    expect(runner.running).toBe(0);
    // Nothing new starts once stopping.
    expect(() => runner.spawn(runner.resolve('pg_dump'), [], target, 'ignore')).toThrow(
      ShutdownInterrupt,
    );
    await context.close();
  });
});
