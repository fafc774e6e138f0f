import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { resolveDataSource } from './src/database/data-source';

/**
 * The TypeORM CLI's data source: the same options the service uses. With no database
 * configured the embedded PostgreSQL is started (or reused) and stopped again when the CLI
 * exits, if this process started it.
 */
async function cliDataSource(): Promise<DataSource> {
  const { dataSource, embedded } = await resolveDataSource(loadConfig());
  if (embedded?.owned) process.on('exit', () => embedded.stop());
  return dataSource;
}

export default cliDataSource();
