import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CursorPosition, cursorTimeSql, keysetAfter } from '../common/cursor';
import { SqlParams } from '../trends/rollup-source';

export interface AuditRecord {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  at: Date;
  at_cursor: string;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  since?: Date;
}

/** Reads admin_audit_log (writes go through AuditService.record). */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first on (at, id), `limit` rows after the cursor. */
  async list(
    filter: AuditFilter,
    after: CursorPosition | undefined,
    limit: number,
  ): Promise<AuditRecord[]> {
    const params = new SqlParams();
    const add = (v: unknown) => params.add(v);
    const where = [keysetAfter(after, 'at', 'id', 'bigint', add)];
    if (filter.actor !== undefined) where.push(`actor = ${add(filter.actor)}`);
    if (filter.action !== undefined) where.push(`action = ${add(filter.action)}`);
    if (filter.since !== undefined) where.push(`at >= ${add(filter.since)}`);
    return (await this.dataSource.query(
      `SELECT id, actor, action, target, at, ${cursorTimeSql('at')} AS at_cursor, details
       FROM admin_audit_log WHERE ${where.join(' AND ')}
       ORDER BY at DESC, id DESC LIMIT ${add(limit)}`,
      params.values,
    )) as AuditRecord[];
  }
}
