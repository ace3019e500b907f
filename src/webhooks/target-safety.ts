// Where webhooks may go: http(s) only, and never to loopback, private, link-local or other
// non-public addresses unless RELAYKEY_WEBHOOK_ALLOW_NETWORKS lists them. The check runs
// on the URL when an endpoint is saved and again on every address DNS returns at connect
// time (a lookup hook), so a name that later resolves inward is refused too.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { ipInNetworks } from '../domain/network.js';

export class UnsafeTargetError extends Error {}

/** True when an address is publicly routable unicast or the allow list permits it. */
export function addressAllowed(address: string, allowNetworks: readonly string[]): boolean {
  if (ipInNetworks(address, allowNetworks)) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d) name an
    // IPv4 address: judge that address.
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
  }
  return parsed.range() === 'unicast';
}

/** Parses and checks a webhook URL's shape and, for IP literals, its address. Returns a problem or null. */
export function urlProblem(raw: string, allowNetworks: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
  if (url.username || url.password) return 'url must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // `localhost.` (with the root's trailing dot, which DNS may not resolve at save time) and every
  // name under `localhost` are loopback (RFC 6761); plain `localhost` is refused once resolved.
  const loopbackAllowed = ipInNetworks('127.0.0.1', allowNetworks) || ipInNetworks('::1', allowNetworks);
  if (!loopbackAllowed && /^localhost\.$|\.localhost\.?$/i.test(host)) return `url points at ${host}, a loopback name (see RELAYKEY_WEBHOOK_ALLOW_NETWORKS)`;
  if (ipaddr.isValid(host) && !addressAllowed(host, allowNetworks)) {
    return `url points at ${host}, a loopback, private, link-local or reserved address (see RELAYKEY_WEBHOOK_ALLOW_NETWORKS)`;
  }
  return null;
}

/** Resolves a URL's host and checks every address it maps to. Returns a problem or null. */
export async function resolvedProblem(raw: string, allowNetworks: readonly string[]): Promise<string | null> {
  const shape = urlProblem(raw, allowNetworks);
  if (shape) return shape;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return null;
  const addresses = await new Promise<LookupAddress[] | null>((resolve) => {
    dnsLookup(host, { all: true }, (error, found) => resolve(error ? null : found));
  });
  // A name that does not resolve yet is accepted; every delivery checks again at connect time.
  if (!addresses) return null;
  const refused = addresses.find((a) => !addressAllowed(a.address, allowNetworks));
  return refused ? `url host ${host} resolves to ${refused.address}, a loopback, private, link-local or reserved address` : null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http(s).request that refuses disallowed addresses after resolution. */
export function guardedLookup(allowNetworks: readonly string[]) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const refused = list.find((a) => !addressAllowed(a.address, allowNetworks));
      if (refused) {
        return callback(new UnsafeTargetError(`${hostname} resolves to ${refused.address}, which webhooks may not reach`), []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new UnsafeTargetError(`${hostname} did not resolve`), []);
      callback(null, first.address, first.family);
    });
  };
}
