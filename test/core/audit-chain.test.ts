// The audit hash chain survives concurrency and detects deleted rows, also at the end.
import { afterEach, describe, expect, it } from 'vitest';
import { call, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('audit chain on %s', (dialect) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('concurrent changes keep one unbroken chain', async () => {
    server = await startTestServer(dialect);
    const seed = await seedTenant(server);
    const s = server;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(s, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer, body: { name: `k${i}`, scopes: ['smtp'] } }),
      ),
    );
    const result = await server.cli(['audit', 'verify', '--tenant', seed.tenantId, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, chains: 1 });
    expect(JSON.parse(result.stdout).events).toBeGreaterThanOrEqual(33);
  });

  it('detects a row deleted from the middle and from the end', async () => {
    server = await startTestServer(dialect);
    const seed = await seedTenant(server);
    for (let i = 0; i < 3; i++) {
      await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer, body: { name: `k${i}`, scopes: ['smtp'] } });
    }
    const rows = await server.sql<{ seq: number; id: string }>('SELECT seq, id FROM audit_events WHERE tenant_id = ? ORDER BY seq', [seed.tenantId]);
    const last = rows[rows.length - 1];
    await server.sql('DELETE FROM audit_events WHERE id = ?', [last?.id]);
    const endCut = await server.cli(['audit', 'verify', '--tenant', seed.tenantId]);
    expect(endCut.code).not.toBe(0);
    expect(endCut.stdout).toMatch(/removed from the end/);

    const middle = rows[1];
    const next = rows[2];
    await server.sql('DELETE FROM audit_events WHERE id = ?', [middle?.id]);
    const middleCut = await server.cli(['audit', 'verify', '--tenant', seed.tenantId]);
    expect(middleCut.code).not.toBe(0);
    expect(middleCut.stdout).toContain(next?.id);
  });
});
