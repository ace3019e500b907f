// RELAYKEY_TLS_CERT_FILE / RELAYKEY_TLS_KEY_FILE: read at start (an unreadable or mismatched pair
// refuses the start) and again on SIGHUP, so a renewed certificate needs no restart.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type Config, ConfigError } from './config.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

function read(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Reads and checks the pair (a key that does not match the certificate is refused here, not at the first handshake). */
export function readTls(files: NonNullable<Config['tls']>): TlsMaterial {
  const material = { cert: read('RELAYKEY_TLS_CERT_FILE', files.certFile), key: read('RELAYKEY_TLS_KEY_FILE', files.keyFile) };
  try {
    createSecureContext(material);
  } catch (error) {
    throw new ConfigError(`RELAYKEY_TLS_CERT_FILE / RELAYKEY_TLS_KEY_FILE are not a usable PEM certificate and matching key (${(error as Error).message})`);
  }
  return material;
}
