// Client network checks for credentials restricted to CIDR lists.
import ipaddr from 'ipaddr.js';

export function isValidCidr(cidr: string): boolean {
  try {
    ipaddr.parseCIDR(cidr);
    return true;
  } catch {
    return false;
  }
}

export function isValidIp(ip: string): boolean {
  return ipaddr.isValid(ip);
}

function normalise(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address();
  return address;
}

export function ipInNetworks(ip: string, cidrs: readonly string[]): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
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
