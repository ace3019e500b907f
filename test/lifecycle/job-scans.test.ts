// The lifecycle jobs read big tables in short pieces, because SQLite runs every query on the
// event loop: the expiry walk goes through its partial index, and each job gives the same result
// with chunks of two rows as with its defaults, giving the event loop turns in between.
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, HOUR, ManualClock, MINUTE } from '../../src/clock.js';
import { CLI_ACTOR } from '../../src/domain/types.js';
import { recordExpiredCredentials } from '../../src/jobs/credential-expiry.js';
import { revokeInactiveCredentials } from '../../src/jobs/inactivity-revocation.js';
import { pruneSessions } from '../../src/jobs/session-pruning.js';
import { expiredKeysQuery } from '../../src/storage/repositories/job-scans.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

/** Runs `work` and counts the turns the event loop took meanwhile (setImmediate callbacks). */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
}

describe.each(DIALECTS)('lifecycle job scans on %s', (dialect) => {
  const start = new Date('2026-03-01T00:00:00.000Z');
  const clock = new ManualClock(start);
  let server: TestServer;
  let a: SeededTenant;
  let b: SeededTenant;
  const create = async (tenant: SeededTenant, input: { expiresAt?: string } = {}) =>
    (await server.runtime.services.credentials.create({ tenantId: tenant.tenantId, name: 'scan', scopes: ['smtp'], ...input }, CLI_ACTOR)).credential;
  const events = async (event: string) =>
    (await server.sql<{ target_id: string }>('SELECT target_id FROM audit_events WHERE event = ? ORDER BY seq', [event])).map((r) => r.target_id);
  const statusOf = async (id: string) => (await server.sql<{ status: string }>('SELECT status FROM credentials WHERE id = ?', [id]))[0]?.status;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    a = await seedTenant(server, 'Scan');
    b = await seedTenant(server, 'Idle');
    // Tenant B's keys are due after 10 days; everything else keeps the 90-day default.
    const settings = await call(server, 'PATCH', `/api/v1/tenants/${b.tenantId}`, { token: b.adminToken, body: { settings: { inactivity_days: 10 } } });
    expect(settings.status, settings.text).toBe(200);
  });
  afterAll(async () => server?.close());

  it('warns and revokes idle keys spread over many num_id ranges, yielding between ranges', async () => {
    const idle: string[] = [];
    for (let i = 0; i < 7; i++) {
      idle.push((await create(b)).id);
      await create(a); // interleaved: every range holds keys that are not due
    }

    clock.set(new Date(start.getTime() + 4 * DAY));
    const warned = await turnsDuring(() => revokeInactiveCredentials(server.runtime, { rangeWidth: 2 }));
    expect(warned.result).toBe(7);
    expect((await events('credential.inactivity_warning')).sort()).toEqual([...idle].sort());
    const nothingDue = await turnsDuring(() => revokeInactiveCredentials(server.runtime, { rangeWidth: 2 }));
    expect(nothingDue.result).toBe(0);

    clock.set(new Date(start.getTime() + 10 * DAY + MINUTE));
    const revoked = await turnsDuring(() => revokeInactiveCredentials(server.runtime, { rangeWidth: 2 }));
    expect(revoked.result).toBe(7);
    for (const id of idle) expect(await statusOf(id)).toBe('revoked');
    expect(await revokeInactiveCredentials(server.runtime)).toBe(0);
    if (dialect === 'sqlite') {
      // Every query is synchronous there: the loop turns only where the job yields, between
      // ranges (at least 14 keys, 2 a range) and after each key's transaction.
      expect(nothingDue.turns).toBeGreaterThanOrEqual(6);
      expect(warned.turns).toBeGreaterThanOrEqual(6 + 7);
      expect(revoked.turns).toBeGreaterThanOrEqual(6 + 7);
    }
  });

  it('finds expired keys through credentials_expiry_idx', async () => {
    const query = expiredKeysQuery(server.runtime.handle.db, clock.now().toISOString(), { expiresAt: start.toISOString(), id: '' }, 10).compile();
    if (dialect === 'sqlite') {
      const plan = await server.sql<{ detail: string }>(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]);
      // Seeks by the (expires_at, id) cursor, not only scans the index.
      expect(plan.map((row) => row.detail).join('\n')).toMatch(/USING (COVERING )?INDEX credentials_expiry_idx \(\(expires_at,id\)>\(\?,\?\)/);
    } else {
      // A handful of rows is cheaper to scan: forbid that, to see whether the index applies at all.
      const plan = await server.runtime.handle.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        return (await trx.executeQuery(CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]))).rows as Array<{ 'QUERY PLAN': string }>;
      });
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/credentials_expiry_idx/);
    }
  });

  it('announces each expiry once, walking past announced keys a chunk at a time', async () => {
    const now = clock.now().getTime();
    const inOneHour = new Date(now + HOUR).toISOString();
    // Three keys share an expiry, so the (expires_at, id) cursor has ties to step over.
    const expiring: string[] = [];
    for (const expiresAt of [inOneHour, inOneHour, inOneHour, new Date(now + HOUR + MINUTE).toISOString(), new Date(now + HOUR + MINUTE).toISOString()]) {
      expiring.push((await create(a, { expiresAt })).id);
    }
    const later = (await create(a, { expiresAt: new Date(now + 4 * HOUR).toISOString() })).id;

    clock.set(new Date(now + 2 * HOUR));
    expect(await recordExpiredCredentials(server.runtime, { chunkRows: 2 })).toBe(5);
    expect((await events('credential.expired')).sort()).toEqual([...expiring].sort());
    const nothingDue = await turnsDuring(() => recordExpiredCredentials(server.runtime, { chunkRows: 2 }));
    expect(nothingDue.result).toBe(0);

    // The one left expires behind five announced keys: three chunks of two to reach it.
    clock.set(new Date(now + 5 * HOUR));
    const run = await turnsDuring(() => recordExpiredCredentials(server.runtime, { chunkRows: 2 }));
    expect(run.result).toBe(1);
    expect((await events('credential.expired')).filter((id) => id === later)).toHaveLength(1);
    expect(await recordExpiredCredentials(server.runtime)).toBe(0);
    if (dialect === 'sqlite') {
      expect(nothingDue.turns).toBeGreaterThanOrEqual(2); // after the first two full chunks
      expect(run.turns).toBeGreaterThanOrEqual(3 + 1);
    }
  });

  it('prunes sessions spread over many rowid ranges, a session per write', async () => {
    await server.runtime.services.usage.flush();
    await server.sql('DELETE FROM credential_sessions');
    const live = (await create(a)).id;
    const revokedKey = (await create(a)).id;
    await server.sql("UPDATE credentials SET status = 'revoked', revoked_at = ? WHERE id = ?", [clock.now().toISOString(), revokedKey]);
    const now = clock.now().getTime();
    const session = async (credentialId: string, lastSeenDaysAgo: number, active = 1) => {
      const id = randomUUID();
      const seen = new Date(now - lastSeenDaysAgo * DAY).toISOString();
      await server.sql(
        `INSERT INTO credential_sessions (id, credential_id, tenant_id, ip_address, raw_user_agent, user_agent_family, user_agent_version,
          user_agent_major_version, os_family, os_version, device_family, device_brand, device_type, country, country_iso_code, protocol,
          is_active, created_at, modified_at, last_seen_at) VALUES (?, ?, ?, ?, ?, '', '', '', '', '', '', '', '', '', '', 'smtp', ?, ?, ?, ?)`,
        [id, credentialId, a.tenantId, '203.0.113.7', `ua-${id}`, active, seen, seen, seen],
      );
      return id;
    };
    const expected = new Map<string, number | 'deleted'>();
    for (let i = 0; i < 3; i++) {
      expected.set(await session(live, 0), 1);
      expected.set(await session(live, 10), 0);
      expected.set(await session(live, 40), 'deleted');
      expected.set(await session(revokedKey, 0), 0);
      expected.set(await session(live, 40, 0), 'deleted');
    }

    const run = await turnsDuring(() => pruneSessions(server.runtime, { rangeWidth: 2, writeBatch: 1 }));
    expect(run.result).toBe(12);
    const rows = await server.sql<{ id: string; is_active: number }>('SELECT id, is_active FROM credential_sessions');
    const actual = new Map<string, number | 'deleted'>([...expected.keys()].map((id) => [id, 'deleted']));
    for (const row of rows) actual.set(row.id, Number(row.is_active));
    expect(actual).toEqual(expected);
    const nothingDue = await turnsDuring(() => pruneSessions(server.runtime, { rangeWidth: 2, writeBatch: 1 }));
    expect(nothingDue.result).toBe(0);
    if (dialect === 'sqlite') {
      expect(nothingDue.turns).toBeGreaterThanOrEqual(7 - 1); // 15 sessions were written, 9 remain
      expect(run.turns).toBeGreaterThanOrEqual(12); // a turn before each write
    }
  });
});
