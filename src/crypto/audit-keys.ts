// The audit chain's key: HMAC-SHA256 under a key derived from the root secret with its own HKDF
// label, one per root key version. A keyed hash is written `h1.<root version>.<hex>`, so events
// chained before a `relaykey keys rotate` still verify with the version they name.
import { createHmac } from 'node:crypto';
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
