// Seed 003 account API keys fall under the 90-day inactivity rule like every credential: a key
// unused for 91 days is revoked by the inactivity job (is_active false on GET, Key + Secret login
// refused), while a key used within the period keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, ManualClock, MINUTE } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const BASE = '/api/v1/account/api_key';

describe.each(DIALECTS)('seed 003 keys and the inactivity job on %s', (dialect) => {
  const start = new Date('2026-03-01T00:00:00.000Z');
  const clock = new ManualClock(start);
  const at = (days: number) => clock.set(new Date(start.getTime() + days * DAY + MINUTE));
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'Idle');
  });
  afterAll(async () => server?.close());

  const createKey = async (name: string) => {
    const created = await call(server, 'POST', BASE, { token: seed.bearer, body: { role: 'standard', name } });
    expect(created.status, created.text).toBe(201);
    return created.body as { ID: string; Key: string; Secret: string };
  };
  const login = (key: { Key: string; Secret: string }) =>
    verify(server, seed.verifier, { username: key.Key, password: key.Secret, protocol: 'imap', client_ip: '8.8.8.8' });
  const record = async (id: string) => (await call(server, 'GET', `${BASE}/${id}`, { token: seed.bearer })).body;

  it('revokes a key unused for 91 days; its Key + Secret login fails; a used key stays', async () => {
    const idle = await createKey('Idle key');
    const busy = await createKey('Busy key');
    expect((await login(idle)).status).toBe(200);
    expect((await login(busy)).status).toBe(200);
    await server.runtime.services.usage.flush();

    at(30);
    expect((await login(busy)).status).toBe(200);
    await server.runtime.services.usage.flush();

    // 90 days after the idle key's last use nothing is due yet (only the warning).
    at(89);
    const early = await server.runtime.scheduler.run('inactivity-revocation');
    expect(early.outcome, early.error ?? '').toBe('ok');
    expect((await record(idle.ID)).is_active).toBe(true);

    at(91);
    const run = await server.runtime.scheduler.run('inactivity-revocation');
    expect(run.outcome, run.error ?? '').toBe('ok');
    expect(run.items).toBeGreaterThanOrEqual(1);

    const revoked = await record(idle.ID);
    expect(revoked.is_active).toBe(false);
    expect(revoked.modified_at_utc).toBe(Math.floor(clock.now().getTime() / 1000));
    expect((await login(idle)).status).toBe(401);
    const listed = (await call(server, 'GET', BASE, { token: seed.bearer })).body as Array<{ id: string; is_active: boolean }>;
    expect(listed.find((k) => k.id === idle.ID)?.is_active).toBe(false);
    const [row] = await server.sql<{ status: string; revoked_reason: string }>('SELECT status, revoked_reason FROM credentials WHERE id = ?', [idle.ID]);
    expect(row).toEqual({ status: 'revoked', revoked_reason: 'inactivity' });

    expect((await record(busy.ID)).is_active).toBe(true);
    expect((await login(busy)).status).toBe(200);

    // Exactly once: a second run finds nothing more to revoke for this key.
    await server.runtime.scheduler.run('inactivity-revocation');
    const audits = await server.sql<{ n: number | string }>(`SELECT COUNT(*) AS n FROM audit_events WHERE event = 'credential.revoked' AND target_id = ?`, [
      idle.ID,
    ]);
    expect(Number(audits[0]?.n)).toBe(1);
  });
});
