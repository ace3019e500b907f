// Seed 001 (server credentials, X-Server-API-Key) contract: every documented field, type, status
// and prefix, the error envelope, and the behaviour behind them through /api/v1/verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { expectDocumented, expectNoChange, ISO_SECONDS } from './helpers.js';

const KEY = /^vml_[0-9A-Za-z]{38}$/;

describe.each(DIALECTS)('seed 001 server credentials on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    // Many deliberate wrong-protocol logins from one address: the login throttle (tested in test/protocol) stays out of the way.
    server = await startTestServer(dialect, { env: { RELAYKEY_THROTTLE_IP_LIMIT: '10000', RELAYKEY_THROTTLE_USERNAME_LIMIT: '10000' } });
    seed = await seedTenant(server, 'Postal');
    other = await seedTenant(server, 'Other');
  });
  afterAll(async () => server?.close());

  const post = (action: string, body?: unknown, key: string | null = seed.server) =>
    call(server, 'POST', `/api/v1/credentials/${action}`, {
      ...(body !== undefined ? { body } : {}),
      ...(key !== null ? { headers: { 'X-Server-API-Key': key } } : {}),
    });
  const check = (password: string, protocol: string, username = 'anything-at-all') => verify(server, seed.verifier, { username, password, protocol });

  function expectError(response: ApiResponse, status: number, pattern?: RegExp) {
    expect(response.status).toBe(status);
    expect(Object.keys(response.body).sort()).toEqual(['code', 'message', 'request_id', 'status']);
    expect(response.body.status).toBe('error');
    expect(typeof response.body.message).toBe('string');
    expect(response.body.message.length).toBeGreaterThan(0);
    if (pattern) expect(response.body.message).toMatch(pattern);
  }

  it('documents the four operations in /openapi.json under the seed001 tag', async () => {
    await expectDocumented(
      server,
      'seed001',
      ['list', 'create', 'regenerate', 'revoke'].map((a) => ['post', `/api/v1/credentials/${a}`]),
    );
    const spec = await call(server, 'GET', '/openapi.json');
    expect(spec.body.components.securitySchemes.serverApiKey).toEqual({ type: 'apiKey', in: 'header', name: 'X-Server-API-Key' });
  });

  it('creates an SMTP credential by default: exact fields, vml_ key, any username for SMTP only', async () => {
    const created = await post('create', { name: 'SMTP Relay' });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body.status).toBe('success');
    const data = created.body.data;
    expect(Object.keys(data).sort()).toEqual(['hold', 'id', 'key', 'name', 'type', 'uuid']);
    expect(Number.isInteger(data.id)).toBe(true);
    expect(data.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(data).toMatchObject({ name: 'SMTP Relay', type: 'SMTP', hold: false });
    expect(data.key).toMatch(KEY);
    const [row] = await server.sql<{ tenant_num: number }>('SELECT tenant_num FROM credentials WHERE id = ?', [data.uuid]);
    expect(Number(row?.tenant_num)).toBe(data.id);

    expect((await check(data.key, 'smtp', 'whatever@example.org')).status).toBe(200);
    expect((await check(data.key, 'smtp', '')).status).toBe(200);
    for (const protocol of ['imap', 'pop3', 'api:read', 'api:write']) expect((await check(data.key, protocol)).status).toBe(401);
  });

  it('an API credential authenticates only for the api scopes', async () => {
    const created = await post('create', { name: 'Production API', type: 'API' });
    expect(created.status).toBe(200);
    expect(created.body.data.type).toBe('API');
    const key = created.body.data.key;
    expect((await check(key, 'api:read')).status).toBe(200);
    expect((await check(key, 'api:write')).status).toBe(200);
    for (const protocol of ['smtp', 'imap', 'pop3']) expect((await check(key, protocol)).status).toBe(401);
  });

  it('a credential created with hold: true cannot authenticate until released', async () => {
    const created = await post('create', { name: 'Held', hold: true });
    expect(created.status).toBe(200);
    expect(created.body.data.hold).toBe(true);
    expect((await check(created.body.data.key, 'smtp')).status).toBe(401);
    const released = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${created.body.data.uuid}/unhold`, { token: seed.bearer });
    expect(released.status).toBe(200);
    expect((await check(created.body.data.key, 'smtp')).status).toBe(200);
  });

  it('lists the credentials of this server with exactly the documented fields', async () => {
    const created = await post('create', { name: 'Listed' });
    const native = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'native', scopes: ['smtp'] },
    });
    expect(native.status).toBe(201);
    let list = await post('list');
    expect(list.status).toBe(200);
    expect(list.body.status).toBe('success');
    expect(Array.isArray(list.body.data)).toBe(true);
    for (const item of list.body.data) {
      expect(Object.keys(item).sort()).toEqual(['hold', 'id', 'last_used_at', 'name', 'type', 'uuid']);
      expect(Number.isInteger(item.id)).toBe(true);
      expect(typeof item.uuid).toBe('string');
      expect(['SMTP', 'API']).toContain(item.type);
      expect(typeof item.hold).toBe('boolean');
      expect(item.last_used_at === null || ISO_SECONDS.test(item.last_used_at)).toBe(true);
    }
    const uuids = list.body.data.map((c: { uuid: string }) => c.uuid);
    expect(uuids).toContain(created.body.data.uuid);
    expect(uuids).not.toContain(native.body.id);
    expect(list.text).not.toContain(created.body.data.key);
    const listed = list.body.data.find((c: { uuid: string }) => c.uuid === created.body.data.uuid);
    expect(listed).toEqual({ id: created.body.data.id, uuid: created.body.data.uuid, name: 'Listed', type: 'SMTP', hold: false, last_used_at: null });

    // last_used_at follows real use (usage is written in batches; flush it).
    expect((await check(created.body.data.key, 'smtp')).status).toBe(200);
    await server.runtime.services.usage.flush();
    list = await post('list', {});
    const used = list.body.data.find((c: { uuid: string }) => c.uuid === created.body.data.uuid);
    expect(used.last_used_at).toMatch(ISO_SECONDS);
  });

  it('regenerate issues a new credential and revokes the old one atomically', async () => {
    const created = await post('create', { name: 'Rotating', type: 'API' });
    const oldKey = created.body.data.key;
    const regenerated = await post('regenerate', { uuid: created.body.data.uuid });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.status).toBe('success');
    const data = regenerated.body.data;
    expect(Object.keys(data).sort()).toEqual(['key', 'new_id', 'new_uuid', 'old_id', 'old_uuid']);
    expect(data.old_id).toBe(created.body.data.id);
    expect(data.old_uuid).toBe(created.body.data.uuid);
    expect(Number.isInteger(data.new_id)).toBe(true);
    expect(data.new_id).not.toBe(data.old_id);
    expect(data.new_uuid).not.toBe(data.old_uuid);
    expect(data.key).toMatch(KEY);
    expect(data.key).not.toBe(oldKey);

    expect((await check(oldKey, 'api:read')).status).toBe(401);
    expect((await check(data.key, 'api:read')).status).toBe(200);
    expect((await check(data.key, 'smtp')).status).toBe(401);

    const list = await post('list');
    const byUuid = new Map(list.body.data.map((c: { uuid: string }) => [c.uuid, c]));
    expect(byUuid.get(data.new_uuid)).toMatchObject({ id: data.new_id, name: 'Rotating', type: 'API', hold: false });
    expect(byUuid.has(data.old_uuid)).toBe(false);

    const rows = await server.sql<{ id: string; status: string; replaces_id: string | null }>(
      'SELECT id, status, replaces_id FROM credentials WHERE id IN (?, ?) ORDER BY num_id',
      [data.old_uuid, data.new_uuid],
    );
    expect(rows).toEqual([
      { id: data.old_uuid, status: 'revoked', replaces_id: null },
      { id: data.new_uuid, status: 'active', replaces_id: data.old_uuid },
    ]);
    const events = await server.sql<{ event: string }>('SELECT event FROM audit_events WHERE target_id = ? ORDER BY seq', [data.old_uuid]);
    expect(events.map((e) => e.event)).toEqual(['credential.created', 'credential.revoked', 'credential.rotated']);

    // The old one is gone: regenerating it again fails in the envelope and changes nothing.
    await expectNoChange(server, async () => {
      expectError(await post('regenerate', { uuid: data.old_uuid }), 409);
    });
  });

  it('revoke sets hold: true and the key stops authenticating', async () => {
    const created = await post('create', { name: 'To revoke' });
    const revoked = await post('revoke', { uuid: created.body.data.uuid });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ status: 'success', data: { id: created.body.data.id, uuid: created.body.data.uuid, hold: true } });
    expect((await check(created.body.data.key, 'smtp')).status).toBe(401);
    const list = await post('list');
    expect(list.body.data.find((c: { uuid: string }) => c.uuid === created.body.data.uuid)).toMatchObject({ hold: true });
    const events = await server.sql<{ event: string }>('SELECT event FROM audit_events WHERE target_id = ? ORDER BY seq', [created.body.data.uuid]);
    expect(events.map((e) => e.event)).toEqual(['credential.created', 'credential.held']);
    // Again: same answer, nothing new recorded.
    await expectNoChange(server, async () => {
      expect((await post('revoke', { uuid: created.body.data.uuid })).body.data.hold).toBe(true);
    });
  });

  it('regenerating a held credential answers an active one (how a client recovers after a leak)', async () => {
    const created = await post('create', { name: 'Held then regenerated', hold: true });
    const regenerated = await post('regenerate', { uuid: created.body.data.uuid });
    expect(regenerated.status).toBe(200);
    const list = await post('list');
    expect(list.body.data.find((c: { uuid: string }) => c.uuid === regenerated.body.data.new_uuid)).toMatchObject({ hold: false });
    expect((await check(regenerated.body.data.key, 'smtp')).status).toBe(200);
    expect((await check(created.body.data.key, 'smtp')).status).toBe(401);
  });

  it('answers authentication failures in the envelope', async () => {
    await expectNoChange(server, async () => {
      expectError(await post('list', undefined, null), 401, /X-Server-API-Key/);
      expectError(await post('create', { name: 'x' }, 'vml_not-a-key'), 401);
      expectError(await post('create', { name: 'x' }, seed.bearer), 403);
      expectError(await post('create', { name: 'x' }, seed.verifier), 403);
      // Authentication comes before the body is looked at.
      expectError(await post('create', { name: '' }, null), 401);
      expectError(await post('regenerate', { nonsense: true }, seed.bearer), 403);
      // Unknown operations under the base path keep the envelope.
      expectError(await post('delete', { uuid: 'x' }), 404, /no route/);
      // A bearer in Authorization is not a server key.
      expectError(await call(server, 'POST', '/api/v1/credentials/list', { token: seed.server }), 401);
    });
  });

  it('rejects bad bodies with 400 naming the problem and changes nothing', async () => {
    await expectNoChange(server, async () => {
      expectError(await post('create', {}), 400, /name/);
      expectError(await post('create', { name: '' }), 400, /name/);
      expectError(await post('create', { name: 'x', type: 'smtp' }), 400, /type/);
      expectError(await post('create', { name: 'x', hold: 'yes' }), 400, /hold/);
      expectError(await post('create', { name: 'x', colour: 'red' }), 400, /colour/);
      expectError(await post('create', ['x']), 400);
      expectError(await call(server, 'POST', '/api/v1/credentials/create', { rawBody: '{"name":', headers: { 'X-Server-API-Key': seed.server } }), 400);
      expectError(await post('regenerate', {}), 400, /uuid/);
      expectError(await post('revoke', { uuid: 42 }), 400, /uuid/);
      expectError(await post('list', { page: 2 }), 400);
      expectError(await post('regenerate', { uuid: '00000000-0000-4000-8000-000000000000' }), 404);
      expectError(await post('revoke', { uuid: 'abc-123-def' }), 404);
    });
  });

  it('another tenant, and native credentials, are out of reach (404)', async () => {
    const mine = await post('create', { name: 'Mine' });
    const native = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'native', scopes: ['smtp'] },
    });
    await expectNoChange(server, async () => {
      expectError(await post('regenerate', { uuid: mine.body.data.uuid }, other.server), 404);
      expectError(await post('revoke', { uuid: mine.body.data.uuid }, other.server), 404);
      expectError(await post('revoke', { uuid: native.body.id }), 404);
      expectError(await post('regenerate', { uuid: native.body.id }), 404);
      const theirs = await post('list', {}, other.server);
      expect(theirs.body.data.map((c: { uuid: string }) => c.uuid)).not.toContain(mine.body.data.uuid);
    });
    expect((await check(mine.body.data.key, 'smtp')).status).toBe(200);
  });
});
