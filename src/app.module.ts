import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { AllExceptionsFilter } from './common/http-exception.filter';
import { requestIdFrom } from './common/request-id';
import { AppConfig } from './config/config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { JobsModule } from './jobs/jobs.module';
import { MetricsModule } from './monitoring/metrics/metrics.module';
import { MonitoringModule } from './monitoring/monitoring.module';
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
            autoLogging: { ignore: (req) => /^\/(health|metrics|monitoring\/(health|metrics))/.test(req.url ?? '') },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
        }),
        CommonModule,
        MetricsModule,
        DatabaseModule,
        AuditModule,
        AuthModule,
        JobsModule,
        TrendsModule,
        MonitoringModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
