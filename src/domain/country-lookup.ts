// IP -> ISO country code from the country-only GeoLite files that geoip-lite ships
// (data/geoip-country.dat, 4.5 MB; data/geoip-country6.dat, 10 MB, read only once an IPv6
// address is seen). geoip-lite's own lookup loads its city database (~140 MB resident) on
// first use; a session row needs only the country, so we binary-search the country files.
// Record layout (geoip-lite's format): IPv4 10 bytes = start u32, end u32, 2-byte code;
// IPv6 34 bytes = start 16 bytes, end 16 bytes, 2-byte code (NUL-padded); like geoip-lite,
// IPv6 ranges are compared on their upper 64 bits.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';

const RECORD4 = 10;
const RECORD6 = 34;

let data4: Buffer | null = null;
let data6: Buffer | null = null;

function dataFile(name: string): Buffer {
  const main = createRequire(import.meta.url).resolve('geoip-lite');
  return readFileSync(join(dirname(main), '..', 'data', name));
}

function search4(ip: number): string {
  data4 ??= dataFile('geoip-country.dat');
  let low = 0;
  let high = data4.length / RECORD4 - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = mid * RECORD4;
    if (ip < data4.readUInt32BE(at)) high = mid - 1;
    else if (ip > data4.readUInt32BE(at + 4)) low = mid + 1;
    else return data4.toString('latin1', at + 8, at + 10).replace(/\0.*/, '');
  }
  return '';
}

function search6(hi: number, lo: number): string {
  data6 ??= dataFile('geoip-country6.dat');
  const compare = (at: number): number => {
    const h = data6?.readUInt32BE(at) ?? 0;
    if (hi !== h) return hi < h ? -1 : 1;
    const l = data6?.readUInt32BE(at + 4) ?? 0;
    return lo === l ? 0 : lo < l ? -1 : 1;
  };
  let low = 0;
  let high = data6.length / RECORD6 - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = mid * RECORD6;
    if (compare(at) < 0) high = mid - 1;
    else if (compare(at + 16) > 0) low = mid + 1;
    else return data6.toString('latin1', at + 32, at + 34).replace(/\0.*/, '');
  }
  return '';
}

/** The ISO 3166 alpha-2 code for a public IP, or '' when unknown. */
export function countryCodeOf(ip: string): string {
  if (isIPv4(ip)) {
    const bytes = ipaddr.IPv4.parse(ip).toByteArray();
    return search4((((bytes[0] as number) << 24) | ((bytes[1] as number) << 16) | ((bytes[2] as number) << 8) | (bytes[3] as number)) >>> 0);
  }
  if (!isIPv6(ip)) return '';
  const address = ipaddr.IPv6.parse(ip);
  if (address.isIPv4MappedAddress()) return countryCodeOf(address.toIPv4Address().toString());
  const parts = address.parts;
  const word = (i: number) => ((((parts[i] as number) << 16) | (parts[i + 1] as number)) >>> 0) as number;
  return search6(word(0), word(2));
}
