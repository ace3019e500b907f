// A fingerprint of the sources a build was made from: SHA-256 over every file under src/
// (path and content). scripts/bundle.mjs records it beside dist/relaykey.mjs and the benchmark
// rebuilds whenever the sources no longer match (a copied or older bundle has newer mtimes
// than its sources, so comparing times is not enough).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export function sourceHash(root) {
  const hash = createHash('sha256');
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(join(root, 'src'));
  return hash.digest('hex');
}

/**
 * Where bundle.mjs records what dist/relaykey.mjs was built from: "<sources' fingerprint>
 * <the bundle's own SHA-256>", so that a bundle replaced after the build is noticed too.
 */
export const SOURCE_HASH_FILE = 'dist/relaykey.mjs.source-sha256';

export function fileHash(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * True when dist/relaykey.mjs is the bundle the last build made from the sources as they are
 * now: the benchmark and the bundle test rebuild otherwise.
 */
export function bundleIsCurrent(root) {
  const bundle = join(root, 'dist/relaykey.mjs');
  const record = join(root, SOURCE_HASH_FILE);
  if (!existsSync(bundle) || !existsSync(record)) return false;
  const [sources, bundleHash] = readFileSync(record, 'utf8').trim().split(' ');
  return bundleHash === fileHash(bundle) && sources === sourceHash(root);
}
