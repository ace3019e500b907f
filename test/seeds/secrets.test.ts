// The seed surfaces issue secrets in one response only: never in logs (at trace level), error
// bodies, audit rows or stored columns; the seed 003 Key is public and may appear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('seed surfaces keep secrets secret on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const secrets: string[] = [];
  const errorTexts: string[] = [];

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_LOG_LEVEL: 'trace' } });
    seed = await seedTenant(server);
    const server001 = { 'X-Server-API-Key': seed.server };
    const created001 = await call(server, 'POST', '/api/v1/credentials/create', { headers: server001, body: { name: 'relay' } });
    const regenerated = await call(server, 'POST', '/api/v1/credentials/regenerate', { headers: server001, body: { uuid: created001.body.data.uuid } });
    const created002 = await call(server, 'POST', '/api/smtp-credentials', { token: seed.loginBearer, body: { name: 'client', scopes: ['smtp'] } });
    const rotated002 = await call(server, 'POST', `/api/smtp-credentials/${created002.body.id}/rotate`, { token: seed.loginBearer });
    const mobile = await call(server, 'POST', '/api/smtp-credentials/mobile', {
      token: seed.loginBearer,
      body: { name: 'phone', platform: 'ios', deviceId: 'd-1' },
    });
    const created003 = await call(server, 'POST', '/api/v1/account/api_key', { token: seed.bearer, body: { role: 'standard', name: 'acct' } });
    secrets.push(
      created001.body.data.key,
      regenerated.body.data.key,
      created002.body.apiKey,
      rotated002.body.apiKey,
      mobile.body.apiKey,
      created003.body.Secret,
    );
    await verify(server, seed.verifier, { username: 'x', password: regenerated.body.data.key, protocol: 'smtp' });
    await verify(server, seed.verifier, { username: created003.body.Key, password: created003.body.Secret, protocol: 'imap' });
    // Requests that carry a secret where it does not belong must not echo it.
    const leaked = rotated002.body.apiKey as string;
    errorTexts.push(
      (await call(server, 'POST', '/api/v1/credentials/list', { headers: { 'X-Server-API-Key': leaked } })).text,
      (await call(server, 'POST', '/api/v1/credentials/revoke', { headers: server001, body: { uuid: leaked } })).text,
      (await call(server, 'POST', '/api/v1/credentials/create', { headers: server001, body: { name: 'x', type: leaked } })).text,
      (await call(server, 'POST', '/api/smtp-credentials', { token: seed.loginBearer, body: { name: 'x', scopes: [leaked] } })).text,
      (await call(server, 'DELETE', `/api/smtp-credentials/${leaked}`, { token: seed.loginBearer })).text,
      (await call(server, 'GET', '/api/v1/account/api_key', { token: leaked })).text,
      (await call(server, 'POST', '/api/v1/account/api_key', { token: seed.bearer, body: { role: leaked, name: 'x' } })).text,
      (await call(server, 'GET', `/api/v1/account/api_key/${leaked}/sessions`, { token: seed.bearer })).text,
    );
    await server.runtime.services.usage.flush();
  });
  afterAll(async () => server?.close());

  it('issued a secret on every issuing route', () => {
    expect(secrets).toHaveLength(6);
    for (const secret of secrets) expect(secret).toMatch(/^(vml|rm|rks)_[0-9A-Za-z]{38}$/);
    expect(errorTexts).toHaveLength(8);
  });

  it('no log line, error body, audit row or stored column holds one', async () => {
    const logText = server.logs.join('\n');
    const errors = errorTexts.join('\n');
    for (const secret of secrets) {
      expect(logText.includes(secret), `${secret.slice(0, 4)}… in logs`).toBe(false);
      expect(errors.includes(secret), `${secret.slice(0, 4)}… echoed`).toBe(false);
    }
    for (const table of ['audit_events', 'credentials', 'credential_sessions']) {
      const dump = JSON.stringify(await server.sql(`SELECT * FROM ${table}`));
      for (const secret of secrets) expect(dump.includes(secret), `${table} holds ${secret.slice(0, 4)}…`).toBe(false);
    }
  });
});
