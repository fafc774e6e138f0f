import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Off-site copy of a backup (`offsite`: key, status, uploadedAt, error — SPEC §15) and the
 * state of its last background restore (`restore`), beside `verification`.
 */
export class AddBackupOffsiteAndTasks1796200000000 implements MigrationInterface {
  name = 'AddBackupOffsiteAndTasks1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE backups ADD COLUMN offsite jsonb, ADD COLUMN restore jsonb`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE backups DROP COLUMN restore, DROP COLUMN offsite`);
  }
}
