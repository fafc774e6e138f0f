import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { DatabaseService } from '../../database/database.service';

const PING_TIMEOUT_MS = 1000;

/** `SELECT 1` under a timeout, with its latency; optionally that migrations are applied. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly database: DatabaseService,
  ) {}

  async check(key = 'database', requireMigrations = false) {
    const indicator = this.indicators.check(key);
    if (!this.dataSource.isInitialized) return indicator.down({ message: 'not connected yet' });
    const started = performance.now();
    try {
      await withTimeout(
        this.dataSource.query('SELECT 1'),
        PING_TIMEOUT_MS,
        `no answer within ${PING_TIMEOUT_MS} ms`,
      );
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    if (requireMigrations && !this.database.migrationsApplied) {
      return indicator.down({ latencyMs, message: 'migrations pending' });
    }
    return indicator.up({
      latencyMs,
      migrations: this.database.migrationsApplied ? 'applied' : 'pending',
    });
  }
}
