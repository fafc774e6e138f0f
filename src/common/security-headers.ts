import helmet, { HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * helmet's settings for every answer (@fastify/helmet in app.factory.ts). No CSP on the API:
 * it answers JSON and CSV; the dashboard sets its own strict policy on its routes.
 */
export const HELMET_OPTIONS: HelmetOptions = { contentSecurityPolicy: false };

/**
 * The headers helmet sets with HELMET_OPTIONS, as a flat [name, value, …] list for
 * `writeHead`. With no CSP nonce they are the same on every answer, so code that answers
 * without Fastify (the cache fast path) sends them without running helmet per request.
 */
export function staticSecurityHeaders(): string[] {
  const headers: string[] = [];
  const res = {
    setHeader: (name: string, value: string) => void headers.push(name, String(value)),
    removeHeader: () => undefined,
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  return headers;
}
