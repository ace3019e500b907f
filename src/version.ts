// relaykey's own version (package.json), for `relaykey --version`, the schema guard and doctor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';

// Module-level on purpose: package.json does not change while the process runs; a memo, not a registry.
let cached: string | undefined;

export function relaykeyVersion(): string {
  cached ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
