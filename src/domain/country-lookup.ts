// IP -> ISO country code through geoip-country (MaxMind's GeoLite2 country data, ~15 MB
// installed, updated with the package). It is loaded on the first public IP a session records
// (~100 ms and ~20 MB resident for its IPv4 and IPv6 tables), never at start-up.
import { createRequire } from 'node:module';

interface GeoipCountry {
  lookup(ip: string): { country: string } | null;
}

// The loaded module, process-wide like any import (loaded lazily): read-only data, not a registry.
let geoip: GeoipCountry | null = null;

/** The ISO 3166 alpha-2 code for a public IP, or '' when unknown. */
export function countryCodeOf(ip: string): string {
  geoip ??= createRequire(import.meta.url)('geoip-country') as GeoipCountry;
  try {
    return geoip.lookup(ip)?.country ?? '';
  } catch {
    return '';
  }
}
