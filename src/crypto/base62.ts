// Base62 helpers for key bodies and checksums (the alphabet GitHub tokens use).
import { randomBytes } from 'node:crypto';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform random base62 string; rejection sampling keeps every character equally likely. */
export function randomBase62(length: number, random: (size: number) => Buffer = randomBytes): string {
  let out = '';
  while (out.length < length) {
    const bytes = random(length * 2);
    for (const byte of bytes) {
      // 248 = 62 * 4: bytes at or above it would bias the first characters.
      if (byte < 248) out += BASE62_ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Fixed-width base62 encoding of a non-negative integer (left-padded with '0'). */
export function encodeBase62Fixed(value: number, width: number): string {
  let remaining = value;
  let out = '';
  while (remaining > 0) {
    out = BASE62_ALPHABET[remaining % 62] + out;
    remaining = Math.floor(remaining / 62);
  }
  return out.padStart(width, '0');
}
