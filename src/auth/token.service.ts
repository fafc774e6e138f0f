import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Algorithm } from 'jsonwebtoken';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { resolveJwtSecret } from './jwt-secret';
import { AuthUser, ROLES, Role } from './roles';

/** Verifies and mints bearer tokens. Algorithms are pinned: HS256, plus RS256 with a public key. */
@Injectable()
export class TokenService {
  private readonly secret?: string;

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.secret = resolveJwtSecret(config);
  }

  async verify(token: string): Promise<AuthUser> {
    const alg = this.headerAlgorithm(token);
    const key =
      alg === 'HS256' ? this.secret : alg === 'RS256' ? this.config.jwt.publicKey : undefined;
    if (!key)
      throw new UnauthorizedException(`Token algorithm ${alg ?? 'unknown'} is not accepted`);
    let payload: Record<string, unknown>;
    try {
      payload = await this.jwt.verifyAsync<Record<string, unknown>>(token, {
        algorithms: [alg as Algorithm],
        secret: alg === 'HS256' ? key : undefined,
        publicKey: alg === 'RS256' ? key : undefined,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      });
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
    return { sub: payload.sub, roles };
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
