// Known answers for what relaykey stores: values sealed, wrapped and hashed by an earlier build
// under a fixed root key must still open and match after any change. A changed HKDF salt or
// label, AAD text or cipher option would make every stored secret and key hash unreadable after
// an upgrade while every round-trip test still passed. Also: the malformed-input guards of the
// envelope and the parsing of RELAYKEY_MASTER_KEY.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBase62 } from '../../src/crypto/base62.js';
import { Envelope, kekPurpose, secretAad } from '../../src/crypto/envelope.js';
import { createSecretHasher } from '../../src/crypto/hashing.js';
import { deriveKey, derivePepper, formatKeyFile, keyCheckValue, loadRootSecret, parseMasterKey, type RootKeyRing } from '../../src/crypto/root-secret.js';
import { AppError, ConfigError } from '../../src/errors.js';

const fixedRing = (): RootKeyRing => ({
  currentVersion: 2,
  keys: new Map([
    [1, Buffer.alloc(32, 1)],
    [2, Buffer.alloc(32, 2)],
  ]),
});
const DATA_KEY = Buffer.alloc(32, 9);
const BINDING = { tenantId: 'tenant-kat', accountId: 'account-kat', secretVersion: 4 };
// Made once with the code of 2026-12-03 (root v2 wraps data key v3 of tenant-kat).
const WRAPPED = { wrappedKey: '08y3dvjmF5WfacICYaswjTDpylahHUffXmVsPsgPUv+1nXZe31CriIrqVwKeigFJE+mP6uB5HiIPyxr1', rootKeyVersion: 2 };
const SEALED = { ciphertext: 'jGaSKsyzNbQqMF8Sjw5JR2a/z4uDhVyj07Yoy1M=', nonce: '68UkimAeZ8/G/nmg' };

function failure(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('DECRYPTION_FAILED');
    return error as AppError;
  }
  throw new Error('expected DECRYPTION_FAILED');
}

describe('stored values of an earlier build', () => {
  it('unwrap and decrypt to the same data key and password', () => {
    const envelope = new Envelope(fixedRing());
    const dataKey = envelope.unwrapDataKey('tenant-kat', 3, WRAPPED);
    expect(dataKey.equals(DATA_KEY)).toBe(true);
    expect(envelope.decrypt(dataKey, SEALED, BINDING)).toBe('pässword-kat');
  });

  it('derive the same pepper, key check value and key hash', () => {
    const ring = fixedRing();
    expect(derivePepper(ring).toString('hex')).toBe('205da511423f8904c8d9e3b3e8d5db27762dc875f417ac8679e738dcc0580cf6');
    expect(keyCheckValue(ring)).toBe('41671c5e6abccb3e');
    expect(createSecretHasher(derivePepper(ring))('rk_example')).toBe('qEDix6oCH21XcWGWS7eFxj4-hIvziinLVXmZWE_XwJo');
  });

  it('name the labels the derivations use', () => {
    expect(kekPurpose(7)).toBe('relaykey/kek/v7');
    expect(JSON.parse(secretAad(BINDING).toString())).toEqual(['relaykey/smtp-account/v1', 'tenant-kat', 'account-kat', 4]);
    expect(deriveKey(Buffer.alloc(32, 1), 'a').equals(deriveKey(Buffer.alloc(32, 1), 'b'))).toBe(false);
  });
});

describe('the envelope refuses malformed input by name', () => {
  const envelope = new Envelope(fixedRing());

  it('a sealed secret shorter than its tag, or with a nonce of the wrong length', () => {
    expect(failure(() => envelope.decrypt(DATA_KEY, { ciphertext: Buffer.alloc(15).toString('base64'), nonce: SEALED.nonce }, BINDING)).message).toBe(
      'the stored secret is malformed',
    );
    // Exactly a tag and no body: well formed, and fails its integrity check.
    expect(failure(() => envelope.decrypt(DATA_KEY, { ciphertext: Buffer.alloc(16).toString('base64'), nonce: SEALED.nonce }, BINDING)).message).toBe(
      'the stored secret failed its integrity check',
    );
    const shortNonce = Buffer.from(SEALED.nonce, 'base64').subarray(0, 11).toString('base64');
    expect(failure(() => envelope.decrypt(DATA_KEY, { ...SEALED, nonce: shortNonce }, BINDING)).message).toBe('the stored secret is malformed');
  });

  it('a wrapped key cut short (its tag shorter than 16 bytes) is malformed, not a key', () => {
    const raw = Buffer.from(WRAPPED.wrappedKey, 'base64');
    const cut = { ...WRAPPED, wrappedKey: raw.subarray(0, 20).toString('base64') };
    expect(failure(() => envelope.unwrapDataKey('tenant-kat', 3, cut)).message).toBe('the tenant data key is malformed');
  });

  it('a wrapped key of the wrong length is refused even when it opens', () => {
    const short = envelope.wrapDataKey('tenant-kat', 5, Buffer.alloc(16, 1));
    expect(failure(() => envelope.unwrapDataKey('tenant-kat', 5, short)).message).toBe('the tenant data key has the wrong length');
  });

  it('an unknown root version names itself', () => {
    expect(failure(() => envelope.unwrapDataKey('tenant-kat', 3, { ...WRAPPED, rootKeyVersion: 9 })).message).toBe(
      'the data key is wrapped with root key v9, which this node does not know',
    );
  });
});

describe('reloading the key file', () => {
  it('adds new versions, reports whether anything arrived, and refuses a changed key', () => {
    const ring = fixedRing();
    let file = fixedRing();
    const envelope = new Envelope(ring, { reloadRing: () => file });
    expect(envelope.rootKeySource).toBe('key_file');
    expect(envelope.reload()).toBe(false);
    file = { currentVersion: 3, keys: new Map([...fixedRing().keys, [3, Buffer.alloc(32, 3)]]) };
    expect(envelope.reload()).toBe(true);
    expect(envelope.currentRootVersion).toBe(3);
    expect(envelope.rootVersions).toEqual([1, 2, 3]);
    expect(envelope.reload()).toBe(false);
    file = { currentVersion: 3, keys: new Map([[2, Buffer.alloc(32, 7)]]) };
    expect(failure(() => envelope.reload()).message).toBe('root key v2 changed in the key file; refusing to use it');
  });

  it('without a key file there is nothing to reload', () => {
    const envelope = new Envelope(fixedRing());
    expect(envelope.rootKeySource).toBe('environment');
    expect(envelope.reload()).toBe(false);
  });

  it('a data key wrapped under a version only the key file has is opened after one reload', () => {
    const writer = new Envelope({ currentVersion: 3, keys: new Map([[3, Buffer.alloc(32, 3)]]) });
    const wrapped = writer.wrapDataKey('tenant-kat', 1, DATA_KEY);
    let reads = 0;
    const reader = new Envelope(fixedRing(), {
      reloadRing: () => {
        reads += 1;
        return { currentVersion: 3, keys: new Map([...fixedRing().keys, [3, Buffer.alloc(32, 3)]]) };
      },
    });
    expect(reader.unwrapDataKey('tenant-kat', 1, wrapped).equals(DATA_KEY)).toBe(true);
    expect(reader.unwrapDataKey('tenant-kat', 1, wrapped).equals(DATA_KEY)).toBe(true);
    expect(reads).toBe(1);
  });
});

describe('RELAYKEY_MASTER_KEY', () => {
  const one = Buffer.alloc(32, 1).toString('base64');
  const two = Buffer.alloc(32, 2).toString('base64');

  it('takes one key with blanks around it, or a list of versions with blanks around each', () => {
    expect(parseMasterKey(`  ${one}\n`).keys.get(1)?.equals(Buffer.alloc(32, 1))).toBe(true);
    const ring = parseMasterKey(` v1:${one} , v12:${two} ,`);
    expect(ring.currentVersion).toBe(12);
    expect(ring.keys.get(12)?.equals(Buffer.alloc(32, 2))).toBe(true);
    expect([...ring.keys.keys()]).toEqual([1, 12]);
  });

  it('reads a version only at the start of an entry and the whole entry as its key', () => {
    // "xv2:..." is not a version prefix: it is read (and refused) as one base64 key.
    expect(() => parseMasterKey(`xv2:${two}`)).toThrow('RELAYKEY_MASTER_KEY must be base64 of exactly 32 bytes');
    // A key file pasted with its line breaks is one entry: refused whole, never half read.
    expect(() => parseMasterKey(`v2:${two}\nv3:${one}`)).toThrow('RELAYKEY_MASTER_KEY must be base64 of exactly 32 bytes');
    expect(() => parseMasterKey(`v2:${Buffer.alloc(33, 2).toString('base64')}`)).toThrow('RELAYKEY_MASTER_KEY v2 must be base64 of exactly 32 bytes (got 33)');
  });

  it('refuses an empty value and a missing key outside embedded mode, by name', () => {
    expect(() => parseMasterKey(' , ')).toThrow(new ConfigError('RELAYKEY_MASTER_KEY is empty'));
    expect(() => loadRootSecret({ masterKey: undefined, dataDir: '/nonexistent', allowKeyFile: false })).toThrow(
      new ConfigError('RELAYKEY_MASTER_KEY is required when the database is not the embedded SQLite default'),
    );
  });

  it('wins over a key file in embedded mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-kat-'));
    try {
      const loaded = loadRootSecret({ masterKey: one, dataDir: dir, allowKeyFile: true });
      expect(loaded.createdKeyFile).toBeNull();
      expect(loaded.ring.keys.get(1)?.equals(Buffer.alloc(32, 1))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives the pepper from the lowest version, never from an empty ring', () => {
    expect(derivePepper(parseMasterKey(`v3:${two},v2:${one}`)).equals(derivePepper(fixedRing()))).toBe(true);
    expect(() => derivePepper({ currentVersion: 1, keys: new Map() })).toThrow('root key ring is empty');
  });

  it('creates a key file in embedded mode, and refuses to name an empty ring', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-kat-'));
    try {
      const loaded = loadRootSecret({ masterKey: undefined, dataDir: dir, allowKeyFile: true });
      expect(loaded.createdKeyFile).toBe(join(dir, 'master.key'));
      expect(loaded.ring.keys.get(1)?.length).toBe(32);
      // The next start reads the same key back instead of making another.
      const again = loadRootSecret({ masterKey: undefined, dataDir: dir, allowKeyFile: true });
      expect(again.createdKeyFile).toBeNull();
      expect(again.ring.keys.get(1)?.equals(loaded.ring.keys.get(1) as Buffer)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => keyCheckValue({ currentVersion: 1, keys: new Map() })).toThrow('root key ring is empty');
  });
});

describe('the envelope around its root keys', () => {
  it('lists root versions in numeric order, however they were added', () => {
    const key = Buffer.alloc(32, 1);
    const envelope = new Envelope({
      currentVersion: 10,
      keys: new Map([
        [10, key],
        [2, key],
        [1, key],
        [3, key],
      ]),
    });
    expect(envelope.rootVersions).toEqual([1, 2, 3, 10]);
  });

  it('never reads the key file for a version it holds', () => {
    let reads = 0;
    const envelope = new Envelope(fixedRing(), {
      reloadRing: () => {
        reads += 1;
        return fixedRing();
      },
    });
    expect(envelope.unwrapDataKey('tenant-kat', 3, WRAPPED).equals(DATA_KEY)).toBe(true);
    expect(reads).toBe(0);
  });
});

describe('random base62', () => {
  it('skips bytes of 248 and above (they would bias the first characters)', () => {
    const draws = [Buffer.from([248, 255, 0, 61, 62, 247])];
    expect(randomBase62(4, () => draws.shift() ?? Buffer.from([1, 1, 1, 1, 1, 1, 1, 1]))).toBe('0z0z');
    expect(randomBase62(3, () => Buffer.from([250, 249, 248, 5, 6, 7]))).toBe('567');
  });
});

describe('the key file', () => {
  it('lists every version in order, one `v<N>:<base64>` line each', () => {
    const one = Buffer.alloc(32, 1).toString('base64');
    const two = Buffer.alloc(32, 2).toString('base64');
    const text = formatKeyFile({
      currentVersion: 2,
      keys: new Map([
        [2, Buffer.alloc(32, 2)],
        [1, Buffer.alloc(32, 1)],
      ]),
    });
    expect(text).toBe(`v1:${one}\nv2:${two}\n`);
  });

  it('is read back with every version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-kat-'));
    try {
      writeFileSync(join(dir, 'master.key'), formatKeyFile(fixedRing()), { mode: 0o600 });
      const { ring } = loadRootSecret({ masterKey: undefined, dataDir: dir, allowKeyFile: true });
      expect(ring.currentVersion).toBe(2);
      expect([...ring.keys.keys()]).toEqual([1, 2]);
      expect(ring.keys.get(2)?.equals(Buffer.alloc(32, 2))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
