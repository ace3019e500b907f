// The peer: better-auth's api-key plugin (the library a TypeScript team would otherwise pick)
// verifying keys over SQLite, behind the same kind of bare node:http front as the baseline.
// Defaults kept except the per-key rate limit (10 a day by default), which is turned off.
//   tsx bench/peer-server.ts setup --db FILE --count N --out KEYS   (tables + N keys)
//   tsx bench/peer-server.ts serve --db FILE --port P
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { apiKey } from '@better-auth/api-key';
import SQLite from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string' }, count: { type: 'string' }, out: { type: 'string' }, port: { type: 'string' } },
});
const command = positionals[0];
if (!values.db || (command !== 'setup' && command !== 'serve')) throw new Error('usage: peer-server setup|serve --db FILE ...');

const database = new SQLite(values.db);
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');

const options = {
  database,
  secret: 'relaykey-benchmark-peer-secret-0123456789abcdef',
  baseURL: 'http://127.0.0.1:3000',
  emailAndPassword: { enabled: true },
  plugins: [apiKey({ rateLimit: { enabled: false } })],
  logger: { disabled: true },
};
const auth = betterAuth(options);

// The plugin's own key shape: 64 letters; stored as unpadded base64url SHA-256.
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
function letters(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (const byte of bytes) {
    if (byte < 208) out += LETTERS[byte % 52];
    if (out.length === length) break;
  }
  return out.length === length ? out : out + letters(length - out.length);
}

async function setup(count: number, outFile: string): Promise<void> {
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const user = await auth.api.signUpEmail({ body: { email: 'bench@example.test', password: 'benchmark-password-1', name: 'bench' } });
  const first = await auth.api.createApiKey({ body: { userId: user.user.id } });
  const out = createWriteStream(outFile, { mode: 0o600 });
  out.write(`peer\t${first.key}\n`);
  // The other keys are clones of the plugin's own row (same columns, same layout size) with
  // their own key and hash: creating a million through the API would take hours.
  const template = database.prepare('SELECT * FROM apikey WHERE id = ?').get(first.id) as Record<string, unknown>;
  const columns = Object.keys(template);
  const insert = database.prepare(`INSERT INTO apikey (${columns.map((c) => `"${c}"`).join(',')}) VALUES (${columns.map(() => '?').join(',')})`);
  const insertBatch = database.transaction((rows: unknown[][]) => {
    for (const row of rows) insert.run(row);
  });
  let made = 1;
  while (made < count) {
    const size = Math.min(50_000, count - made);
    const rows: unknown[][] = [];
    const lines: string[] = [];
    for (let i = 0; i < size; i += 1) {
      const key = letters(64);
      const row = { ...template, id: randomUUID(), key: createHash('sha256').update(key).digest('base64url'), start: key.slice(0, 6) };
      rows.push(columns.map((c) => row[c as keyof typeof row]));
      lines.push(`peer\t${key}`);
    }
    insertBatch(rows);
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
    made += size;
  }
  out.end();
  await once(out, 'close');
  process.stdout.write(`${JSON.stringify({ keys: count })}\n`);
}

function serve(port: number): void {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (request.method !== 'POST' || request.url !== '/verify') {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const { key } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { key: string };
        const result = await auth.api.verifyApiKey({ body: { key } });
        response
          .writeHead(result.valid ? 200 : 401, { 'content-type': 'application/json' })
          .end(JSON.stringify(result.valid ? { valid: true, id: result.key?.id } : { valid: false }));
      } catch {
        response.writeHead(500).end();
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
}

if (command === 'setup') {
  await setup(Number(values.count ?? '1000'), values.out ?? 'peer-keys.txt');
  database.close();
} else {
  serve(Number(values.port ?? '3000'));
}
