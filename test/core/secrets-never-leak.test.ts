// Collects every log line, CLI output, error body and audit row of a run and finds none of
// the plaintext secrets the run created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('secrets never leak on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const secrets: string[] = [];
  const responsesThatMustNotEcho: string[] = [];

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_LOG_LEVEL: 'trace' } });
    seed = await seedTenant(server);
    secrets.push(seed.adminPassword, seed.adminToken, seed.bearer, seed.loginBearer, seed.server, seed.verifier);
    const base = `/api/v1/tenants/${seed.tenantId}/credentials`;
    const created = await call(server, 'POST', base, { token: seed.bearer, body: { name: 'leak check', scopes: ['smtp'], login_id: seed.loginId } });
    secrets.push(created.body.secret);
    await verify(server, seed.verifier, { username: seed.loginAddress, password: created.body.secret, protocol: 'smtp' });
    await verify(server, seed.verifier, { username: seed.loginAddress, password: created.body.secret, protocol: 'imap' });
    const rotated = await call(server, 'POST', `${base}/${created.body.id}/rotate`, { token: seed.bearer, body: { grace_period_seconds: 60 } });
    secrets.push(rotated.body.secret);
    const reauth = await call(server, 'POST', '/api/v1/auth/reauth', { token: seed.adminToken, body: { password: seed.adminPassword } });
    secrets.push(reauth.body.reauth_token);
    // Failures that carry a secret in the request must not echo it back or log it.
    responsesThatMustNotEcho.push(
      (await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: `${seed.adminPassword}x` } })).text,
      (await call(server, 'POST', '/api/v1/verify', { token: seed.verifier, body: { username: 'x', password: rotated.body.secret, protocol: 'ftp' } })).text,
      (await call(server, 'POST', base, { token: seed.bearer, rawBody: `{"name":"${rotated.body.secret}` })).text,
      (await call(server, 'POST', base, { token: seed.bearer, body: { name: 'x', scopes: ['smtp'], extra: rotated.body.secret } })).text,
    );
    const cliToken = await server.cli(['token', 'create', '--kind', 'verifier', '--json']);
    secrets.push(JSON.parse(cliToken.stdout).token);
    responsesThatMustNotEcho.push(cliToken.stderr);
    await server.runtime.services.usage.flush();
  });
  afterAll(async () => server?.close());

  it('created secrets of every kind', () => {
    expect(secrets.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    expect(server.logs.length).toBeGreaterThan(20);
  });

  it('no log line contains a secret', () => {
    const logText = server.logs.join('\n');
    for (const secret of secrets) expect(logText.includes(secret), `secret ${secret.slice(0, 4)}… found in logs`).toBe(false);
  });

  it('no error response echoes a secret', () => {
    const text = responsesThatMustNotEcho.join('\n');
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  });

  it('no audit row and no stored column holds a plaintext secret', async () => {
    const tables = ['audit_events', 'credentials', 'api_tokens', 'admins', 'admin_sessions', 'reauth_tokens'];
    for (const table of tables) {
      const dump = JSON.stringify(await server.sql(`SELECT * FROM ${table}`));
      for (const secret of secrets) expect(dump.includes(secret), `${table} holds ${secret.slice(0, 4)}…`).toBe(false);
    }
  });
});
