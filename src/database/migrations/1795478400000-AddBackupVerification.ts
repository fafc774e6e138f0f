import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outcome of the last verification of a backup (ok, failed step, row-count comparison),
 * kept apart from `error`, which describes the backup run itself.
 */
export class AddBackupVerification1795478400000 implements MigrationInterface {
  name = 'AddBackupVerification1795478400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE backups ADD COLUMN verification jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE backups DROP COLUMN verification`);
  }
}
