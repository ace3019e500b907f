// The bulk import path (`relaykey credentials import`) and the storage fast paths it shares
// with verification: multi-row inserts, the prepared hot-path lookup, batched last-used times.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('credentials import on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let lines: Array<[string, string]>;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  const countRows = async (where = '') => Number((await server.sql<{ n: number | string }>(`SELECT COUNT(*) AS n FROM credentials ${where}`, []))[0]?.n ?? 0);

  it('stores every key in batches, writes the plaintexts to --out only, and audits each batch', async () => {
    const before = await countRows();
    const out = join(server.env.RELAYKEY_DATA_DIR as string, 'keys.txt');
    // 1,234 keys in batches of 500: full multi-row statements plus a shorter remainder.
    const result = await server.cliJson<{ imported: number; batches: number; out: string }>([
      'credentials',
      'import',
      '--tenant',
      seed.tenantId,
      '--count',
      '1234',
      '--scopes',
      'smtp,imap',
      '--batch-size',
      '500',
      '--out',
      out,
      '--with-ids',
    ]);
    expect(result).toMatchObject({ imported: 1234, batches: 3, out });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]);
    expect(lines).toHaveLength(1234);
    expect(new Set(lines.map(([, key]) => key)).size).toBe(1234);
    for (const [id, key] of lines) {
      // UUIDv7: time-ordered ids append to the unique id index, where random v4 ids dirtied
      // pages all over it (a 1M-key import took 65-67 s with v4 and 47-48 s with v7).
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(key).toMatch(/^rk_[0-9A-Za-z]{38}$/);
    }
    // Their millisecond prefix never goes back in creation order (within a millisecond the order is random).
    const times = lines.map(([id]) => id.slice(0, 13));
    expect([...times].sort()).toEqual(times);
    expect(await countRows()).toBe(before + 1234);
    // Only keyed hashes are stored: no plaintext anywhere in the rows.
    const sample = lines[700] as [string, string];
    const stored = await server.sql<Record<string, unknown>>('SELECT * FROM credentials WHERE id = ?', [sample[0]]);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(sample[1].slice(3));
    expect(stored[0]).toMatchObject({ tenant_id: seed.tenantId, scopes: '["smtp","imap"]', status: 'active', surface: 'native' });

    const events = await server.sql<{ details: string }>("SELECT details FROM audit_events WHERE event = 'credentials.imported' ORDER BY seq", []);
    expect(events.map((e) => JSON.parse(e.details).count)).toEqual([500, 500, 234]);
    const audit = await server.cliJson<{ ok: boolean }>(['audit', 'verify']);
    expect(audit.ok).toBe(true);
  }, 120_000);

  it('imported keys verify (first, middle, last batch) and are denied where a check fails', async () => {
    for (const index of [0, 499, 500, 1233]) {
      const [id, key] = lines[index] as [string, string];
      const ok = await verify(server, seed.verifier, { username: id, password: key, protocol: 'imap' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ valid: true, credential_id: id, tenant_id: seed.tenantId, scopes: ['smtp', 'imap'] });
      const wrongProtocol = await verify(server, seed.verifier, { username: id, password: key, protocol: 'pop3' });
      expect(wrongProtocol.status).toBe(401);
      const wrongUser = await verify(server, seed.verifier, { username: (lines[index + 1] ?? lines[0])?.[0], password: key, protocol: 'smtp' });
      expect(wrongUser.status).toBe(401);
    }
  });

  it('a revocation committed after a cached verify takes effect at once', async () => {
    const [id, key] = lines[42] as [string, string];
    expect((await verify(server, seed.verifier, { username: id, password: key, protocol: 'smtp' })).status).toBe(200);
    const revoked = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/revoke`, { token: seed.bearer, body: { reason: 'leaked' } });
    expect(revoked.status).toBe(200);
    expect((await verify(server, seed.verifier, { username: id, password: key, protocol: 'smtp' })).status).toBe(401);
    // And a fresh lookup (cache cleared) reads the committed state.
    server.runtime.services.verifier.invalidateAll();
    expect((await verify(server, seed.verifier, { username: id, password: key, protocol: 'smtp' })).status).toBe(401);
  });

  it('records last-used times in one batch, never moving them backwards', async () => {
    const used = lines.slice(100, 160);
    for (const [id, key] of used) expect((await verify(server, seed.verifier, { username: id, password: key, protocol: 'smtp' })).status).toBe(200);
    const batchesBefore = server.runtime.services.usage.batchesWritten;
    await server.runtime.services.usage.flush();
    expect(server.runtime.services.usage.batchesWritten).toBe(batchesBefore + 1);
    const ids = used.map(([id]) => id);
    const rows = await server.sql<{ id: string; last_used_at: string | null }>(
      `SELECT id, last_used_at FROM credentials WHERE id IN (${ids.map(() => '?').join(',')})`,
      ids,
    );
    expect(rows).toHaveLength(60);
    for (const row of rows) expect(row.last_used_at).not.toBeNull();
    const first = rows[0] as { id: string; last_used_at: string };
    // An older time arriving late does not overwrite a newer one.
    await server.runtime.store.transaction((repositories) => repositories.credentials.recordLastUsed(new Map([[first.id, '2000-01-01T00:00:00.000Z']])));
    const after = await server.sql<{ last_used_at: string }>('SELECT last_used_at FROM credentials WHERE id = ?', [first.id]);
    expect(after[0]?.last_used_at).toBe(first.last_used_at);
    // A flush larger than one slice (SQLite yields between slices) still writes every id.
    const later = '2999-01-01T00:00:00.000Z';
    await server.runtime.store.transaction((repositories) => repositories.credentials.recordLastUsed(new Map(lines.map(([id]) => [id, later]))));
    expect(await countRows(`WHERE last_used_at = '${later}'`)).toBe(lines.length);
  });

  it('rejects bad input with a clear line and writes nothing', async () => {
    const before = await countRows();
    const badScope = await server.cli(['credentials', 'import', '--tenant', seed.tenantId, '--count', '5', '--scopes', 'smtp,bogus']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('unknown scope(s): bogus');
    const badCount = await server.cli(['credentials', 'import', '--tenant', seed.tenantId, '--count', '0']);
    expect(badCount.code).toBe(2);
    expect(badCount.stderr).toContain('count must be');
    const notANumber = await server.cli(['credentials', 'import', '--tenant', seed.tenantId, '--count', '12abc']);
    expect(notANumber.code).toBe(2);
    const noTenant = await server.cli(['credentials', 'import', '--tenant', '00000000-0000-0000-0000-000000000000', '--count', '5']);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('tenant not found');
    const badOut = await server.cli(['credentials', 'import', '--tenant', seed.tenantId, '--count', '5', '--out', '/nonexistent-dir/keys.txt']);
    expect(badOut.code).toBe(2);
    expect(badOut.stderr).toContain('cannot write --out /nonexistent-dir/keys.txt: ENOENT');
    expect(await countRows()).toBe(before);
    // Six CLI processes: give a busy CI machine room.
  }, 180_000);
});
