// The one key format: <prefix>_<32 base62 random chars (~190 bits)><6 base62 chars of CRC32>.
// The checksum lets us reject garbled keys without touching the database and lets secret
// scanners recognise leaked keys.
import { crc32 } from 'node:zlib';
import { encodeBase62Fixed, randomBase62 } from './base62.js';

export const KEY_PREFIXES = {
  credential: 'rk',
  seed001: 'vml',
  seed002: 'rm',
  seed003Secret: 'rks',
  smtpAccount: 'rkp',
  bearerToken: 'rkb',
  serverToken: 'rkx',
  verifierToken: 'rkv',
  adminSession: 'rka',
  reauthToken: 'rkr',
} as const;

export type KeyPrefix = (typeof KEY_PREFIXES)[keyof typeof KEY_PREFIXES];

const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KNOWN_PREFIXES = new Set<string>(Object.values(KEY_PREFIXES));
const KEY_PATTERN = /^([a-z]{2,5})_([0-9A-Za-z]{38})$/;

function checksumOf(prefix: string, body: string): string {
  return encodeBase62Fixed(crc32(`${prefix}_${body}`), CHECKSUM_LENGTH);
}

export function generateKey(prefix: KeyPrefix): string {
  const body = randomBase62(BODY_LENGTH);
  return `${prefix}_${body}${checksumOf(prefix, body)}`;
}

export interface ParsedKey {
  prefix: KeyPrefix;
}

/** Returns the prefix when the key is well formed and its checksum holds; otherwise null. */
export function parseKey(candidate: string): ParsedKey | null {
  if (candidate.length > 64) return null;
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return null;
  const prefix = match[1] as string;
  const rest = match[2] as string;
  if (!KNOWN_PREFIXES.has(prefix)) return null;
  const body = rest.slice(0, BODY_LENGTH);
  if (checksumOf(prefix, body) !== rest.slice(BODY_LENGTH)) return null;
  return { prefix: prefix as KeyPrefix };
}

/** A short, non-secret hint for lists: prefix and the last four characters. */
export function keyHint(key: string): string {
  const underscore = key.indexOf('_');
  return `${key.slice(0, underscore + 1)}…${key.slice(-4)}`;
}
