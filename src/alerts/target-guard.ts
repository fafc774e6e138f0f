import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Networks a webhook must not reach unless private targets are allowed (SSRF): loopback,
 * private (RFC 1918, unique-local), link-local (cloud metadata lives there), carrier-grade
 * NAT, "this network", multicast and reserved ranges.
 */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}

/** True when `address` (a literal IPv4/IPv6 address) is on a blocked network. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms reach IPv4 hosts.
    const mapped = /^::(ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped) return BLOCKED.check(mapped[2], 'ipv4');
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
    if (hexMapped) {
      const hi = parseInt(hexMapped[1], 16);
      const lo = parseInt(hexMapped[2], 16);
      return BLOCKED.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
    return BLOCKED.check(bare, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

export class TargetRefused extends Error {}

/** Checks a webhook URL's shape: http(s), a host, no credentials. Returns the parsed URL. */
export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TargetRefused('url must use http or https');
  if (url.username || url.password) throw new TargetRefused('url must not carry credentials');
  if (!url.hostname) throw new TargetRefused('url must name a host');
  return url;
}

type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/**
 * Refuses a target whose literal address, or any address its name resolves to, is private
 * (unless allowed). Used when a channel is created; the send path checks again in its own
 * DNS lookup (see `guardedLookup`), so a name that later resolves elsewhere (DNS rebinding)
 * is still refused.
 */
export async function checkTarget(
  raw: string,
  allowPrivate: boolean,
  resolver: Resolver = systemResolver,
): Promise<URL> {
  const url = parseTargetUrl(raw);
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw new TargetRefused(`url: ${host} is a private address`);
    return url;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    throw new TargetRefused(`url: cannot resolve ${host} (${(error as Error).message})`);
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad) throw new TargetRefused(`url: ${host} resolves to private address ${bad.address}`);
  return url;
}

/**
 * A `lookup` for http.request that refuses private addresses: the connection goes to exactly
 * the address that was checked, so the check cannot be raced by a second resolution.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const usable = allowPrivate
        ? addresses
        : addresses.filter((a) => !isPrivateAddress(a.address));
      if (usable.length === 0) {
        const refused: NodeJS.ErrnoException = new TargetRefused(
          `${hostname} resolves only to private addresses`,
        );
        refused.code = 'ETARGETREFUSED';
        return callback(refused, '');
      }
      if (options.all) return callback(null, usable);
      callback(null, usable[0].address, usable[0].family);
    });
  };
}
