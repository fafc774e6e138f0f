import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Records every mutating admin call in admin_audit_log (who, action, target, details). */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

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

  /**
   * Runs an admin action and records it after it ends, also when it throws: then with
   * `status: 'failed'` and the error, and the error is rethrown. `summary` adds facts from a
   * successful result (e.g. the job run's status).
   */
  async around<T>(
    actor: string,
    action: string,
    target: string | null,
    details: Record<string, unknown>,
    run: () => Promise<T>,
    summary: (result: T) => Record<string, unknown> = () => ({ status: 'succeeded' }),
  ): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (error) {
      const failure = { ...details, status: 'failed', error: (error as Error).message };
      // The action's own error is what the caller must see, even if the audit write fails too.
      await this.record(actor, action, target, failure).catch((e: Error) =>
        this.logger.error(`could not audit failed ${action} by ${actor}: ${e.message}`),
      );
      throw error;
    }
    await this.record(actor, action, target, { ...details, ...summary(result) });
    return result;
  }
}
