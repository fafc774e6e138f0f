/**
 * Sign-in state without the DOM: parsing a pasted JWT, the `#token=` fragment, and roles.
 * The dashboard never verifies the signature (the API does on every call); it only reads the
 * roles to hide controls a user could not use anyway, and `exp` to sign out on time.
 */
export type Role = 'admin' | 'analyst' | 'ingest';

export interface Session {
  token: string;
  subject: string;
  roles: Role[];
  /** Unix seconds; undefined when the token has none. */
  expiresAt?: number;
}

export class TokenError extends Error {}

function base64UrlDecode(part: string): string {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

const KNOWN_ROLES: Role[] = ['admin', 'analyst', 'ingest'];

/** Reads a JWT's claims; throws TokenError with a message fit for the sign-in form. */
export function parseToken(raw: string, nowSeconds = Date.now() / 1000): Session {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new TokenError('This is not a JWT (expected three dot-separated parts).');
  }
  let claims: { sub?: unknown; roles?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(base64UrlDecode(parts[1])) as typeof claims;
  } catch {
    throw new TokenError('The token payload cannot be read.');
  }
  if (typeof claims !== 'object' || claims === null) {
    throw new TokenError('The token payload cannot be read.');
  }
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is Role => KNOWN_ROLES.includes(r as Role))
    : [];
  const expiresAt = typeof claims.exp === 'number' ? claims.exp : undefined;
  if (expiresAt !== undefined && expiresAt <= nowSeconds) {
    throw new TokenError('This token has expired.');
  }
  if (!roles.includes('admin') && !roles.includes('analyst')) {
    throw new TokenError('The dashboard needs a token with the analyst or admin role.');
  }
  return {
    token,
    subject: typeof claims.sub === 'string' ? claims.sub : 'unknown',
    roles,
    expiresAt,
  };
}

export const isAdmin = (session: Session | null): boolean =>
  session?.roles.includes('admin') ?? false;

/**
 * Splits the address fragment into a `token=` value and the rest (the view route).
 * `#token=abc` → { token: 'abc', route: '' }; `#/movers&token=abc` → { token, route: '/movers' }.
 */
export function takeTokenFromHash(hash: string): { token?: string; route: string } {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  const match = /(^|[&?])token=([^&]*)/.exec(body);
  if (!match) return { route: body };
  const route = (body.slice(0, match.index) + body.slice(match.index + match[0].length)).replace(
    /^[&?]+|[&?]+$/g,
    '',
  );
  return { token: decodeURIComponent(match[2]), route };
}
