import { Client } from 'pg';

/** The PostgreSQL server tests create their databases on (set up by global-setup.ts). */
export interface TestServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function testServer(): TestServer {
  return {
    host: process.env.TEST_PG_HOST ?? '127.0.0.1',
    port: Number(process.env.TEST_PG_PORT ?? 5432),
    user: process.env.TEST_PG_USER ?? 'postgres',
    password: process.env.TEST_PG_PASSWORD ?? '',
  };
}

export async function canConnect(server: TestServer): Promise<boolean> {
  const client = new Client({ ...server, database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
