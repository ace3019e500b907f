// The Postfix policy delegation listener over a real TCP socket: answers, pipelining, and every
// bound on untrusted input (line and request size, attribute count, idle time, connections,
// slow and failing decisions, a client that never reads). The decisions here are fixed stand-ins:
// what relaykey decides is tested in test/protocol/sending-policy.test.ts.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PolicyAnswer, type PolicyListener, type PolicyRequest, startPolicyListener } from '../../src/protocol/postfix/policy-listener.js';
import { connectPolicy } from '../helpers/policy-client.js';

const listeners: PolicyListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
});

async function listen(
  decide: (request: PolicyRequest) => Promise<PolicyAnswer> = async (request) =>
    request.get('sender') === 'bad@x.test' ? { action: 'REJECT', status: '5.7.1', reason: 'not yours' } : { action: 'DUNNO' },
  options: Partial<Parameters<typeof startPolicyListener>[0]> = {},
): Promise<PolicyListener> {
  const listener = await startPolicyListener({ host: '127.0.0.1', port: 0, decide, ...options });
  listeners.push(listener);
  return listener;
}

describe('policy listener', () => {
  it('answers each request on a kept connection, pipelined requests in order, CRLF accepted', async () => {
    const l = await listen();
    const c = await connectPolicy(l.port);
    expect(await c.ask({ request: 'smtpd_access_policy', sender: 'ok@x.test' })).toBe('DUNNO');
    expect(await c.ask({ request: 'smtpd_access_policy', sender: 'bad@x.test' })).toBe('REJECT 5.7.1 not yours');
    // Two requests in one write, the second with CRLF line ends.
    c.socket.write('sender=bad@x.test\n\nsender=ok@x.test\r\n\r\n');
    await expect.poll(() => c.received().split('\n\n').length - 1).toBe(4);
    expect(c.received().split('\n\n').slice(2, 4)).toEqual(['action=REJECT 5.7.1 not yours', 'action=DUNNO']);
    c.close();
  });

  it('a line without "=" gets DEFER_IF_PERMIT 4.3.0 and the connection closes', async () => {
    const l = await listen();
    const c = await connectPolicy(l.port);
    c.socket.write('this is not an attribute\n\n');
    await c.closed;
    expect(c.received()).toBe('action=DEFER_IF_PERMIT 4.3.0 malformed policy request\n\n');
  });

  it('a value of megabytes is refused after the line bound, not buffered', async () => {
    const l = await listen(undefined, { maxLineBytes: 4096, maxRequestBytes: 16_384 });
    const c = await connectPolicy(l.port);
    const big = `sender=${'a'.repeat(1024 * 1024)}`;
    c.socket.write(big);
    await c.closed;
    expect(c.received()).toBe('action=DEFER_IF_PERMIT 4.3.0 malformed policy request\n\n');
  });

  it('too many attributes or too large a request are refused', async () => {
    const l = await listen(undefined, { maxAttributes: 10, maxRequestBytes: 2000 });
    const many = await connectPolicy(l.port);
    many.socket.write(`${Array.from({ length: 11 }, (_, i) => `a${i}=1\n`).join('')}\n`);
    await many.closed;
    expect(many.received()).toContain('DEFER_IF_PERMIT 4.3.0');
    const large = await connectPolicy(l.port);
    large.socket.write(`${Array.from({ length: 9 }, (_, i) => `a${i}=${'x'.repeat(300)}\n`).join('')}\n`);
    await large.closed;
    expect(large.received()).toContain('DEFER_IF_PERMIT 4.3.0');
    // The listener still answers others.
    const ok = await connectPolicy(l.port);
    expect(await ok.ask({ sender: 'ok@x.test' })).toBe('DUNNO');
    ok.close();
  });

  it('a missing blank line is not answered until the idle timeout closes the connection', async () => {
    const l = await listen(undefined, { idleTimeoutMs: 300 });
    const c = await connectPolicy(l.port);
    c.socket.write('sender=ok@x.test\n');
    const started = Date.now();
    await c.closed;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(c.received()).toBe('');
  });

  it('connections past the cap are closed at once; the others keep being answered', async () => {
    const l = await listen(undefined, { maxConnections: 5 });
    const open = await Promise.all(Array.from({ length: 5 }, () => connectPolicy(l.port)));
    await expect.poll(() => l.connections()).toBe(5);
    const extra = await connectPolicy(l.port);
    await extra.closed;
    expect(await open[0]?.ask({ sender: 'ok@x.test' })).toBe('DUNNO');
    for (const c of open) c.close();
  });

  it('a decision that fails or takes too long is DEFER_IF_PERMIT 4.3.0, and the listener lives on', async () => {
    const errors: unknown[] = [];
    const l = await listen(
      async (request) => {
        if (request.get('sender') === 'throw@x.test') throw new Error('database gone');
        if (request.get('sender') === 'slow@x.test') await new Promise((r) => setTimeout(r, 2000));
        return { action: 'DUNNO' };
      },
      { decisionTimeoutMs: 200, onError: (e) => errors.push(e) },
    );
    const c = await connectPolicy(l.port);
    expect(await c.ask({ sender: 'throw@x.test' })).toBe('DEFER_IF_PERMIT 4.3.0 sending policy temporarily unavailable');
    const started = Date.now();
    expect(await c.ask({ sender: 'slow@x.test' })).toBe('DEFER_IF_PERMIT 4.3.0 sending policy temporarily unavailable');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await c.ask({ sender: 'ok@x.test' })).toBe('DUNNO');
    expect(errors).toHaveLength(1);
    c.close();
  });

  it('reply text is one printable line: a reason cannot inject lines', async () => {
    const l = await listen(async () => ({ action: 'REJECT', status: '5.7.1', reason: 'a\nb\r\nc\u00e9' }));
    const c = await connectPolicy(l.port);
    expect(await c.ask({ sender: 'x@x.test' })).toBe('REJECT 5.7.1 a?b??c?');
    c.close();
  });

  it('a client that sends without reading stops being read (bounded memory) and goes at the idle timeout', async () => {
    const l = await listen(undefined, { idleTimeoutMs: 1000 });
    const socket = net.connect({ port: l.port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.pause(); // never reads
    await new Promise((r) => socket.once('connect', r));
    // 4 MB of requests at once; the answers (about 14 bytes each) fill the kernel buffers.
    socket.write('sender=ok@x.test\n\n'.repeat(220_000));
    const heap = process.memoryUsage().heapUsed;
    const started = Date.now();
    await expect.poll(() => l.connections(), { timeout: 20_000, interval: 100 }).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The server did not keep what it could not answer.
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(64 * 1024 * 1024);
    socket.destroy();
  }, 30_000);
});
