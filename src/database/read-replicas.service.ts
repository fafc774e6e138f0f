import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { REDIS_READY, RedisConnection } from '../cache/redis.connection';
import { OnAppEvent } from '../common/events';
import { withTimeout } from '../common/with-timeout';
import { AppConfig, DatabaseConfig, hasReadReplicas } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { ConnectionTarget, tlsOptions } from './data-source';
import { CONNECTION_TARGET } from './database.service';
import { Queryable } from './partitions';
import { WritePosition, parseLsn } from './write-position';

/** How often each replica's health and lag are checked; routing uses the cached result. */
export const REPLICA_CHECK_INTERVAL_MS = 2000;
/** A replica that does not accept a connection this fast is skipped for this read. */
const REPLICA_CONNECT_TIMEOUT_MS = 1000;
/** Budget of one health check. */
const REPLICA_CHECK_TIMEOUT_MS = 1500;

/**
 * Why a read went where it went (the `reason` label of db_reads_total; a fixed set).
 * `replica`: served by a replica. The others name why the primary answered.
 */
export type ReadReason =
  | 'replica'
  | 'no_replicas'
  | 'no_healthy_replica'
  | 'lagging'
  | 'behind_write'
  | 'write_position_unknown'
  | 'replica_error'
  | 'recovery_conflict'
  | 'timeout';

/** What the read needs from its session on the replica. */
export interface ReadSession {
  /** Several statements on one snapshot (REPEATABLE READ). */
  snapshot?: boolean;
  /** statement_timeout for this read (transaction-local). */
  statementTimeoutMs?: number;
}

export interface ReplicaStatus {
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** null until the first check finished. */
  up: boolean | null;
  /** Usable for reads now: up, in recovery, lag within DB_READ_MAX_LAG_MS. */
  healthy: boolean;
  lagSeconds: number | null;
  replayLsn: string | null;
  checkedAt: string | null;
  error?: string;
  pool: { total: number; idle: number; waiting: number; max: number };
}

interface ReplicaEndpoint {
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

interface Replica extends ReplicaEndpoint {
  pool: Pool;
  /** One connection of its own, so checks never queue behind busy reads. */
  checkPool: Pool;
  up: boolean | null;
  standby: boolean;
  lagMs: number | null;
  replayLsn: string | null;
  checkedAt: Date | null;
  error?: string;
  /** Reads running on this replica: told to give up when it is marked down. */
  inFlight: Set<(reason: Error) => void>;
}

/** Replica endpoints from DB_READ_* / DATABASE_READ_URL; unset parts default to the primary's. */
export function replicaEndpoints(db: DatabaseConfig, primary: ConnectionTarget): ReplicaEndpoint[] {
  const read = db.read;
  if (read.urls.length > 0) {
    return read.urls.map((raw) => {
      const url = new URL(raw);
      const host = url.hostname;
      const port = Number(url.port || 5432);
      return {
        name: `${host}:${port}`,
        host,
        port,
        user: url.username ? decodeURIComponent(url.username) : primary.user,
        password: url.password ? decodeURIComponent(url.password) : primary.password,
        database: url.pathname.replace(/^\//, '') || primary.database,
      };
    });
  }
  return read.hosts.map((entry) => {
    // host or host:port in the list; DB_READ_PORT, then the primary's port otherwise
    const match = /^(.+):(\d+)$/.exec(entry);
    const host = match ? match[1] : entry;
    const port = match ? Number(match[2]) : (read.port ?? primary.port);
    return {
      name: `${host}:${port}`,
      host,
      port,
      user: read.user ?? primary.user,
      password: read.password ?? primary.password,
      database: read.name ?? primary.database,
    };
  });
}

const isRecoveryConflict = (error: unknown): boolean => {
  const e = error as { code?: string; message?: string };
  return (
    /conflict with recovery/i.test(e.message ?? '') ||
    e.code === '40001' ||
    e.code === '40P01' ||
    e.code === '57P04'
  );
};

const isTimeout = (error: unknown): boolean => {
  const e = error as { code?: string; message?: string };
  return e.code === '57014' || /timeout|timed out/i.test(e.message ?? '');
};

/** A Postgres error raised by the statement itself; anything else means the connection failed. */
const isStatementError = (error: unknown): boolean => {
  const code = (error as { code?: string }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P0)/.test(code);
};

/**
 * Read/write splitting (SPEC §14): the query endpoints read through `read()`, which serves
 * from a healthy streaming replica when that replica has replayed the latest acknowledged
 * write, and from the primary otherwise — also when the replica fails mid-read. Everything
 * else (writes, locks, migrations, jobs, admin reads) keeps using the primary DataSource.
 *
 * Pools are plain `pg` pools, one per replica, connected lazily: a replica that is down at
 * start-up only makes its health check fail. Health and lag are checked every
 * REPLICA_CHECK_INTERVAL_MS in the background; reads use the cached result.
 */
@Injectable()
export class ReadReplicasService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ReadReplicas');
  private readonly replicas: Replica[] = [];
  private readonly position?: WritePosition;
  private readonly maxLagMs: number;
  private timer?: NodeJS.Timeout;
  private next = 0;
  private checking?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONNECTION_TARGET) private readonly primary: ConnectionTarget,
    private readonly metrics: MetricsService,
    @Optional() redis?: RedisConnection,
  ) {
    this.maxLagMs = config.db.read.maxLagMs;
    if (!hasReadReplicas(config.db)) return;
    const statementTimeoutMs = config.db.statementTimeoutMs;
    for (const endpoint of replicaEndpoints(config.db, primary)) {
      const options = {
        host: endpoint.host,
        port: endpoint.port,
        user: endpoint.user,
        password: endpoint.password,
        database: endpoint.database,
        ssl: tlsOptions(primary.ssl, primary.caFile),
        max: config.db.read.poolMax,
        connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
        idleTimeoutMillis: 30_000,
        application_name: 'trend-service-read',
        options: statementTimeoutMs > 0 ? `-c statement_timeout=${statementTimeoutMs}` : undefined,
        // A replica that stops answering mid-query must not hold the request forever.
        query_timeout: statementTimeoutMs > 0 ? statementTimeoutMs + 1000 : undefined,
      };
      const pool = new Pool(options);
      const checkPool = new Pool({ ...options, max: 1, query_timeout: REPLICA_CHECK_TIMEOUT_MS });
      // Idle connections die when a replica restarts: expected, not a crash.
      for (const p of [pool, checkPool])
        p.on('error', (error) => this.logger.debug(`${endpoint.name}: ${error.message}`));
      this.replicas.push({
        ...endpoint,
        pool,
        checkPool,
        up: null,
        standby: false,
        lagMs: null,
        replayLsn: null,
        checkedAt: null,
        inFlight: new Set(),
      });
    }
    this.position = new WritePosition(
      dataSource,
      redis?.configured ? redis : undefined,
      config.redis.keyPrefix,
      Math.max(2 * config.redis.ttlSeconds, 86_400),
      config.redis.opTimeoutMs,
    );
  }

  get configured(): boolean {
    return this.replicas.length > 0;
  }

  @OnAppEvent(REDIS_READY, { suppressErrors: true })
  onRedisReady(): void {
    this.position?.markStale();
  }

  onModuleInit(): void {
    if (!this.configured) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), REPLICA_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    await Promise.all(
      this.replicas.flatMap((r) =>
        [r.pool, r.checkPool].map((p) => p.end().catch(() => undefined)),
      ),
    );
  }

  /**
   * After an ingest committed, before its cache versions move and its 2xx: records the
   * primary's WAL position so no replica serves a read until it has replayed this write.
   * No cost without replicas.
   */
  async recordWrite(): Promise<void> {
    if (this.position) await this.position.record();
  }

  /**
   * Runs `work` on a replica when one may answer, otherwise (or when the replica fails in
   * any way) returns `onPrimary()` — the same read against the primary — within this call.
   */
  async read<T>(
    session: ReadSession,
    work: (db: Queryable) => Promise<T>,
    onPrimary: () => Promise<T>,
  ): Promise<T> {
    if (!this.configured) return this.fromPrimary('no_replicas', onPrimary);
    const replica = this.pick();
    if (typeof replica === 'string') return this.fromPrimary(replica, onPrimary);
    // Read after the cache fetched its versions (the interceptor runs first), so a replica
    // that passes this check has every write those versions reflect.
    const required = await (this.position as WritePosition).required();
    if (required === null) return this.fromPrimary('write_position_unknown', onPrimary);

    let client: PoolClient;
    try {
      client = await replica.pool.connect();
    } catch (error) {
      this.markDown(replica, error);
      return this.fromPrimary(isTimeout(error) ? 'timeout' : 'replica_error', onPrimary);
    }
    let failure: unknown;
    let reason: ReadReason = 'replica';
    // A replica that hangs mid-read is marked down by its next check; the read then gives up
    // on it at once instead of waiting out the statement timeout.
    let giveUp: (reason: Error) => void = () => undefined;
    const abandoned = new Promise<never>((_, reject) => {
      giveUp = reject;
    });
    abandoned.catch(() => undefined);
    replica.inFlight.add(giveUp);
    const query = async (sql: string, params?: unknown[]) =>
      (await Promise.race([client.query(sql, params), abandoned])).rows as unknown;
    try {
      // The replay position is read BEFORE the snapshot is taken: the snapshot then holds at
      // least everything up to that position.
      const replay = parseLsn(
        (
          (await query('SELECT pg_last_wal_replay_lsn()::text AS lsn')) as { lsn: string | null }[]
        )[0]?.lsn,
      );
      if (replay === null || replay < required) {
        reason = 'behind_write';
      } else {
        // One statement with the pool's settings needs no transaction: it is its own snapshot.
        const transaction = session.snapshot || session.statementTimeoutMs !== undefined;
        if (transaction) {
          // One round trip (simple protocol); the timeout is an integer from the config.
          const timeout =
            session.statementTimeoutMs === undefined
              ? ''
              : `; SET LOCAL statement_timeout = ${Math.max(0, Math.floor(session.statementTimeoutMs))}`;
          await query(
            `${session.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN READ ONLY'}${timeout}`,
          );
        }
        const result = await Promise.race([work({ query }), abandoned]);
        if (transaction) await query('COMMIT');
        replica.inFlight.delete(giveUp);
        client.release();
        this.metrics.dbReads.inc({ target: 'replica', reason: 'replica' });
        return result;
      }
    } catch (error) {
      failure = error;
      reason = isRecoveryConflict(error)
        ? 'recovery_conflict'
        : isTimeout(error)
          ? 'timeout'
          : 'replica_error';
      if (!isStatementError(error)) this.markDown(replica, error);
      this.logger.warn(
        `read on ${replica.name} failed (${(error as Error).message}); the primary answers`,
      );
    }
    replica.inFlight.delete(giveUp);
    // A failed connection is discarded rather than handed to the next read mid-transaction.
    client.release(failure instanceof Error ? failure : failure ? new Error('failed') : undefined);
    return this.fromPrimary(reason, onPrimary);
  }

  /** Each replica as /health and /monitoring/admin/database show it (never the password). */
  status(): ReplicaStatus[] {
    return this.replicas.map((r) => ({
      name: r.name,
      host: r.host,
      port: r.port,
      database: r.database,
      user: r.user,
      up: r.up,
      healthy: this.healthy(r),
      lagSeconds: r.lagMs === null ? null : r.lagMs / 1000,
      replayLsn: r.replayLsn,
      checkedAt: r.checkedAt?.toISOString() ?? null,
      error: r.error,
      pool: {
        total: r.pool.totalCount,
        idle: r.pool.idleCount,
        waiting: r.pool.waitingCount,
        max: this.config.db.read.poolMax,
      },
    }));
  }

  /** Runs one round of checks now (tests and the health report use the cached result). */
  checkAll(): Promise<void> {
    this.checking ??= Promise.all(this.replicas.map((r) => this.check(r)))
      .then(() => undefined)
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  private healthy(r: Replica): boolean {
    return r.up === true && r.standby && r.lagMs !== null && r.lagMs <= this.maxLagMs;
  }

  /** A healthy replica (round robin), or why none may answer. */
  private pick(): Replica | ReadReason {
    const healthy = this.replicas.filter((r) => this.healthy(r));
    if (healthy.length === 0)
      return this.replicas.some((r) => r.up && r.standby) ? 'lagging' : 'no_healthy_replica';
    this.next = (this.next + 1) % healthy.length;
    return healthy[this.next];
  }

  private async fromPrimary<T>(reason: ReadReason, onPrimary: () => Promise<T>): Promise<T> {
    this.metrics.dbReads.inc({ target: 'primary', reason });
    return onPrimary();
  }

  private markDown(replica: Replica, error: unknown): void {
    if (replica.up !== false)
      this.logger.warn(`replica ${replica.name} is down: ${(error as Error).message}`);
    replica.up = false;
    replica.error = (error as Error).message;
    const reason = new Error(`replica ${replica.name} is down (${replica.error})`);
    for (const giveUp of replica.inFlight) giveUp(reason);
    replica.inFlight.clear();
    this.metrics.dbReplicaUp.set({ replica: replica.name }, 0);
    this.metrics.dbReplicaLag.remove({ replica: replica.name });
  }

  private async check(replica: Replica): Promise<void> {
    try {
      const { rows } = await withTimeout(
        replica.checkPool.query<{
          standby: boolean;
          replay: string | null;
          lag_ms: number | null;
        }>(
          `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay,
             CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL
                   AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                  ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0)
             END::float8 AS lag_ms`,
        ),
        REPLICA_CHECK_TIMEOUT_MS,
        `no answer within ${REPLICA_CHECK_TIMEOUT_MS} ms`,
      );
      const row = rows[0];
      if (replica.up === false) this.logger.log(`replica ${replica.name} is up again`);
      replica.up = true;
      replica.standby = row.standby;
      // Nothing received yet counts as caught up with nothing; a wall-clock gap below 0 as 0.
      replica.lagMs = Math.max(0, Number(row.lag_ms ?? 0));
      replica.replayLsn = row.replay;
      replica.error = row.standby ? undefined : 'not in recovery (promoted?): not used';
      replica.checkedAt = new Date();
      this.metrics.dbReplicaUp.set({ replica: replica.name }, 1);
      this.metrics.dbReplicaLag.set({ replica: replica.name }, replica.lagMs / 1000);
    } catch (error) {
      replica.checkedAt = new Date();
      this.markDown(replica, error);
    }
  }
}
