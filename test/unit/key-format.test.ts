import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomBase62 } from '../../src/crypto/base62.js';
import { createSecretHasher } from '../../src/crypto/hashing.js';
import { generateKey, KEY_PREFIXES, keyHint, parseKey } from '../../src/crypto/key-format.js';
import { derivePepper, parseMasterKey } from '../../src/crypto/root-secret.js';

describe('key format', () => {
  it('generates prefixed keys with >= 160 random bits and a valid checksum', () => {
    for (const prefix of Object.values(KEY_PREFIXES)) {
      const key = generateKey(prefix);
      expect(key.startsWith(`${prefix}_`)).toBe(true);
      expect(key.length - prefix.length - 1).toBe(38);
      expect(parseKey(key)).toEqual({ prefix });
    }
    // 32 base62 characters carry 32 * log2(62) ~ 190 bits.
    expect(32 * Math.log2(62)).toBeGreaterThan(160);
  });

  it('rejects every single-character change (the checksum catches typos)', () => {
    const key = generateKey('rk');
    for (let i = 3; i < key.length; i++) {
      const replacement = key[i] === 'a' ? 'b' : 'a';
      expect(parseKey(key.slice(0, i) + replacement + key.slice(i + 1))).toBeNull();
    }
  });

  it('rejects unknown prefixes, wrong lengths and junk', () => {
    const key = generateKey('rk');
    expect(parseKey(`zz${key.slice(2)}`)).toBeNull();
    // A well-formed key whose checksum holds for a prefix relaykey does not issue.
    expect(parseKey(generateKey('zzz' as never))).toBeNull();
    expect(parseKey(key.slice(0, -1))).toBeNull();
    expect(parseKey(`${key}0`)).toBeNull();
    expect(parseKey('')).toBeNull();
    expect(parseKey('x'.repeat(10_000))).toBeNull();
  });

  it('keys are unique and base62 is uniform enough', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey('rk')));
    expect(keys.size).toBe(2000);
    const sample = randomBase62(62_000);
    const counts = new Map<string, number>();
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(count).toBeGreaterThan(700);
  });

  it('hints show no more than the prefix and four characters', () => {
    const key = generateKey('rk');
    expect(keyHint(key)).toBe(`rk_…${key.slice(-4)}`);
  });

  it('hashes with the pepper: same input same hash, other pepper other hash', () => {
    const a = createSecretHasher(Buffer.alloc(32, 1));
    const b = createSecretHasher(Buffer.alloc(32, 2));
    expect(a('secret')).toBe(a('secret'));
    expect(a('secret')).not.toBe(b('secret'));
  });

  it('is exactly HMAC-SHA256 with the pepper, for keys, short, long and non-ASCII inputs and any pepper length', () => {
    const inputs = ['', 'a', 'é€😀', '\ud800x', 'x\udc00', 'x'.repeat(341), 'x'.repeat(342), '€'.repeat(400), 'y'.repeat(5000)];
    for (let i = 0; i < 200; i++) inputs.push(generateKey('rk'), randomBytes(i).toString('latin1'));
    // Written one after another into the same buffers: a shorter input after a longer one must not see its tail.
    for (const pepperBytes of [16, 32, 64, 65, 100]) {
      const pepper = randomBytes(pepperBytes);
      const hasher = createSecretHasher(pepper);
      for (const input of inputs) {
        expect(hasher(input)).toBe(createHmac('sha256', pepper).update(input, 'utf8').digest('base64url'));
      }
    }
  });

  it('the pepper stays the same when a new root key version is added', () => {
    const v1 = Buffer.alloc(32, 7).toString('base64');
    const v2 = Buffer.alloc(32, 9).toString('base64');
    const one = parseMasterKey(v1);
    const two = parseMasterKey(`v1:${v1},v2:${v2}`);
    expect(two.currentVersion).toBe(2);
    expect(derivePepper(two).equals(derivePepper(one))).toBe(true);
    expect(() => parseMasterKey('dG9vIHNob3J0')).toThrow(/32 bytes/);
  });
});
