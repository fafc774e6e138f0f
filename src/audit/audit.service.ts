import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Records every mutating admin call in admin_audit_log (who, action, target, details). */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Pass `manager` to write the entry in the same transaction as the change it describes. */
  async record(
    actor: string,
    action: string,
    target: string | null,
    details: Record<string, unknown> | null = null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.query(
      'INSERT INTO admin_audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)',
      [actor, action, target, details === null ? null : JSON.stringify(details)],
    );
  }
}
