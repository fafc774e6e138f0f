import { rmSync } from 'node:fs';

/** Stops and removes the embedded server global-setup.ts started, if any. */
export default function globalTeardown(): void {
  const server = (globalThis as { embeddedTestServer?: { stop(): void; dir: string } })
    .embeddedTestServer;
  if (!server) return;
  server.stop();
  rmSync(server.dir, { recursive: true, force: true });
}
