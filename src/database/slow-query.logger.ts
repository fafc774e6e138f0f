import { Logger as NestLogger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { Logger, QueryRunner } from 'typeorm';
import { currentQuerySource } from './query-source';

const MAX_STATEMENT_CHARS = 500;

/**
 * A statement's shape without its values: literals become `?`, whitespace collapses, long
 * statements are cut. Our SQL is parameterized, so values normally travel separately and are
 * never logged; this also covers the few statements with inline literals (DDL, settings).
 */
export function normalizeStatement(sql: string): string {
  const shape = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$])\d+(?:\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return shape.length > MAX_STATEMENT_CHARS ? `${shape.slice(0, MAX_STATEMENT_CHARS)}…` : shape;
}

/**
 * TypeORM's logger, used only for what TypeORM reports as slow (`maxQueryExecutionTime` =
 * DB_SLOW_QUERY_MS): every statement of the app goes through TypeORM's query runner, so this is
 * the one place where each statement's duration is known. One warn line and one counter
 * increment per slow statement; other TypeORM log calls are dropped (Nest logs errors where
 * they are handled).
 */
export class SlowQueryLogger implements Logger {
  private readonly logger = new NestLogger('SlowQuery');

  constructor(private readonly counter?: Counter<'source'>) {}

  logQuerySlow(time: number, query: string, _parameters?: unknown[], _runner?: QueryRunner): void {
    const source = currentQuerySource();
    this.counter?.inc({ source });
    this.logger.warn(
      `slow statement: ${Math.round(time)} ms (source ${source}): ${normalizeStatement(query)}`,
    );
  }

  logQuery(): void {}
  logQueryError(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
