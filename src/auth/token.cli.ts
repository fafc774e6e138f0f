/**
 * Mints a bearer token: npm run token -- --sub NAME --role admin [--role analyst] [--ttl 1h]
 * Uses JWT_SECRET, or the dev secret under DATA_DIR outside production.
 */
import { JwtService } from '@nestjs/jwt';
import { parseArgs } from 'node:util';
import { printHelp, wantsHelp } from '../common/cli';
import { loadConfig } from '../config/config';
import { parseDuration } from '../config/env.schema';
import { ROLES, Role } from './roles';
import { TokenService } from './token.service';

const USAGE = `usage: npm run token -- --sub NAME --role ${ROLES.join('|')} [--role ...] [--ttl 1h]

Prints a signed bearer token (HS256 with JWT_SECRET, or the dev secret under DATA_DIR).
  --sub NAME    subject (who the token is for)
  --role ROLE   ${ROLES.join(', ')}; repeat for several
  --ttl TIME    lifetime such as 15m, 1h, 7d (default 1h)
  -h, --help    this help`;

function fail(problem?: string): never {
  console.error(problem ? `${problem}\n${USAGE}` : USAGE);
  process.exit(2);
}

function main(): void {
  if (wantsHelp()) printHelp(USAGE);
  let values: { sub?: string; role?: string[]; ttl: string };
  try {
    ({ values } = parseArgs({
      options: {
        sub: { type: 'string' },
        role: { type: 'string', multiple: true },
        ttl: { type: 'string', default: '1h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const roles = values.role ?? [];
  const bad = roles.filter((role) => !ROLES.includes(role as Role));
  if (bad.length) fail(`unknown role(s): ${bad.join(', ')}`);
  if (!values.sub || roles.length === 0) fail();
  let ttlMs: number;
  try {
    ttlMs = parseDuration(values.ttl);
  } catch (error) {
    fail(`--ttl ${(error as Error).message}`);
  }
  if (ttlMs < 1000) fail('--ttl must be at least 1s');
  const tokens = new TokenService(new JwtService({}), loadConfig());
  process.stdout.write(tokens.sign(values.sub, roles as Role[], Math.round(ttlMs / 1000)) + '\n');
}

try {
  main();
} catch (error) {
  console.error(`token: ${(error as Error).message}`);
  process.exit(1);
}
