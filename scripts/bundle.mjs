// Bundles the built server and CLI (dist/cli/main.js and what it imports) into one file,
// dist/relaykey.mjs, which `npm start` and bin/relaykey run. Start-up is mostly module
// resolution and loading (~120 files of our own, several hundred of dependencies): one file
// halves it. Packages that load native addons, spawn workers from their own files or serve
// files from their own folders stay external and load from node_modules as usual
// (scripts/bundle-externals.mjs: they are exactly package.json's dependencies).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EXTERNAL } from './bundle-externals.mjs';
import { fileHash, SOURCE_HASH_FILE, sourceHash } from './source-hash.mjs';


await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/relaykey.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __relaykeyCreateRequire } from 'node:module'; const require = __relaykeyCreateRequire(import.meta.url);" },
});

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(join(root, SOURCE_HASH_FILE), `${sourceHash(root)} ${fileHash(join(root, 'dist/relaykey.mjs'))}\n`);
