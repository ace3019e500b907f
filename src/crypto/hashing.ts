// Keyed hashing of secrets at rest: HMAC-SHA256 with the server-side pepper.
import { createHmac, createSecretKey } from 'node:crypto';

export type SecretHasher = (secret: string) => string;

export function createSecretHasher(pepper: Buffer): SecretHasher {
  // A KeyObject is imported once; a Buffer key would be imported again on every call.
  const key = createSecretKey(pepper);
  return (secret) => createHmac('sha256', key).update(secret, 'utf8').digest('base64url');
}
