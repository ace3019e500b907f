// The bare listener the policy scenario is measured against: node:net, reads a request up to its
// empty line and answers `action=DUNNO` (no parsing, no lookup, no counting). GET /healthz on
// --port says it is up (the harness waits for it); the policy protocol is on --policy-port.
// Usage: tsx bench/policy-baseline-server.ts --port P --policy-port Q
import { createServer } from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'policy-port': { type: 'string' } } });
if (!values.port || !values['policy-port']) throw new Error('usage: policy-baseline-server --port P --policy-port Q');

net
  .createServer((socket) => {
    socket.setNoDelay(true);
    let pending = '';
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end = pending.indexOf('\n\n');
      while (end >= 0) {
        pending = pending.slice(end + 2);
        socket.write('action=DUNNO\n\n');
        end = pending.indexOf('\n\n');
      }
    });
  })
  .listen(Number(values['policy-port']), '127.0.0.1');

createServer((_request, response) => {
  response.end('ok');
}).listen(Number(values.port), '127.0.0.1');
