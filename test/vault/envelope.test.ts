// Envelope encryption as a pure unit: round trips, fresh nonces, and fail-closed integrity.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Envelope } from '../../src/crypto/envelope.js';
import type { RootKeyRing } from '../../src/crypto/root-secret.js';
import { AppError } from '../../src/errors.js';

const ring = (...versions: number[]): RootKeyRing => ({
  currentVersion: Math.max(...versions),
  keys: new Map(versions.map((v) => [v, randomBytes(32)])),
});
const binding = { tenantId: 'tenant-a', accountId: 'account-a', secretVersion: 1 };

function expectDecryptionFailed(work: () => unknown): void {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('DECRYPTION_FAILED');
    return;
  }
  throw new Error('expected DECRYPTION_FAILED');
}

function flip(base64: string, index: number): string {
  const raw = Buffer.from(base64, 'base64');
  raw[index] = (raw[index] as number) ^ 0x01;
  return raw.toString('base64');
}

describe('envelope encryption', () => {
  it('round-trips under a wrapped data key and uses a fresh nonce each time', () => {
    const envelope = new Envelope(ring(1));
    const dataKey = envelope.newDataKey();
    const wrapped = envelope.wrapDataKey('tenant-a', 1, dataKey);
    expect(wrapped.rootKeyVersion).toBe(1);
    const key = envelope.unwrapDataKey('tenant-a', 1, wrapped);
    expect(key.equals(dataKey)).toBe(true);
    const a = envelope.encrypt(key, 'rkp_secret', binding);
    const b = envelope.encrypt(key, 'rkp_secret', binding);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(Buffer.from(a.nonce, 'base64')).toHaveLength(12);
    expect(envelope.decrypt(key, a, binding)).toBe('rkp_secret');
    expect(envelope.decrypt(key, b, binding)).toBe('rkp_secret');
  });

  it('fails closed on any flipped byte, a wrong AAD, a wrong key or a moved data key', () => {
    const envelope = new Envelope(ring(1));
    const key = envelope.newDataKey();
    const sealed = envelope.encrypt(key, 'rkp_secret', binding);
    const length = Buffer.from(sealed.ciphertext, 'base64').length;
    for (let i = 0; i < length; i += 1) expectDecryptionFailed(() => envelope.decrypt(key, { ...sealed, ciphertext: flip(sealed.ciphertext, i) }, binding));
    expectDecryptionFailed(() => envelope.decrypt(key, { ...sealed, nonce: flip(sealed.nonce, 0) }, binding));
    expectDecryptionFailed(() => envelope.decrypt(key, sealed, { ...binding, tenantId: 'tenant-b' }));
    expectDecryptionFailed(() => envelope.decrypt(key, sealed, { ...binding, accountId: 'account-b' }));
    expectDecryptionFailed(() => envelope.decrypt(key, sealed, { ...binding, secretVersion: 2 }));
    expectDecryptionFailed(() => envelope.decrypt(envelope.newDataKey(), sealed, binding));
    expectDecryptionFailed(() => envelope.decrypt(key, { ...sealed, ciphertext: 'AAAA' }, binding));

    const wrapped = envelope.wrapDataKey('tenant-a', 1, key);
    expectDecryptionFailed(() => envelope.unwrapDataKey('tenant-b', 1, wrapped));
    expectDecryptionFailed(() => envelope.unwrapDataKey('tenant-a', 2, wrapped));
    expectDecryptionFailed(() => envelope.unwrapDataKey('tenant-a', 1, { ...wrapped, wrappedKey: flip(wrapped.wrappedKey, 30) }));
    expectDecryptionFailed(() => envelope.unwrapDataKey('tenant-a', 1, { ...wrapped, rootKeyVersion: 7 }));
  });

  it('re-wrapping under a new root version keeps the same data key; an unknown version is looked up once', () => {
    const shared = ring(1);
    const envelope = new Envelope(shared);
    const key = envelope.newDataKey();
    const v1 = envelope.wrapDataKey('tenant-a', 1, key);

    const fileRing: RootKeyRing = { currentVersion: 2, keys: new Map([...shared.keys, [2, randomBytes(32)]]) };
    const writer = new Envelope(fileRing);
    const v2 = writer.wrapDataKey('tenant-a', 1, writer.unwrapDataKey('tenant-a', 1, v1));
    expect(v2.rootKeyVersion).toBe(2);

    let reads = 0;
    const reader = new Envelope(shared, {
      reloadRing: () => {
        reads += 1;
        return fileRing;
      },
    });
    expect(reader.unwrapDataKey('tenant-a', 1, v2).equals(key)).toBe(true);
    expect(reads).toBe(1);
    expect(reader.currentRootVersion).toBe(2);
    expect(reader.unwrapDataKey('tenant-a', 1, v1).equals(key)).toBe(true);

    const noReload = new Envelope(ring(1));
    expectDecryptionFailed(() => noReload.unwrapDataKey('tenant-a', 1, v2));

    const tampered = new Envelope(ring(1), { reloadRing: () => ({ currentVersion: 1, keys: new Map([[1, randomBytes(32)]]) }) });
    expectDecryptionFailed(() => tampered.reload());
  });
});
