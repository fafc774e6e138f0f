import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/config';

/**
 * The HS256 secret: JWT_SECRET, or outside production a secret generated once under
 * DATA_DIR (so tokens minted by `npm run token` keep working across restarts).
 */
export function resolveJwtSecret(config: AppConfig): string | undefined {
  if (config.jwt.secret) return config.jwt.secret;
  if (config.env === 'production') return undefined; // config validation demands a key there
  const file = join(config.dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}
