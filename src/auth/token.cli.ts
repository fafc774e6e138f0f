/**
 * Mints a bearer token: npm run token -- --sub NAME --role admin [--role analyst] [--ttl 1h]
 * Uses JWT_SECRET, or the dev secret under DATA_DIR outside production.
 */
import { JwtService } from '@nestjs/jwt';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { parseDuration } from '../config/env.schema';
import { ROLES, Role } from './roles';
import { TokenService } from './token.service';

function main(): void {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
    },
  });
  const roles = values.role ?? [];
  const bad = roles.filter((role) => !ROLES.includes(role as Role));
  if (!values.sub || roles.length === 0 || bad.length > 0) {
    console.error(
      `usage: npm run token -- --sub NAME --role ${ROLES.join('|')} [--role ...] [--ttl 1h]` +
        (bad.length ? `\nunknown role(s): ${bad.join(', ')}` : ''),
    );
    process.exit(2);
  }
  const ttlMs = parseDuration(values.ttl);
  const tokens = new TokenService(new JwtService({}), loadConfig());
  process.stdout.write(tokens.sign(values.sub, roles as Role[], Math.round(ttlMs / 1000)) + '\n');
}

main();
