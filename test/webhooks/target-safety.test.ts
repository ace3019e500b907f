// Where webhooks may go, checked on the address (unit) and at connect time after DNS (real sends).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryDelay, send } from '../../src/webhooks/delivery.js';
import { addressAllowed, urlProblem } from '../../src/webhooks/target-safety.js';

describe('webhook target safety', () => {
  it('allows public unicast only, unless an allow-listed network covers the address', () => {
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])
      expect(addressAllowed(address, []), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(addressAllowed(address, []), address).toBe(false);
    }
    expect(addressAllowed('127.0.0.1', ['127.0.0.0/8'])).toBe(true);
    expect(addressAllowed('::ffff:127.0.0.1', ['127.0.0.0/8'])).toBe(true);
    expect(addressAllowed('10.0.0.1', ['127.0.0.0/8'])).toBe(false);
    expect(addressAllowed('fd00::5', ['fd00::/8'])).toBe(true);
  });

  it('checks the URL shape', () => {
    expect(urlProblem('https://hooks.example.com/x', [])).toBeNull();
    expect(urlProblem('ftp://hooks.example.com/x', [])).toMatch(/http or https/);
    expect(urlProblem('file:///etc/passwd', [])).toMatch(/http or https/);
    expect(urlProblem('http://a:b@hooks.example.com/', [])).toMatch(/credentials/);
    expect(urlProblem('http://[::1]/', [])).toMatch(/::1/);
    expect(urlProblem('http://2130706433/', [])).toMatch(/127\.0\.0\.1/); // the WHATWG parser normalises it
    expect(urlProblem('nonsense', [])).toMatch(/not a valid URL/);
  });

  it('retries on the documented schedule with bounded jitter, then gives up', () => {
    const schedule = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];
    schedule.forEach((base, i) => {
      expect(retryDelay(i + 1, () => 0)).toBe(base);
      expect(retryDelay(i + 1, () => 0.999)).toBeLessThanOrEqual(base * 1.2);
    });
    expect(retryDelay(7)).toBeNull();
  });

  describe('at send time', () => {
    let port = 0;
    let hits = 0;
    const server = createServer((_request, response) => {
      hits += 1;
      response.statusCode = 204;
      response.end();
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    it('refuses a name that resolves to loopback, and a literal, unless allowed', async () => {
      const byName = await send(`http://localhost:${port}/`, {}, '{}', []);
      expect(byName.ok).toBe(false);
      expect(byName.error).toMatch(/localhost resolves to .* which webhooks may not reach/);
      const literal = await send(`http://127.0.0.1:${port}/`, {}, '{}', []);
      expect(literal.ok).toBe(false);
      expect(hits).toBe(0);
      const allowed = await send(`http://127.0.0.1:${port}/`, {}, '{}', ['127.0.0.0/8']);
      expect(allowed).toEqual({ ok: true, statusCode: 204, error: null });
      expect(hits).toBe(1);
    });
  });
});
