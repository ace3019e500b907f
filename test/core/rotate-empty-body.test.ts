// Rotating a credential needs no options: POST .../rotate with no body at all, or with
// `content-type: application/json` and an empty body, is read as `{}` (no grace period) on the
// native surface and on seed 001 alike; a malformed body is still a 400 that changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('rotate with an empty body on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'Rotate');
  });
  afterAll(async () => server?.close());

  const credentials = () => `/api/v1/tenants/${seed.tenantId}/credentials`;
  const createCredential = async () => {
    const created = await call(server, 'POST', credentials(), { token: seed.bearer, body: { name: 'relay', scopes: ['smtp'] } });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; secret: string };
  };
  // An unbound native credential logs in to mail protocols with its own id as the username.
  const works = async (id: string, secret: string) => (await verify(server, seed.verifier, { username: id, password: secret, protocol: 'smtp' })).status;
  const raw = (path: string, headers: Record<string, string>, body?: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });

  it('native rotate: no body, and an empty JSON body, mean {}', async () => {
    for (const [what, headers, body] of [
      ['no body', {}, undefined],
      ['empty JSON body', { 'content-type': 'application/json' }, ''],
      ['empty JSON body with a charset', { 'content-type': 'application/json; charset=utf-8' }, ''],
    ] as [string, Record<string, string>, string | undefined][]) {
      const old = await createCredential();
      const response = await raw(`${credentials()}/${old.id}/rotate`, { authorization: `Bearer ${seed.bearer}`, ...headers }, body);
      const text = await response.text();
      expect(response.status, `${what}: ${text}`).toBe(201);
      const rotated = JSON.parse(text) as { id: string; secret: string; replaced: { id: string; status: string } };
      expect(rotated.replaced).toMatchObject({ id: old.id, status: 'revoked' });
      // {} = no grace period: the old secret stops at once, the new one works.
      expect(await works(old.id, old.secret)).toBe(401);
      expect(await works(rotated.id, rotated.secret)).toBe(200);
    }
  });

  it('native rotate: a malformed or wrong body is still refused and changes nothing', async () => {
    const old = await createCredential();
    for (const [body, pattern] of [
      ['{"grace_period_seconds": ', /JSON/i],
      ['[]', /object/i],
      ['{"grace": 5}', /grace/i],
    ] as [string, RegExp][]) {
      const response = await call(server, 'POST', `${credentials()}/${old.id}/rotate`, { token: seed.bearer, rawBody: body });
      expect(response.status, body).toBe(400);
      expect(response.body.error.message).toMatch(pattern);
    }
    expect(await works(old.id, old.secret)).toBe(200);
    const [row] = await server.sql<{ status: string }>('SELECT status FROM credentials WHERE id = ?', [old.id]);
    expect(row?.status).toBe('active');
  });

  it('seed 001 list accepts no body and an empty JSON body alike', async () => {
    for (const [headers, body] of [
      [{}, undefined],
      [{ 'content-type': 'application/json' }, ''],
    ] as [Record<string, string>, string | undefined][]) {
      const response = await raw('/api/v1/credentials/list', { 'x-server-api-key': seed.server, ...headers }, body);
      const text = await response.text();
      expect(response.status, text).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ status: 'success', data: expect.any(Array) });
    }
  });
});
