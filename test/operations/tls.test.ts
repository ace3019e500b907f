// RELAYKEY_TLS_CERT_FILE / RELAYKEY_TLS_KEY_FILE: relaykey serves HTTPS itself (the fast path
// too) and picks up a renewed certificate on SIGHUP without a restart.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ServerProcess, spawnServer, waitFor, stopServerProcess } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const folder = mkdtempSync(join(tmpdir(), 'relaykey-tls-'));

function makeCertificate(name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(folder, `${name}.crt`);
  const key = join(folder, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' }); // biome-ignore format: one command
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

/** One HTTPS request trusting only `ca`; resolves with the status, body and the certificate the server showed. */
function get(url: string, ca: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: string; fingerprint: string }>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca: readFileSync(ca), headers: options.headers ?? {}, agent: false }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('TLS', () => {
  let server: TestServer;
  let node: ServerProcess | undefined;
  const first = makeCertificate('first');
  const second = makeCertificate('second');
  const live = { cert: join(folder, 'live.crt'), key: join(folder, 'live.key') };

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key));
  });
  afterAll(async () => {
    await stopServerProcess(node);
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('serves HTTPS, the fast path included, and reloads the certificate on SIGHUP', async () => {
    node = await spawnServer({ ...server.env, RELAYKEY_TLS_CERT_FILE: live.cert, RELAYKEY_TLS_KEY_FILE: live.key });
    expect(node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(`${node.url}/healthz`, first.cert);
    expect(health.status).toBe(200);
    expect(health.fingerprint).toBe(first.fingerprint);
    const verify = await get(`${node.url}/api/v1/verify`, first.cert, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer rkv_notavalidtoken' },
      body: JSON.stringify({ username: 'a@b.test', password: 'x', protocol: 'imap' }),
    });
    expect(verify.status).toBe(401);
    expect(JSON.parse(verify.body).error.code).toBe('UNAUTHENTICATED');

    writeFileSync(live.cert, readFileSync(second.cert));
    writeFileSync(live.key, readFileSync(second.key));
    node.child.kill('SIGHUP');
    await waitFor(
      async () => (await get(`${node?.url}/healthz`, second.cert).catch(() => null))?.fingerprint === second.fingerprint,
      10_000,
      'the new certificate',
    );
    expect(node.output.join('')).toContain('TLS certificate reloaded');

    // A broken pair on reload keeps the working one.
    writeFileSync(live.key, readFileSync(first.key));
    node.child.kill('SIGHUP');
    await waitFor(() => node?.output.join('').includes('TLS certificate NOT reloaded') ?? false, 10_000, 'the refusal');
    expect((await get(`${node.url}/healthz`, second.cert)).status).toBe(200);
  });

  it('refuses to start with half a pair or a key that does not match, in one line', async () => {
    server.env.RELAYKEY_TLS_CERT_FILE = first.cert;
    let half: Awaited<ReturnType<TestServer['cli']>>;
    try {
      half = await server.cli(['start']);
    } finally {
      delete server.env.RELAYKEY_TLS_CERT_FILE;
    }
    expect(half.code).toBe(78);
    expect(half.stderr).toMatch(/set both RELAYKEY_TLS_CERT_FILE and RELAYKEY_TLS_KEY_FILE, or neither/);
    server.env.RELAYKEY_TLS_CERT_FILE = first.cert;
    server.env.RELAYKEY_TLS_KEY_FILE = second.key;
    try {
      const mismatched = await server.cli(['start']);
      expect(mismatched.code).toBe(78);
      expect(mismatched.stderr.trim().split('\n')).toHaveLength(1);
      expect(mismatched.stderr).toMatch(/not a usable PEM certificate and matching key/);
    } finally {
      delete server.env.RELAYKEY_TLS_CERT_FILE;
      delete server.env.RELAYKEY_TLS_KEY_FILE;
    }
  });
});
