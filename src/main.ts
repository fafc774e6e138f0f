import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, startServices } from './app.factory';
import { TokenService } from './auth/token.service';
import { LifecycleService } from './common/lifecycle.service';
import { AppConfig, ConfigError, loadConfig } from './config/config';
import { ConnectionTarget } from './database/data-source';
import { CONNECTION_TARGET, EMBEDDED_SERVER } from './database/database.service';
import { EmbeddedServer } from './database/embedded-postgres';

const FORCED_EXIT_MS = 30_000;

/**
 * SIGTERM/SIGINT: readiness turns 503, after SHUTDOWN_DELAY_MS the listener closes and waits
 * for in-flight requests, schedules stop, pools close, the embedded database stops, exit 0.
 */
function handleShutdown(app: NestFastifyApplication, config: AppConfig, logger: Logger): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining`);
    app.get(LifecycleService).markStopping();
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, FORCED_EXIT_MS).unref();
    await sleep(config.shutdownDelayMs);
    await app.close();
    logger.log('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Where the data lives, for the start-up banner: the embedded server's port, or the host. */
function databaseBanner(app: NestFastifyApplication, config: AppConfig): string {
  const embedded = app.get<EmbeddedServer | null>(EMBEDDED_SERVER);
  if (embedded) {
    return `embedded PostgreSQL on ${embedded.host}:${embedded.port}, data in ${config.dataDir}/pg`;
  }
  const target = app.get<ConnectionTarget>(CONNECTION_TARGET);
  if (target.url) {
    // Never the whole URL: it may hold the password.
    const url = URL.parse(target.url);
    return url ? `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}` : 'PostgreSQL';
  }
  return `PostgreSQL at ${target.host}:${target.port}/${target.database}`;
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const app = await createApp(config);
  const logger = new Logger('Bootstrap');
  handleShutdown(app, config, logger);
  await app.listen({ port: config.port, host: config.host });
  logger.log(
    `listening on ${config.host}:${config.port} (database: ${databaseBanner(app, config)})`,
  );

  try {
    await startServices(app, config);
  } catch (error) {
    logger.error(`start-up failed: ${(error as Error).message}`);
    await app.close();
    process.exit(1);
  }
  logger.log('ready');

  if (config.env !== 'production' && !config.jwt.secret) {
    const token = app
      .get(TokenService)
      .sign('dev-admin', ['admin', 'analyst', 'ingest'], 24 * 3600);
    // Printed for local use only: the secret behind it lives in DATA_DIR.
    const dashboard = config.dashboard.enabled
      ? `  Dashboard: http://localhost:${config.port}/#token=${token}\n`
      : '';
    process.stdout.write(
      `\nDev admin token (24h): ${token}\n${dashboard}  curl -H "Authorization: Bearer ${token}" 'http://localhost:${config.port}/api/v1/trends/top?window=24h'\n\n`,
    );
  }
}

void main();
