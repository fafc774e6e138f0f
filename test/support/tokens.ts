import { sign } from 'jsonwebtoken';

/** The HS256 secret every test app is configured with. */
export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export type TestRole = 'admin' | 'analyst' | 'ingest';

/** Mints a token independently of the service's own code. */
export function tokenFor(roles: TestRole[], sub = 'tester', secret = TEST_JWT_SECRET): string {
  return sign({ sub, roles }, secret, { algorithm: 'HS256', expiresIn: 600 });
}

export const bearer = (roles: TestRole[]) => ({ Authorization: `Bearer ${tokenFor(roles)}` });
