// The hot endpoints' answers are written together at the end of the event loop's turn, not one
// by one (src/surfaces/answer-batch.ts): a real node:http server over loopback, real clients.
import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AnswerBatch } from '../../src/surfaces/answer-batch.js';

interface Answer {
  status: number;
  body: string;
  error?: string;
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve) => {
    const request = httpRequest({ port, host: '127.0.0.1', path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? error.message }));
    request.end();
  });
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A server that holds requests until `count` have arrived, then hands them over together. */
async function collecting(count: number, onAll: (held: Array<{ request: IncomingMessage; response: ServerResponse }>) => void): Promise<number> {
  const held: Array<{ request: IncomingMessage; response: ServerResponse }> = [];
  server = createServer((request, response) => {
    held.push({ request, response });
    if (held.length === count) onAll(held.sort((a, b) => (a.request.url ?? '').localeCompare(b.request.url ?? '')));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('answer batch', () => {
  it('writes nothing until the turn ends, then every answer of the turn in order', async () => {
    const writeErrors: unknown[] = [];
    const batch = new AnswerBatch((error) => writeErrors.push(error));
    const seen: { waiting: number; headersSent: boolean[] }[] = [];
    const port = await collecting(3, (held) => {
      for (const [index, { response }] of held.entries()) {
        batch.send(response, 200, { 'content-type': 'text/plain' }, `answer ${index}`);
      }
      // Sent one by one, the first two would already be on the wire here.
      seen.push({ waiting: batch.waiting, headersSent: held.map(({ response }) => response.headersSent) });
      setImmediate(() => seen.push({ waiting: batch.waiting, headersSent: held.map(({ response }) => response.headersSent) }));
    });
    const answers = await Promise.all([get(port, '/a'), get(port, '/b'), get(port, '/c')]);
    expect(answers).toEqual([
      { status: 200, body: 'answer 0' },
      { status: 200, body: 'answer 1' },
      { status: 200, body: 'answer 2' },
    ]);
    expect(seen).toEqual([
      { waiting: 3, headersSent: [false, false, false] },
      { waiting: 0, headersSent: [true, true, true] },
    ]);
    expect(writeErrors).toEqual([]);
  });

  it('an answer that cannot be written closes its own connection and strands no other', async () => {
    const writeErrors: unknown[] = [];
    const batch = new AnswerBatch((error) => writeErrors.push(error));
    const port = await collecting(3, (held) => {
      const [first, second, third] = held;
      batch.send(first!.response, 200, {}, 'first');
      // A header value with a line break: writeHead throws ERR_INVALID_CHAR.
      batch.send(second!.response, 200, { 'x-broken': 'a\nb' }, 'second');
      // A client that went away before its answer was written.
      third!.request.socket.destroy();
      batch.send(third!.response, 200, {}, 'third');
    });
    const [first, second, third] = await Promise.all([get(port, '/1'), get(port, '/2'), get(port, '/3')]);
    expect(first).toEqual({ status: 200, body: 'first' });
    expect(second).toMatchObject({ status: 0, error: 'ECONNRESET' });
    expect(third).toMatchObject({ status: 0, error: 'ECONNRESET' });
    expect(writeErrors).toHaveLength(1);
    expect(writeErrors[0]).toMatchObject({ code: 'ERR_INVALID_CHAR' });
  });
});
