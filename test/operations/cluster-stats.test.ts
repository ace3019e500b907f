// The console's verification stats come from every node on the database, not only the node
// that answers the stats request.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

describe.each(DIALECTS)('verification stats across nodes on %s', (dialect) => {
  let first: TestServer;
  let second: RunningServer;
  let seed: SeededTenant;
  let secret: string;

  beforeAll(async () => {
    first = await startTestServer(dialect);
    second = await startServer(loadConfig(first.env), { logger: createLogger({ level: 'silent' }) });
    seed = await seedTenant(first);
    const created = await call(first, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'stats', scopes: ['imap'], login_id: seed.loginId },
    });
    secret = created.body.secret;
  });
  afterAll(async () => {
    await second?.stop();
    await first?.close();
  });

  it('sums what every node counted', async () => {
    for (let i = 0; i < 3; i += 1)
      expect((await verify(first, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'imap' })).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      expect(
        (await verify(second, seed.verifier, { username: seed.loginAddress, password: 'wrong', protocol: 'imap', client_ip: '198.51.100.23' })).status,
      ).toBe(401);
    }
    // The first node has not counted the second node's denials itself.
    expect(first.runtime.services.stats.series(5).series.reduce((n, m) => n + m.denied, 0)).toBe(0);
    // The second node shares its counts (its timer, or here its flush before a read of its own).
    await second.runtime.services.sharedStats?.flush();
    const stats = await call(first, 'GET', '/api/v1/stats/verifications?minutes=5', { token: seed.adminToken });
    expect(stats.status).toBe(200);
    const totals = (stats.body.series as { allowed: number; denied: number }[]).reduce(
      (t, m) => ({ allowed: t.allowed + m.allowed, denied: t.denied + m.denied }),
      {
        allowed: 0,
        denied: 0,
      },
    );
    expect(totals).toEqual({ allowed: 3, denied: 2 });
    expect(stats.body.top_denied_clients).toEqual([{ ip: '198.51.100.23', denied: 2 }]);
    // Asking again counts nothing twice.
    const again = await call(second, 'GET', '/api/v1/stats/verifications?minutes=5', { token: seed.adminToken });
    expect((again.body.series as { allowed: number }[]).reduce((n, m) => n + m.allowed, 0)).toBe(3);
  });

  it('a database that already ran later-named migrations still gets 008b (migrations may land out of name order)', async () => {
    await first.sql('drop table verification_denied_clients');
    await first.sql('drop table verification_minutes');
    await first.sql(`delete from kysely_migration where name = '008b-verification-stats'`);
    const run = await first.cli(['keys', 'status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(await first.sql('select * from verification_minutes')).toEqual([]);
  });
});
