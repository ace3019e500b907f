// The root secret and what HKDF derives from it: the hashing pepper and key-encryption keys.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

export interface RootKeyRing {
  /** Version used for new encryptions. */
  currentVersion: number;
  /** Every known root key by version; old ones stay so old ciphertexts decrypt. */
  keys: Map<number, Buffer>;
}

export interface LoadedRootSecret {
  ring: RootKeyRing;
  createdKeyFile: string | null;
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`${source} must be base64 of exactly 32 bytes (got ${key.length})`);
  return key;
}

/**
 * Parses `RELAYKEY_MASTER_KEY`: either one base64 key (version 1) or a comma list of
 * `v<N>:<base64>`; the highest version is current.
 */
export function parseMasterKey(value: string): RootKeyRing {
  const keys = new Map<number, Buffer>();
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const versioned = /^v(\d+):(.+)$/.exec(part);
    if (versioned) keys.set(Number(versioned[1]), decodeKey(versioned[2] as string, `RELAYKEY_MASTER_KEY v${versioned[1]}`));
    else keys.set(1, decodeKey(part, 'RELAYKEY_MASTER_KEY'));
  }
  if (keys.size === 0) throw new ConfigError('RELAYKEY_MASTER_KEY is empty');
  return { currentVersion: Math.max(...keys.keys()), keys };
}

export function formatKeyFile(ring: RootKeyRing): string {
  return `${[...ring.keys.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([v, k]) => `v${v}:${k.toString('base64')}`)
    .join('\n')}\n`;
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'master.key');
}

/** Loads the root secret from the environment or the embedded-mode key file (creating it). */
export function loadRootSecret(options: { masterKey: string | undefined; dataDir: string; allowKeyFile: boolean }): LoadedRootSecret {
  if (options.masterKey) return { ring: parseMasterKey(options.masterKey), createdKeyFile: null };
  if (!options.allowKeyFile) {
    throw new ConfigError('RELAYKEY_MASTER_KEY is required when the database is not the embedded SQLite default');
  }
  const path = keyFilePath(options.dataDir);
  if (existsSync(path)) {
    return { ring: parseMasterKey(readFileSync(path, 'utf8').split('\n').join(',')), createdKeyFile: null };
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const ring: RootKeyRing = { currentVersion: 1, keys: new Map([[1, randomBytes(32)]]) };
  writeFileSync(path, formatKeyFile(ring), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { ring, createdKeyFile: path };
}

export function deriveKey(root: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', root, Buffer.from('relaykey'), Buffer.from(purpose), 32));
}

/**
 * The pepper comes from root key version 1 and never changes: rotating the root secret
 * re-wraps data keys but must not invalidate every stored key hash.
 */
export function derivePepper(ring: RootKeyRing): Buffer {
  const first = ring.keys.get(Math.min(...ring.keys.keys()));
  if (!first) throw new Error('root key ring is empty');
  return deriveKey(first, 'relaykey/pepper/v1');
}

/** Reads the embedded-mode key file as it is now (another process may have added a version). */
export function readKeyFile(dataDir: string): RootKeyRing {
  return parseMasterKey(readFileSync(keyFilePath(dataDir), 'utf8').split('\n').join(','));
}

/**
 * Adds a fresh random root key as the next version to the key file (written to a temporary
 * file, then renamed over it, so a reader never sees half a file). Returns the new version.
 */
export function appendKeyFileVersion(dataDir: string): { ring: RootKeyRing; version: number } {
  const path = keyFilePath(dataDir);
  const ring = readKeyFile(dataDir);
  const version = Math.max(...ring.keys.keys()) + 1;
  ring.keys.set(version, randomBytes(32));
  ring.currentVersion = version;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, formatKeyFile(ring), { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return { ring, version };
}

/**
 * A short public fingerprint of the root key the pepper comes from (the lowest version): stored
 * at first start, compared at every start, so a different RELAYKEY_MASTER_KEY refuses to start
 * instead of failing every login. HKDF output: it tells nothing about the key itself.
 */
export function keyCheckValue(ring: RootKeyRing): string {
  const first = ring.keys.get(Math.min(...ring.keys.keys()));
  if (!first) throw new Error('root key ring is empty');
  return deriveKey(first, 'relaykey/key-check/v1').subarray(0, 8).toString('hex');
}
