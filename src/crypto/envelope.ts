// Envelope encryption for retrievable secrets: AES-256-GCM under per-tenant data keys, which
// are themselves wrapped (AES-256-GCM) by a key-encryption key derived from a root key version.
// Anything that fails its integrity check throws DECRYPTION_FAILED and yields no plaintext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { deriveKey, keyCheckValue, type RootKeyRing } from './root-secret.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface SealedSecret {
  /** base64 of ciphertext || 16-byte GCM tag */
  ciphertext: string;
  /** base64 of the 12-byte nonce */
  nonce: string;
}

export interface WrappedDataKey {
  /** base64 of nonce || tag || ciphertext */
  wrappedKey: string;
  rootKeyVersion: number;
}

/** What a vaulted secret is bound to: moving it to another record, tenant or version breaks it. */
export interface SecretBinding {
  tenantId: string;
  accountId: string;
  secretVersion: number;
}

export function secretAad(binding: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify(['relaykey/smtp-account/v1', binding.tenantId, binding.accountId, binding.secretVersion]));
}

function dataKeyAad(tenantId: string, dataKeyVersion: number): Buffer {
  return Buffer.from(JSON.stringify(['relaykey/data-key/v1', tenantId, dataKeyVersion]));
}

export function kekPurpose(rootKeyVersion: number): string {
  return `relaykey/kek/v${rootKeyVersion}`;
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: Buffer; tag: Buffer; body: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, tag: cipher.getAuthTag(), body };
}

function open(key: Buffer, nonce: Buffer, tag: Buffer, body: Buffer, aad: Buffer, what: string): Buffer {
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new AppError('DECRYPTION_FAILED', `${what} is malformed`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new AppError('DECRYPTION_FAILED', `${what} failed its integrity check`);
  }
}

export interface EnvelopeOptions {
  /** Re-reads the root key ring from its source (embedded mode: the key file); null when it cannot change. */
  reloadRing?: (() => RootKeyRing) | null;
}

export class Envelope {
  private readonly keks = new Map<number, Buffer>();

  constructor(
    private readonly ring: RootKeyRing,
    private readonly options: EnvelopeOptions = {},
  ) {}

  get currentRootVersion(): number {
    return this.ring.currentVersion;
  }

  /** The root key versions this node holds, oldest first. */
  get rootVersions(): number[] {
    return [...this.ring.keys.keys()].sort((a, b) => a - b);
  }

  /** Where the root keys come from: the embedded key file (it can grow) or RELAYKEY_MASTER_KEY. */
  get rootKeySource(): 'key_file' | 'environment' {
    return this.options.reloadRing ? 'key_file' : 'environment';
  }

  /** The key check value of this ring (a digest that names the key without revealing it). */
  keyCheck(): string {
    return keyCheckValue(this.ring);
  }

  knowsRootVersion(version: number): boolean {
    return this.ring.keys.has(version);
  }

  /**
   * Merges newer root key versions from the key file into the shared ring (a `keys rotate`
   * run by another process appends them). Returns true when something new arrived.
   */
  reload(): boolean {
    if (!this.options.reloadRing) return false;
    const fresh = this.options.reloadRing();
    let changed = false;
    for (const [version, key] of fresh.keys) {
      const known = this.ring.keys.get(version);
      if (known && !known.equals(key)) throw new AppError('DECRYPTION_FAILED', `root key v${version} changed in the key file; refusing to use it`);
      if (!known) {
        this.ring.keys.set(version, key);
        changed = true;
      }
    }
    this.ring.currentVersion = Math.max(this.ring.currentVersion, fresh.currentVersion);
    return changed;
  }

  private kek(rootKeyVersion: number): Buffer {
    const cached = this.keks.get(rootKeyVersion);
    if (cached) return cached;
    let root = this.ring.keys.get(rootKeyVersion);
    if (!root) {
      // Another process may have rotated the root key: look at the key file once.
      this.reload();
      root = this.ring.keys.get(rootKeyVersion);
    }
    if (!root) throw new AppError('DECRYPTION_FAILED', `the data key is wrapped with root key v${rootKeyVersion}, which this node does not know`);
    const kek = deriveKey(root, kekPurpose(rootKeyVersion));
    this.keks.set(rootKeyVersion, kek);
    return kek;
  }

  newDataKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  wrapDataKey(tenantId: string, dataKeyVersion: number, dataKey: Buffer, rootKeyVersion = this.ring.currentVersion): WrappedDataKey {
    const sealed = seal(this.kek(rootKeyVersion), dataKey, dataKeyAad(tenantId, dataKeyVersion));
    return { wrappedKey: Buffer.concat([sealed.nonce, sealed.tag, sealed.body]).toString('base64'), rootKeyVersion };
  }

  unwrapDataKey(tenantId: string, dataKeyVersion: number, wrapped: WrappedDataKey): Buffer {
    const raw = Buffer.from(wrapped.wrappedKey, 'base64');
    const key = open(
      this.kek(wrapped.rootKeyVersion),
      raw.subarray(0, NONCE_BYTES),
      raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES),
      raw.subarray(NONCE_BYTES + TAG_BYTES),
      dataKeyAad(tenantId, dataKeyVersion),
      'the tenant data key',
    );
    if (key.length !== KEY_BYTES) throw new AppError('DECRYPTION_FAILED', 'the tenant data key has the wrong length');
    return key;
  }

  encrypt(dataKey: Buffer, plaintext: string, binding: SecretBinding): SealedSecret {
    const sealed = seal(dataKey, Buffer.from(plaintext, 'utf8'), secretAad(binding));
    return { ciphertext: Buffer.concat([sealed.body, sealed.tag]).toString('base64'), nonce: sealed.nonce.toString('base64') };
  }

  decrypt(dataKey: Buffer, sealed: SealedSecret, binding: SecretBinding): string {
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    if (raw.length < TAG_BYTES) throw new AppError('DECRYPTION_FAILED', 'the stored secret is malformed');
    const plaintext = open(
      dataKey,
      Buffer.from(sealed.nonce, 'base64'),
      raw.subarray(raw.length - TAG_BYTES),
      raw.subarray(0, raw.length - TAG_BYTES),
      secretAad(binding),
      'the stored secret',
    );
    return plaintext.toString('utf8');
  }
}
