import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// semver is npm's own range logic (installed with npm's tooling; no types shipped).
const semver = createRequire(__filename)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  intersects(a: string, b: string): boolean;
};

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

/** `engines` says what is supported, and the image's Node is one of them (issue 10 item 7). */
describe('Node engines are honest', () => {
  const engines = pkg.engines.node;

  it('the lock file root mirrors package.json', () => {
    expect(lock.packages[''].engines).toEqual({ node: engines });
  });

  it('the Node running these tests is a supported one', () => {
    expect([process.version, semver.satisfies(process.version, engines)]).toEqual([
      process.version,
      true,
    ]);
  });

  it("the image's Node (22, or 24 by build-arg) meets every dependency's engines", () => {
    const image = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];
    expect(image).toBe('22');
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS build$/m);
    for (const major of [image as string, '24']) {
      // The oldest release of that line the engines accept must satisfy every package.
      const range = engines
        .split('||')
        .map((r) => r.trim())
        .find((r) => semver.intersects(r, `^${major}.0.0`));
      expect(range).toBeDefined();
      const floor = semver.minVersion(range as string)?.version as string;
      const refusing = Object.entries(lock.packages)
        .filter(([, p]) => !Array.isArray(p.engines) && typeof p.engines?.node === 'string')
        .filter(([, p]) => !semver.satisfies(floor, (p.engines as { node: string }).node))
        .map(([name, p]) => `${name} (${(p.engines as { node: string }).node})`);
      expect([floor, refusing]).toEqual([floor, []]);
    }
  });
});
