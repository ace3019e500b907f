// The audit chain's key: HMAC-SHA256 under a key derived from the root secret with its own HKDF
// label, one per root key version. A keyed hash is written `h1.<root version>.<hex>`, so events
// chained before a `relaykey keys rotate` still verify with the version they name.
import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { deriveKey, type RootKeyRing } from './root-secret.js';

export interface AuditKeys {
  /** `h1.<version>.<hex>` of the material under the current root version's audit key. */
  mac(material: string): string;
  /** Checks a keyed hash; 'unknown-key' when the root version it names is not loaded. */
  check(material: string, keyed: string): 'ok' | 'mismatch' | 'unknown-key';
}

export const KEYED_PREFIX = 'h1.';

export function isKeyed(hash: string): boolean {
  return hash.startsWith(KEYED_PREFIX);
}

export function createAuditKeys(ring: RootKeyRing): AuditKeys {
  const keys = new Map<number, Buffer>();
  const keyFor = (version: number): Buffer | undefined => {
    let key = keys.get(version);
    if (!key) {
      const root = ring.keys.get(version);
      if (!root) return undefined;
      key = deriveKey(root, 'relaykey/audit-chain/v1');
      keys.set(version, key);
    }
    return key;
  };
  const hmac = (key: Buffer, material: string) => createHmac('sha256', key).update(material).digest('hex');
  return {
    mac(material) {
      const version = ring.currentVersion;
      return `${KEYED_PREFIX}${version}.${hmac(keyFor(version) as Buffer, material)}`;
    },
    check(material, keyed) {
      const [, versionText, hex] = keyed.split('.');
      const key = keyFor(Number(versionText));
      if (!key) return 'unknown-key';
      return hmac(key, material) === hex ? 'ok' : 'mismatch';
    },
  };
}

/**
 * Signs audit checkpoints with Ed25519 under a key pair derived from the root secret (HKDF label
 * `relaykey/audit-checkpoint/v1`, one per root version): anyone holding the public key can check a
 * checkpoint, nobody without the root secret can make one.
 */
export interface CheckpointSigner {
  readonly currentVersion: number;
  /** base64url signature of the material under the current root version's key. */
  sign(material: string): { keyVersion: number; signature: string };
  check(material: string, keyVersion: number, signature: string): 'ok' | 'mismatch' | 'unknown-key';
  /** The raw 32-byte Ed25519 public key of a root version, base64url; null when that version is not loaded. */
  publicKey(keyVersion: number): string | null;
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): the prefix is fixed, the 32 seed bytes follow.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function createCheckpointSigner(ring: RootKeyRing): CheckpointSigner {
  const pairs = new Map<number, { privateKey: KeyObject; publicKey: KeyObject }>();
  const pairFor = (version: number) => {
    let pair = pairs.get(version);
    if (!pair) {
      const root = ring.keys.get(version);
      if (!root) return undefined;
      const seed = deriveKey(root, 'relaykey/audit-checkpoint/v1');
      const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
      pair = { privateKey, publicKey: createPublicKey(privateKey) };
      pairs.set(version, pair);
    }
    return pair;
  };
  return {
    get currentVersion() {
      return ring.currentVersion;
    },
    sign(material) {
      const version = ring.currentVersion;
      const pair = pairFor(version);
      if (!pair) throw new Error('the current root key version is not loaded');
      return { keyVersion: version, signature: cryptoSign(null, Buffer.from(material), pair.privateKey).toString('base64url') };
    },
    check(material, keyVersion, signature) {
      const pair = pairFor(keyVersion);
      if (!pair) return 'unknown-key';
      const bytes = Buffer.from(signature, 'base64url');
      if (bytes.length !== 64) return 'mismatch';
      return cryptoVerify(null, Buffer.from(material), pair.publicKey, bytes) ? 'ok' : 'mismatch';
    },
    publicKey(keyVersion) {
      const pair = pairFor(keyVersion);
      if (!pair) return null;
      return String(pair.publicKey.export({ format: 'jwk' }).x);
    },
  };
}
