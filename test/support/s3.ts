import { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/common/free-port';

// s3rver ships no types; the little used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<unknown>;
  httpServer?: Server;
};

/** s3rver's fixed development credentials. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

/**
 * An S3-compatible server (s3rver) on 127.0.0.1 and a free port, storing in a temporary
 * directory. `stop()` takes it down (connections included) and `start()` brings it back on the
 * same port with the same objects: a storage outage in a test.
 */
export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  client: S3Client;
  env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startTestS3(
  bucket = 'backups',
  tls?: { key: Buffer; cert: Buffer },
): Promise<TestS3> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'trend-s3rver-'));
  let server: InstanceType<typeof S3rver> | undefined;
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const s3: TestS3 = {
    endpoint,
    port,
    bucket,
    client,
    env: {
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: endpoint,
      BACKUP_S3_REGION: 'us-east-1',
      BACKUP_S3_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
      BACKUP_S3_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
      BACKUP_S3_FORCE_PATH_STYLE: 'true',
    },
    start: async () => {
      server = new S3rver({
        address: '127.0.0.1',
        port,
        directory,
        silent: true,
        configureBuckets: [{ name: bucket }],
        ...(tls ?? {}),
      });
      await server.run();
    },
    stop: async () => {
      const http = server?.httpServer;
      server = undefined;
      if (!http) return;
      const closed = new Promise((resolve) => http.close(resolve));
      http.closeAllConnections();
      await closed;
    },
    destroy: async () => {
      await s3.stop();
      client.destroy();
      rmSync(directory, { recursive: true, force: true });
    },
  };
  await s3.start();
  return s3;
}
