// The verify cache is bounded by RELAYKEY_VERIFY_CACHE_MAX_ENTRIES and, when full, lets the
// least recently used key go, not the oldest loaded: a key in steady use stays cached while
// keys seen once pass through. Which key was let go shows through a change made behind the
// cache's back (no invalidation): a still-cached key answers from the cache, a reloaded one
// from the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('verify cache on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_VERIFY_CACHE_MAX_ENTRIES: '2' } });
    seed = await seedTenant(server);
  }, 120_000);
  afterAll(async () => server?.close());

  async function credential(): Promise<{ id: string; secret: string }> {
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'cached', scopes: ['app'], login_id: seed.loginId },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id, secret: created.body.secret };
  }

  const attempt = async (secret: string) => (await verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'imap' })).status;

  it('lets the least recently used key go when full, and stays within its bound', async () => {
    const [steady, once, newcomer] = [await credential(), await credential(), await credential()];
    server.runtime.services.verifier.invalidateAll();
    expect(await attempt(steady.secret)).toBe(200);
    expect(await attempt(once.secret)).toBe(200);
    expect(await attempt(steady.secret)).toBe(200); // used again: now the most recent
    expect(server.runtime.services.verifier.cacheSize).toBe(2);

    // Both expire in the database only; the cache does not hear of it.
    const past = new Date(Date.now() - 60_000).toISOString();
    await server.sql('update credentials set expires_at = ? where id in (?, ?)', [past, steady.id, once.id]);

    expect(await attempt(newcomer.secret)).toBe(200); // a third key: one of the two must go
    expect(server.runtime.services.verifier.cacheSize).toBe(2);
    // The key in steady use is still cached (its stale answer shows it); the one used once
    // was let go and is read again, expired. Evicting the oldest loaded would be the reverse.
    expect(await attempt(steady.secret)).toBe(200);
    expect(await attempt(once.secret)).toBe(401);
  });

  it.runIf(dialect === 'sqlite')('on SQLite, a cache miss is looked up on the lookup worker, a hit is not, and a revocation is refused at once', async () => {
    const lookups = server.runtime.handle.sqliteLookups?.() ?? null;
    expect(lookups?.alive).toBe(true);
    const [first, second] = [await credential(), await credential()];
    server.runtime.services.verifier.invalidateAll();
    const before = lookups?.batches ?? 0;
    expect(await attempt(first.secret)).toBe(200);
    expect(await attempt(second.secret)).toBe(200);
    expect((lookups?.batches ?? 0) - before).toBe(2);
    expect(await attempt(first.secret)).toBe(200);
    expect((lookups?.batches ?? 0) - before).toBe(2);
    const revoked = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${first.id}/revoke`, {
      token: seed.bearer,
      body: { reason: 'lost phone' },
    });
    expect(revoked.status).toBe(200);
    expect(await attempt(first.secret)).toBe(401);
    expect(await attempt(second.secret)).toBe(200);
    // The revocation emptied the cache entry: the 401 came from a fresh lookup on the worker.
    expect((lookups?.batches ?? 0) - before).toBe(3);
    expect(lookups?.alive).toBe(true);
  });

  it.runIf(dialect === 'sqlite')('does not cache a lookup that an invalidation overtook while the worker was answering it', async () => {
    const verifier = server.runtime.services.verifier;
    const { secret } = await credential();
    verifier.invalidateAll();
    const lookups = server.runtime.handle.sqliteLookups?.() ?? null;
    const before = lookups?.batches ?? 0;
    const pending = verifier.verify({ username: seed.loginAddress, password: secret, protocol: 'imap' });
    // The lookup is queued for this turn's batch; a change notice arrives before its answer.
    verifier.invalidateAll();
    expect((await pending).valid).toBe(true);
    expect((lookups?.batches ?? 0) - before).toBe(1);
    expect(verifier.cacheSize).toBe(0);
  });
});
