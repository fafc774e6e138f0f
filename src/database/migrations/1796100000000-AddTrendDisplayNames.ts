import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mentions per spelling of each trend, so its display name can be the spelling with the most
 * mentions (ties: the latest) instead of the latest single observation. Ingest adds the rows it
 * inserts in the same statement as the rollups; rows go with their catalogue entry. Backfilled
 * from the raw observations still stored (older history has no spellings; the catalogue's
 * name stands in until new observations arrive).
 */
export class AddTrendDisplayNames1796100000000 implements MigrationInterface {
  name = 'AddTrendDisplayNames1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE trend_display_names (
        trend_key text NOT NULL,
        display_name text NOT NULL,
        mentions bigint NOT NULL,
        last_seen_at timestamptz NOT NULL,
        CONSTRAINT pk_trend_display_names PRIMARY KEY (trend_key, display_name),
        CONSTRAINT fk_trend_display_names_catalog FOREIGN KEY (trend_key)
          REFERENCES trend_catalog (trend_key) ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      INSERT INTO trend_display_names (trend_key, display_name, mentions, last_seen_at)
      SELECT o.trend_key, o.display_name, sum(o.mentions), max(o.observed_at)
      FROM trend_observations o JOIN trend_catalog c USING (trend_key)
      GROUP BY 1, 2`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE trend_display_names`);
  }
}
