import { Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectionTarget, connectionTarget, dataSourceOptions } from './data-source';
import { CONNECTION_TARGET, DatabaseService, EMBEDDED_SERVER } from './database.service';
import { EmbeddedServer, startEmbeddedPostgres } from './embedded-postgres';
import { QuerySourceHook } from './query-source.hook';
import { SlowQueryLogger } from './slow-query.logger';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { ReadReplicasService } from './read-replicas.service';
import { RedisModule } from '../cache/redis.module';

/** Where the database is: the embedded server is started here when none is configured. */
@Module({
  providers: [
    {
      provide: EMBEDDED_SERVER,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<EmbeddedServer | null> =>
        config.db.mode === 'embedded'
          ? startEmbeddedPostgres(config.dataDir, (line) =>
              new Logger('EmbeddedPostgres').log(line),
            )
          : null,
    },
    {
      provide: CONNECTION_TARGET,
      inject: [APP_CONFIG, EMBEDDED_SERVER],
      useFactory: (config: AppConfig, embedded: EmbeddedServer | null) =>
        connectionTarget(config.db, embedded ?? undefined),
    },
  ],
  exports: [EMBEDDED_SERVER, CONNECTION_TARGET],
})
class DatabaseTargetModule {}

/**
 * The TypeORM DataSource (same options as ormconfig.ts). It is initialised by
 * DatabaseService.start() rather than at module init, so the HTTP server can answer
 * readiness probes with 503 while the database is still coming up.
 */
@Global()
@Module({
  imports: [
    DatabaseTargetModule,
    RedisModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseTargetModule],
      inject: [APP_CONFIG, CONNECTION_TARGET, MetricsService],
      useFactory: (config: AppConfig, target: ConnectionTarget, metrics: MetricsService) => ({
        ...dataSourceOptions(config.db, target, new SlowQueryLogger(metrics.dbSlowQueries)),
        manualInitialization: true,
      }),
    }),
  ],
  providers: [DatabaseService, QuerySourceHook, ReadReplicasService],
  exports: [DatabaseService, ReadReplicasService, DatabaseTargetModule],
})
export class DatabaseModule {}
