// The folder that holds relaykey's package.json, found from wherever this code runs: src/
// (tsx), dist/ (tsc output) or the single-file bundle dist/relaykey.mjs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function projectRoot(from: string = import.meta.dirname): string {
  let folder = from;
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${from}`);
    folder = parent;
  }
  return folder;
}
