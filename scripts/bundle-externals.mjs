// The packages the bundle (scripts/bundle.mjs) leaves out and loads from node_modules at run
// time. They, and only they, are package.json's `dependencies`: everything else is inside
// dist/relaykey.mjs, so an install of the packed tarball needs nothing more (`npm install
// --omit=dev`). `node scripts/bundle-externals.mjs check` fails when the two lists differ.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** name -> why it cannot be bundled */
export const EXTERNALS = {
  'better-sqlite3': 'native addon',
  '@node-rs/argon2': 'native addon',
  pino: 'its transports start worker threads from files beside it',
  '@fastify/static': 'serves files relative to itself',
  '@fastify/swagger': 'reads its own package.json',
  '@fastify/swagger-ui': 'serves the Swagger UI files from its own folder',
  ioredis: 'uses __dirname in its error stacks',
  'geoip-country': 'reads its data files from its own folder',
  'ua-parser-js': 'loaded on first use',
};

/** Left out of the bundle but not dependencies: optional (pg-native) or a dependency's own (thread-stream, pino's). */
export const OPTIONAL_EXTERNALS = ['pg-native', 'thread-stream'];

export const EXTERNAL = [...Object.keys(EXTERNALS), ...OPTIONAL_EXTERNALS];

export function checkDependencies(packageJson) {
  const declared = Object.keys(packageJson.dependencies ?? {}).sort();
  const wanted = Object.keys(EXTERNALS).sort();
  const missing = wanted.filter((name) => !declared.includes(name));
  const extra = declared.filter((name) => !wanted.includes(name));
  return { missing, extra };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'check') {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const { missing, extra } = checkDependencies(packageJson);
  if (missing.length || extra.length) {
    console.error(
      `package.json dependencies must be exactly the bundle's externals:${missing.length ? ` missing ${missing.join(', ')};` : ''}${extra.length ? ` bundled (move to devDependencies): ${extra.join(', ')}` : ''}`,
    );
    process.exit(1);
  }
  console.log(`dependencies = bundle externals (${Object.keys(EXTERNALS).length})`);
}
