// The one key format: <prefix>_<32 base62 random chars (~190 bits)><6 base62 chars of CRC32>.
// The checksum lets us reject garbled keys without touching the database and lets secret
// scanners recognise leaked keys.
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { BASE62_ALPHABET, encodeBase62Fixed, randomBase62 } from './base62.js';

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
const ALPHABET_CODES = Buffer.from(BASE62_ALPHABET, 'latin1');
const KEY_PATTERN = /^([a-z]{2,5})_([0-9A-Za-z]{38})$/;

function checksumOf(prefix: string, body: string): string {
  return encodeBase62Fixed(crc32(`${prefix}_${body}`), CHECKSUM_LENGTH);
}

export function generateKey(prefix: KeyPrefix): string {
  const body = randomBase62(BODY_LENGTH);
  return `${prefix}_${body}${checksumOf(prefix, body)}`;
}

/**
 * Many keys at once (bulk import): the same format and distribution as generateKey, but the
 * random bytes come from one large read instead of one small read per key.
 */
export function generateKeys(prefix: KeyPrefix, count: number): string[] {
  const keys: string[] = new Array(count);
  const body = Buffer.alloc(BODY_LENGTH);
  // 248/256 of bytes are kept; 1.25x the need plus slack makes a refill rare.
  let pool = randomBytes(Math.ceil(count * BODY_LENGTH * 1.25) + 64);
  let position = 0;
  for (let i = 0; i < count; i += 1) {
    let filled = 0;
    while (filled < BODY_LENGTH) {
      if (position >= pool.length) {
        pool.fill(0);
        pool = randomBytes(4096);
        position = 0;
      }
      const byte = pool[position++] as number;
      // 248 = 62 * 4: bytes at or above it would bias the first characters.
      if (byte < 248) body[filled++] = ALPHABET_CODES[byte % 62] as number;
    }
    const text = body.toString('latin1');
    keys[i] = `${prefix}_${text}${checksumOf(prefix, text)}`;
  }
  pool.fill(0);
  body.fill(0);
  return keys;
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
