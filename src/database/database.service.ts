import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { isDatabaseUnavailable } from '../common/database-errors';
import { emitAndWait } from '../common/events';
import { AdvisoryLock, withAdvisoryLock } from './advisory-lock';
import { ConnectionTarget, ensureDatabaseExists } from './data-source';
import { EmbeddedServer } from './embedded-postgres';
import { ensurePartitions } from './partitions';

export const EMBEDDED_SERVER = Symbol('EMBEDDED_SERVER');
export const CONNECTION_TARGET = Symbol('CONNECTION_TARGET');

/** The database is connected and migrated (listeners seed gauges); start() waits for them. */
export const DATABASE_READY = 'database.ready';

declare module '../common/events' {
  interface AppEvents {
    [DATABASE_READY]: undefined;
  }
}

/**
 * Brings the database up after the HTTP listener is open (so readiness can answer 503
 * meanwhile): connects with retries, runs pending migrations under an advisory lock (several
 * replicas may start at once), and makes sure the current and premade partitions exist.
 */
@Injectable()
export class DatabaseService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseService.name);
  private migrated = false;
  constructor(
    @InjectDataSource() readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    @Inject(EMBEDDED_SERVER) private readonly embedded: EmbeddedServer | null,
    private readonly events: EventEmitter2,
  ) {}

  get migrationsApplied(): boolean {
    return this.migrated;
  }

  async start(): Promise<void> {
    await this.connectWithRetry();
    if (this.config.db.migrationsRun) {
      await withAdvisoryLock(this.dataSource, AdvisoryLock.Migrations, async () => {
        const applied = await this.dataSource.runMigrations({ transaction: 'each' });
        if (applied.length)
          this.logger.log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      });
    }
    this.migrated = !(await this.dataSource.showMigrations());
    if (!this.migrated) {
      this.logger.warn('pending migrations: run `npm run migration:run`');
      return;
    }
    // A try-lock: if the partition job holds it on another replica, it is doing this already.
    await withAdvisoryLock(
      this.dataSource,
      AdvisoryLock.Partitions,
      () =>
        this.dataSource.transaction((manager) =>
          ensurePartitions(manager, new Date(), this.config.retention.partitionPremake),
        ),
      { wait: false },
    );
    await emitAndWait(this.events, DATABASE_READY, undefined);
  }

  private async connectWithRetry(): Promise<void> {
    const window = this.config.db.connectRetryMs;
    const deadline = Date.now() + window;
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureDatabaseExists(this.target);
        await this.dataSource.initialize();
        return;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `database unreachable for DB_CONNECT_RETRY_MS (${window} ms, ${attempt} attempts): ${(error as Error).message}`,
          );
        }
        this.logger.warn(
          `database not reachable (attempt ${attempt}): ${(error as Error).message}`,
        );
        await sleep(Math.min(500 * attempt, 5000, left));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.embedded?.stop();
  }
}
