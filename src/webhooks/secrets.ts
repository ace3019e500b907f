// Signing secrets: Standard Webhooks `whsec_<base64>` form, shown once, stored encrypted
// (AES-256-GCM under a root-derived key, bound to tenant and endpoint by AAD) because
// every delivery must sign with it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey, type RootKeyRing } from '../crypto/root-secret.js';
import { AppError } from '../errors.js';

export interface SealedSecret {
  ciphertext: string;
  nonce: string;
  rootKeyVersion: number;
}

export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function keyFor(ring: RootKeyRing, version: number): Buffer {
  const root = ring.keys.get(version);
  if (!root) throw new AppError('DECRYPTION_FAILED', `root key version ${version} is not loaded`);
  return deriveKey(root, 'relaykey/webhook-secrets/v1');
}

const aad = (tenantId: string, endpointId: string) => Buffer.from(`webhook-endpoint:${tenantId}:${endpointId}`);

export function sealSecret(ring: RootKeyRing, tenantId: string, endpointId: string, secret: string): SealedSecret {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(ring, ring.currentVersion), nonce);
  cipher.setAAD(aad(tenantId, endpointId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { ciphertext: Buffer.concat([cipher.getAuthTag(), body]).toString('base64'), nonce: nonce.toString('base64'), rootKeyVersion: ring.currentVersion };
}

export function openSecret(ring: RootKeyRing, tenantId: string, endpointId: string, sealed: SealedSecret): string {
  try {
    const data = Buffer.from(sealed.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', keyFor(ring, sealed.rootKeyVersion), Buffer.from(sealed.nonce, 'base64'));
    decipher.setAAD(aad(tenantId, endpointId));
    decipher.setAuthTag(data.subarray(0, 16));
    return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('DECRYPTION_FAILED', 'a webhook signing secret failed its integrity check');
  }
}
