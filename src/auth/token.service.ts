import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { JwtPayload, verify } from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { KeyObject, createPublicKey, createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { resolveJwtSecret } from './jwt-secret';
import { AuthUser, ROLES, Role } from './roles';

/** Verified tokens remembered per process (a dashboard reuses one token for many requests). */
const VERIFIED_TOKENS_MAX = 10_000;

interface VerifiedToken {
  user: AuthUser;
  /** `exp` in ms: the entry is only used strictly before it, as jsonwebtoken would judge. */
  expiresAt: number;
}

/** Verifies and mints bearer tokens. Algorithms are pinned: HS256, plus RS256 with a public key. */
@Injectable()
export class TokenService {
  private readonly secret?: string;
  /**
   * Verification keys parsed once. Given a plain string, jsonwebtoken re-parses it on every
   * call (and first tries it as a public key), which dominated the cost of a cached request.
   */
  private readonly keys: Partial<Record<'HS256' | 'RS256', KeyObject>> = {};
  /**
   * Tokens that passed every check, by their exact text, until their `exp`: the signature of a
   * given text never changes, so a repeat skips the HMAC/RSA and JSON work. Only successes are
   * kept; a token failing any check is verified (and rejected) afresh every time.
   */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKENS_MAX });

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.secret = resolveJwtSecret(config);
    if (this.secret) this.keys.HS256 = createSecretKey(Buffer.from(this.secret));
    if (config.jwt.publicKey) this.keys.RS256 = createPublicKey(config.jwt.publicKey);
  }

  verify(token: string): AuthUser {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return known.user;
      this.verified.delete(token);
    }
    const alg = this.headerAlgorithm(token);
    const key = alg === 'HS256' || alg === 'RS256' ? this.keys[alg] : undefined;
    if (!key) {
      throw new UnauthorizedException(`Token algorithm ${alg ?? 'unknown'} is not accepted`);
    }
    let payload: JwtPayload & Record<string, unknown>;
    try {
      payload = verify(token, key, {
        algorithms: [alg as 'HS256' | 'RS256'],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      }) as JwtPayload & Record<string, unknown>;
    } catch (error) {
      throw new UnauthorizedException(`Invalid token: ${(error as Error).message}`);
    }
    if (typeof payload.exp !== 'number') throw new UnauthorizedException('Token has no exp claim');
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new UnauthorizedException('Token has no sub claim');
    }
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is Role => ROLES.includes(r as Role))
      : [];
    const user = { sub: payload.sub, roles };
    this.verified.set(token, { user, expiresAt: payload.exp * 1000 });
    return user;
  }

  /** Mints an HS256 token (the token CLI and the dev token printed at start). */
  sign(sub: string, roles: Role[], ttlSeconds: number): string {
    if (!this.secret) throw new Error('No JWT secret configured: set JWT_SECRET');
    return this.jwt.sign(
      { sub, roles },
      {
        algorithm: 'HS256',
        secret: this.secret,
        expiresIn: ttlSeconds,
        // jsonwebtoken rejects explicit undefined values here
        ...(this.config.jwt.issuer ? { issuer: this.config.jwt.issuer } : {}),
        ...(this.config.jwt.audience ? { audience: this.config.jwt.audience } : {}),
      },
    );
  }

  private headerAlgorithm(token: string): string | undefined {
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as {
        alg?: unknown;
      };
      return typeof header.alg === 'string' ? header.alg : undefined;
    } catch {
      throw new UnauthorizedException('Malformed token');
    }
  }
}
