// TOTP secrets at rest: AES-256-GCM under a key derived from the root secret (its own HKDF
// label), bound to the admin by AAD, kept as `rkts1:<root version>:<nonce>:<ciphertext+tag>`.
// A value without the prefix is a secret stored in plain base32 before this existed: it is
// still read, and sealed at start-up (AccessService.sealLegacyTotpSecrets).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { deriveKey, type RootKeyRing } from './root-secret.js';

const PREFIX = 'rkts1:';

export interface TotpBox {
  seal(adminId: string, secret: string): string;
  open(adminId: string, stored: string): string;
  isSealed(stored: string): boolean;
}

export function createTotpBox(ring: RootKeyRing): TotpBox {
  const keyFor = (version: number): Buffer => {
    const root = ring.keys.get(version);
    if (!root) throw new AppError('DECRYPTION_FAILED', `root key version ${version} is not loaded`);
    return deriveKey(root, 'relaykey/totp-secrets/v1');
  };
  const aad = (adminId: string) => Buffer.from(`admin-totp:${adminId}`);
  return {
    isSealed: (stored) => stored.startsWith(PREFIX),
    seal(adminId, secret) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyFor(ring.currentVersion), nonce);
      cipher.setAAD(aad(adminId));
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${ring.currentVersion}:${nonce.toString('base64')}:${body.toString('base64')}`;
    },
    open(adminId, stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [version, nonce, body] = stored.slice(PREFIX.length).split(':');
      try {
        const data = Buffer.from(body ?? '', 'base64');
        const decipher = createDecipheriv('aes-256-gcm', keyFor(Number(version)), Buffer.from(nonce ?? '', 'base64'));
        decipher.setAAD(aad(adminId));
        decipher.setAuthTag(data.subarray(data.length - 16));
        return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError('DECRYPTION_FAILED', 'a TOTP secret failed its integrity check');
      }
    },
  };
}

/** No root key (unit tests of the domain): secrets stay as given. */
export const PLAIN_TOTP_BOX: TotpBox = { seal: (_id, secret) => secret, open: (_id, stored) => stored, isSealed: () => true };
