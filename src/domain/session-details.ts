// What a session row says about a client beyond its IP: the parsed user agent and the country.
// Runs at flush time, never on the verify path. The country comes from the country-only
// GeoLite2 data of geoip-country (country-lookup.ts), loaded on first use of a public IP.
import ipaddr from 'ipaddr.js';
import { createRequire } from 'node:module';
import type { UAParser as UAParserType } from 'ua-parser-js';
import { countryCodeOf } from './country-lookup.js';

// The parser module and the tables below are loaded lazily and are process-wide like any import:
// read-only once built, never registered into (not a registry).
let UAParser: typeof UAParserType | null = null;

export interface ClientDetails {
  userAgentFamily: string;
  userAgentVersion: string;
  userAgentMajorVersion: string;
  osFamily: string;
  osVersion: string;
  deviceFamily: string;
  deviceBrand: string;
  deviceType: string;
  country: string;
  countryIsoCode: string;
}

let regionNames: Intl.DisplayNames | null = null;

/**
 * Mail clients ua-parser-js does not name on its own (it reads Thunderbird as "Mozilla 5.0"):
 * tried before its own rules. Built with the parser, at the first usage flush.
 */
let mailClients: Record<string, unknown[]> | null = null;

function isPublic(ip: string): boolean {
  try {
    let address = ipaddr.parse(ip);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
    return address.range() === 'unicast';
  } catch {
    return false;
  }
}

type Country = Readonly<{ country: string; countryIsoCode: string }>;

const NO_COUNTRY: Country = Object.freeze({ country: '', countryIsoCode: '' });

/**
 * `compute`, remembered per key: a flush sees the same clients again and again. Once `limit`
 * keys are held it forgets them all rather than grow (the answers are cheap to find again).
 */
function remembered<V>(limit: number, compute: (key: string) => V): (key: string) => V {
  const answers = new Map<string, V>();
  return (key) => {
    const known = answers.get(key);
    if (known !== undefined) return known;
    const answer = compute(key);
    if (answers.size >= limit) answers.clear();
    answers.set(key, answer);
    return answer;
  };
}

function findCountry(ip: string): Country {
  if (!isPublic(ip)) return NO_COUNTRY;
  const iso = countryCodeOf(ip);
  if (!iso) return NO_COUNTRY;
  let name = iso;
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    name = regionNames.of(iso) ?? iso;
  } catch {
    // an unknown code keeps the code as the name
  }
  return Object.freeze({ country: name, countryIsoCode: iso });
}

type UserAgentDetails = Omit<ClientDetails, 'country' | 'countryIsoCode'>;

function parseUserAgent(rawUserAgent: string): UserAgentDetails {
  // Loaded at the first usage flush, not at start-up.
  UAParser ??= (createRequire(import.meta.url)('ua-parser-js') as { UAParser: typeof UAParserType }).UAParser;
  mailClients ??= {
    browser: [
      [/\b(thunderbird)\/([\w.]+)/i, /\b(microsoft outlook)[ /]([\w.]+)/i],
      [UAParser.BROWSER.NAME, UAParser.BROWSER.VERSION],
    ],
  };
  const parsed = new UAParser(rawUserAgent, mailClients as never).getResult();
  return Object.freeze({
    userAgentFamily: parsed.browser.name ?? (rawUserAgent ? 'Other' : ''),
    userAgentVersion: parsed.browser.version ?? '',
    userAgentMajorVersion: parsed.browser.major ?? '',
    osFamily: parsed.os.name ?? '',
    osVersion: parsed.os.version ?? '',
    // No user agent at all: seed 003's document shows device_family "Other", device_type "Unknown".
    deviceFamily: parsed.device.model ?? (rawUserAgent ? '' : 'Other'),
    deviceBrand: parsed.device.vendor ?? '',
    deviceType: parsed.device.type ?? (rawUserAgent ? '' : 'Unknown'),
  });
}

/** Countries by IP: finding one costs 1-8 µs (parsing the address, its range, the GeoLite tree). */
export const countryOf = remembered(10_000, findCountry);

/** Parsed user agents by raw string: mail clients repeat a handful of them, parsing costs ~10 µs. */
const userAgentDetails = remembered(1_000, parseUserAgent);

export function clientDetails(ip: string, rawUserAgent: string): ClientDetails {
  return { ...userAgentDetails(rawUserAgent), ...countryOf(ip) };
}
