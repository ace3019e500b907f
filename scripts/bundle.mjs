// Bundles the built server and CLI (dist/cli/main.js and what it imports) into one file,
// dist/relaykey.mjs, which `npm start` and bin/relaykey run. Start-up is mostly module
// resolution and loading (~120 files of our own, several hundred of dependencies): one file
// halves it. Packages that load native addons, spawn workers from their own files or serve
// files from their own folders stay external and load from node_modules as usual.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { fileHash, SOURCE_HASH_FILE, sourceHash } from './source-hash.mjs';

const EXTERNAL = [
  'better-sqlite3', // native addon
  '@node-rs/argon2', // native addon
  'pg-native', // optional native driver pg looks for
  'pino', // its transports start worker threads from files beside it
  'thread-stream',
  '@fastify/static', // serves files relative to itself
  '@fastify/swagger', // reads its own package.json
  '@fastify/swagger-ui',
  'ioredis', // uses __dirname in its error stacks
  'geoip-lite', // read through require.resolve for its data files
  'ua-parser-js', // loaded on first use
];

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
