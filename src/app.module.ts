import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import { AlertsModule } from './alerts/alerts.module';
import { DestinationStream, destination } from 'pino';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BackupModule } from './backup/backup.module';
import { CacheModule } from './cache/cache.module';
import { CommonModule } from './common/common.module';
import { AllExceptionsFilter } from './common/http-exception.filter';
import { requestIdFrom } from './common/request-id';
import { redactUrl } from './common/request-log';
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

/** How long a log line may wait in the buffer at most. */
const LOG_FLUSH_MS = 100;

/**
 * Standard output, buffered: lines are written together once 12 KB are waiting (sonic-boom
 * writes at most 16 KB at once), and at least every LOG_FLUSH_MS, instead of one system call
 * per line (under load that call cost as much as a cached answer's Redis round trip). pino
 * flushes what is left on exit. A silent logger (the in-process tests) keeps pino's plain
 * synchronous stdout.
 *
 * The buffer holds bytes: sonic-boom's text mode measures the UTF-8 length of its whole
 * pending buffer on every line (up to 16 KB scanned per 250-byte line, ≈ 3% of a cached
 * answer's CPU); in byte mode each line is encoded once and appended.
 */
function logDestination(level: string): DestinationStream {
  if (level === 'silent') return destination({ dest: 1, sync: true });
  const stream = destination({ dest: 1, sync: false, minLength: 12_288, contentMode: 'buffer' });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // destroyed at exit: nothing left to write
    }
  }, LOG_FLUSH_MS).unref();
  // sonic-boom's types only name text; in byte mode it takes a Buffer. `write` is looked up on
  // each line: after EPIPE pino replaces it with a no-op, and lines must stop piling up then.
  const bytes = stream as unknown as { write(line: Buffer): boolean };
  return {
    write: (line: string) => bytes.write(Buffer.from(line)),
    flush: (done?: (error?: Error) => void) => stream.flush(done),
  } as DestinationStream;
}

@Module({})
export class AppModule {
  /** The whole application for one validated configuration (tests pass their own). */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.logLevel,
              genReqId: (req) => requestIdFrom(req),
              // The one line per request is written by RequestLog (src/common/request-log.ts),
              // from a Fastify hook that also sees cache hits answered before this middleware.
              autoLogging: false,
              // What logs written during a request carry about it: small, credentials redacted.
              serializers: {
                req: (req: { id: unknown; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  url: redactUrl(req.url),
                }),
              },
              redact: ['req.headers.authorization', 'req.headers.cookie'],
            },
            logDestination(config.logLevel),
          ],
          // nestjs-pino's default route pattern ('{/*splat}') matches nothing under Fastify's
          // middie here, so no request was logged; '{*splat}' covers every path.
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        }),
        // The in-process event bus (src/common/events.ts); the library registers it globally.
        EventEmitterModule.forRoot(),
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
