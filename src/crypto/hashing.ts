// Keyed hashing of secrets at rest: HMAC-SHA256 with the server-side pepper.
import { createHmac } from 'node:crypto';

export type SecretHasher = (secret: string) => string;

export function createSecretHasher(pepper: Buffer): SecretHasher {
  return (secret) => createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url');
}
