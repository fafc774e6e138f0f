export default function globalTeardown(): void {
  (globalThis as { embeddedTestServer?: { stop(): void } }).embeddedTestServer?.stop();
}
