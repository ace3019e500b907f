// The Node.js limit on this machine: a bare node:http server that answers the same verify
// request as relaykey from an in-memory Map of HMAC-hashed keys. No framework, no database,
// no validation beyond what an answer needs.
// Usage: tsx bench/baseline-server.ts --keys FILE --port P --token T [--batch-answers]
// --batch-answers: write the answers once per event-loop turn through relaykey's own
// AnswerBatch (src/surfaces/answer-batch.ts), a reference for what that technique alone is worth.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { AnswerBatch } from '../src/surfaces/answer-batch.js';

const { values } = parseArgs({
  options: { keys: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' }, 'batch-answers': { type: 'boolean', default: false } },
});
if (!values.keys || !values.port || !values.token) throw new Error('usage: baseline-server --keys FILE --port P --token T');

const pepper = randomBytes(32);
const hash = (secret: string) => createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url');
const expectedAuthorization = `Bearer ${values.token}`;

interface Entry {
  username: string;
  scopes: string[];
}
const entries = new Map<string, Entry>();
for (const line of readFileSync(values.keys, 'utf8').split('\n')) {
  const tab = line.indexOf('\t');
  if (tab < 0) continue;
  entries.set(hash(line.slice(tab + 1)), { username: line.slice(0, tab), scopes: ['smtp'] });
}

const DENIED = '{"valid":false}';

const batch = values['batch-answers'] ? new AnswerBatch((error) => console.error(error)) : null;
function answer(response: ServerResponse, status: number, body: string): void {
  if (batch) batch.send(response, status, { 'content-type': 'application/json' }, body);
  else response.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method !== 'POST' || request.url !== '/api/v1/verify') {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.headers.authorization !== expectedAuthorization) {
      answer(response, 401, DENIED);
      return;
    }
    let body: { username?: unknown; password?: unknown; protocol?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    const entry = typeof body.password === 'string' ? entries.get(hash(body.password)) : undefined;
    if (!entry || entry.username !== body.username || !entry.scopes.includes(String(body.protocol))) {
      answer(response, 401, DENIED);
      return;
    }
    answer(response, 200, JSON.stringify({ valid: true, credential_id: entry.username, login: null, scopes: entry.scopes }));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1');
