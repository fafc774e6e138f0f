import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AlertsModule } from './alerts/alerts.module';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BackupModule } from './backup/backup.module';
import { CacheModule } from './cache/cache.module';
import { CommonModule } from './common/common.module';
import { AllExceptionsFilter } from './common/http-exception.filter';
import { requestIdFrom } from './common/request-id';
import { AppConfig } from './config/config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { JobsModule } from './jobs/jobs.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsModule } from './monitoring/metrics/metrics.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { RetentionModule } from './retention/retention.module';
import { StreamModule } from './stream/stream.module';
import { ThrottleModule } from './throttle/throttle.module';
import { TrendsModule } from './trends/trends.module';

@Module({})
export class AppModule {
  /** The whole application for one validated configuration (tests pass their own). */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req) => requestIdFrom(req),
            // Probes and scrapes would drown the request log.
            autoLogging: {
              ignore: (req) =>
                /^\/(health|metrics|monitoring\/(health|metrics))/.test(req.url ?? ''),
            },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
          // nestjs-pino's default route pattern ('{/*splat}') matches nothing under Fastify's
          // middie here, so no request was logged; '{*splat}' covers every path.
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        }),
        CommonModule,
        MetricsModule,
        DatabaseModule,
        AuditModule,
        AuthModule,
        ThrottleModule, // after AuthModule: its guard needs request.user
        CacheModule,
        JobsModule,
        BackupModule,
        TrendsModule,
        AnalyticsModule,
        RetentionModule,
        MaintenanceModule,
        MonitoringModule,
        AlertsModule,
        StreamModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
