import Redis from 'ioredis';
import { TestApp, startTestApp } from './app';
import { TestDatabase, createTestDatabase } from './database';
import { SHARED_REDIS, deletePrefix } from './redis';

/** Two app instances on one database and one key prefix of the shared Redis: two replicas. */
export interface Replicas {
  a: TestApp;
  b: TestApp;
  /** A plain client of the shared Redis, for looking at the keys under the prefix. */
  redis: Redis;
  db: TestDatabase;
  prefix: string;
}

/** Starts both replicas on a fresh database; `env` applies to both, `envB` to b on top. */
export async function startReplicas(
  database: string,
  prefix: string,
  env: Record<string, string> = {},
  envB: Record<string, string> = {},
): Promise<Replicas> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const db = await createTestDatabase(database);
  const shared = { ...SHARED_REDIS, REDIS_KEY_PREFIX: prefix, ...env };
  const a = await startTestApp(db, shared);
  const b = await startTestApp(db, { ...shared, ...envB });
  return { a, b, redis, db, prefix };
}

/** Stops both replicas, drops the database and deletes the keys under the prefix. */
export async function stopReplicas(replicas: Replicas | undefined): Promise<void> {
  if (!replicas) return;
  await replicas.a.close();
  await replicas.b.close();
  await replicas.db.drop();
  await deletePrefix(replicas.redis, replicas.prefix);
  replicas.redis.disconnect();
}
