import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The service's version from its package.json, found by walking up from this file (it sits at
 * a different depth under src/ and dist/src/). npm's environment is not there under plain node.
 */
function readVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'trend-service' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export const SERVICE_VERSION = readVersion();
