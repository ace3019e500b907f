// Client network checks for credentials restricted to CIDR lists.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export function isValidCidr(cidr: string): boolean {
  try {
    ipaddr.parseCIDR(cidr);
    return true;
  } catch {
    return false;
  }
}

/** Canonical address text only (dotted-decimal IPv4 without leading zeros, IPv6): no octal, hex or integer forms. */
export function isValidIp(ip: string): boolean {
  return isIP(ip) !== 0;
}

function normalise(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address();
  return address;
}

export function ipInNetworks(ip: string, cidrs: readonly string[]): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  if (isIP(ip) === 0) return false;
  try {
    address = normalise(ipaddr.parse(ip));
  } catch {
    return false;
  }
  for (const cidr of cidrs) {
    try {
      const [range, bits] = ipaddr.parseCIDR(cidr);
      const normalisedRange = normalise(range);
      if (
        normalisedRange.kind() === address.kind() &&
        address.match([normalisedRange, normalisedRange.kind() === 'ipv4' && range.kind() === 'ipv6' ? bits - 96 : bits] as [ipaddr.IPv4 | ipaddr.IPv6, number])
      )
        return true;
    } catch {
      // An unparsable entry never matches; input validation keeps them out in the first place.
    }
  }
  return false;
}

/**
 * One text per address, for counters and keys: IPv4-mapped IPv6 becomes IPv4, IPv6 is in its
 * canonical compressed lower-case form, spaces are dropped. Unparsable text is kept (trimmed,
 * lower-cased) so that it still counts, under a form of its own.
 */
export function canonicalIp(ip: string | null | undefined): string {
  const text = (ip ?? '').trim().toLowerCase();
  if (!ipaddr.isValid(text)) return text;
  return normalise(ipaddr.parse(text)).toString();
}
