// 10,000 verifies: last-used times and sessions are written in a bounded number of batches
// (counted), and are right after the flush; the sessions and stats routes show them.
import { STATS_FLUSH_MS } from '../../src/verification-stats-sharing.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
const FLUSH_MS = 500;

describe.each(DIALECTS)('usage tracking on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const credentials: { id: string; secret: string }[] = [];

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_USAGE_FLUSH_MS: String(FLUSH_MS) } });
    seed = await seedTenant(server);
    for (let i = 0; i < 3; i += 1) {
      const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
        token: seed.bearer,
        body: { name: `device ${i}`, scopes: ['app'], login_id: seed.loginId },
      });
      credentials.push({ id: created.body.id, secret: created.body.secret });
    }
  }, 120_000);
  afterAll(async () => server?.close());

  it('10,000 verifies cost a bounded number of database writes, and sessions and last-used are right after the flush', async () => {
    const usage = server.runtime.services.usage;
    await usage.flush();
    // Rows changed by the server's own connection plus its background worker's (SQLite).
    const changes = async () =>
      dialect === 'sqlite'
        ? Number((await server.sql<{ n: number }>('select total_changes() as n'))[0]?.n) + (server.runtime.handle.sqliteBackground?.()?.rowsChanged ?? 0)
        : Number.NaN;
    const auditBefore = (await server.sql<{ n: number }>('select count(*) as n from audit_events'))[0]?.n;
    const batchesBefore = usage.batchesWritten;
    const statementsBefore = usage.statementsWritten;
    const changesBefore = await changes();
    const started = Date.now();

    const total = 10_000;
    const concurrency = 50;
    let next = 0;
    let allowed = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const credential = credentials[i % 3] as { secret: string };
          const response = await server.app.inject({
            method: 'POST',
            url: '/api/v1/verify',
            headers: { authorization: `Bearer ${seed.verifier}`, 'content-type': 'application/json' },
            payload: {
              username: seed.loginAddress,
              password: credential.secret,
              protocol: 'imap',
              client_ip: IPS[Math.floor(i / 3) % IPS.length],
              user_agent: i % 2 === 0 ? CHROME : IPHONE,
            },
          });
          if (response.statusCode === 200) allowed += 1;
        }
      }),
    );
    const lastVerifyAt = new Date().toISOString();
    await usage.flush();
    const elapsedMs = Date.now() - started;
    expect(allowed).toBe(total);

    const batches = usage.batchesWritten - batchesBefore;
    const statements = usage.statementsWritten - statementsBefore;
    // One flush per interval at most (plus the final one); per flush one UPDATE per credential
    // used, and for the 30 sessions one multi-row upsert (PostgreSQL) or one run of a prepared
    // single-row upsert each (SQLite): bounded by what was used, not by the 10,000 verifies.
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(Math.ceil(elapsedMs / FLUSH_MS) + 2);
    expect(statements).toBeLessThanOrEqual(batches * (3 + (dialect === 'sqlite' ? 30 : 1)));
    if (dialect === 'sqlite') {
      // Rows the server changed: at most 3 credentials + 30 sessions per batch, plus the shared
      // verification stats, every STATS_FLUSH_MS at most: per minute counted (two at most here)
      // one verification_minutes row and one verification_outcomes row per credential used (all
      // valid: no refusal rows).
      const statsRowsPerFlush = 2 * (1 + credentials.length);
      const rowsChanged = (await changes()) - changesBefore;
      expect(rowsChanged).toBeGreaterThan(0);
      expect(rowsChanged).toBeLessThanOrEqual(batches * (3 + 30) + statsRowsPerFlush * (Math.ceil(elapsedMs / STATS_FLUSH_MS) + 1));
    }
    expect((await server.sql<{ n: number }>('select count(*) as n from audit_events'))[0]?.n).toBe(auditBefore);
    console.info(`usage: ${total} verifies in ${elapsedMs} ms -> ${batches} batches, ${statements} write statements`);

    for (const credential of credentials) {
      const got = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${credential.id}`, { token: seed.bearer });
      expect(got.body.last_used_at >= new Date(started).toISOString() && got.body.last_used_at <= lastVerifyAt).toBe(true);
      const sessions = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${credential.id}/sessions`, { token: seed.bearer });
      expect(sessions.status).toBe(200);
      // 5 IPs x 2 user agents, each seen by every credential.
      expect(sessions.body.data).toHaveLength(10);
      const chrome = sessions.body.data.find((s: { ip_address: string; raw_user_agent: string }) => s.ip_address === '10.0.0.1' && s.raw_user_agent === CHROME);
      expect(chrome).toMatchObject({ user_agent_family: 'Chrome', user_agent_major_version: '126', os_family: 'Windows', protocol: 'imap', active: true });
      const iphone = sessions.body.data.find((s: { raw_user_agent: string }) => s.raw_user_agent === IPHONE);
      expect(iphone).toMatchObject({ os_family: 'iOS', device_brand: 'Apple', device_family: 'iPhone', device_type: 'mobile' });
      for (const session of sessions.body.data) {
        expect(session.first_seen_at >= new Date(started).toISOString()).toBe(true);
        expect(session.last_seen_at >= session.first_seen_at && session.last_seen_at <= lastVerifyAt).toBe(true);
      }
    }
    const rows = await server.sql<{ n: number }>('select count(*) as n from credential_sessions');
    expect(Number(rows[0]?.n)).toBe(30);
  }, 180_000);

  it('a public client IP gets its country; the sessions route is tenant-scoped; stats are admin-only', async () => {
    const [first] = credentials as [{ id: string; secret: string }];
    const response = await call(server, 'POST', '/api/v1/verify', {
      token: seed.verifier,
      body: { username: seed.loginAddress, password: first.secret, protocol: 'smtp', client_ip: '8.8.8.8', user_agent: 'Thunderbird' },
    });
    expect(response.status).toBe(200);
    await server.runtime.services.usage.flush();
    const sessions = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${first.id}/sessions`, { token: seed.adminToken });
    expect(sessions.body.data[0]).toMatchObject({ ip_address: '8.8.8.8', country: 'United States', country_iso_code: 'US', protocol: 'smtp' });

    const other = await seedTenant(server, 'Other');
    const foreign = await call(server, 'GET', `/api/v1/tenants/${other.tenantId}/credentials/${first.id}/sessions`, { token: other.bearer });
    expect(foreign.status).toBe(404);
    const crossTenant = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${first.id}/sessions`, { token: other.bearer });
    expect(crossTenant.status).toBe(404);
    expect((await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${first.id}/sessions`)).status).toBe(401);

    const stats = await call(server, 'GET', '/api/v1/stats/verifications?minutes=60', { token: seed.adminToken });
    expect(stats.status).toBe(200);
    expect(stats.body.series).toHaveLength(60);
    const allowed = stats.body.series.reduce((sum: number, m: { allowed: number }) => sum + m.allowed, 0);
    expect(allowed).toBeGreaterThanOrEqual(10_001);
    await call(server, 'POST', '/api/v1/verify', {
      token: seed.verifier,
      body: { username: 'x', password: 'rk_nope', protocol: 'smtp', client_ip: '203.0.113.77' },
    });
    const after = await call(server, 'GET', '/api/v1/stats/verifications?minutes=5', { token: seed.adminToken });
    expect(after.body.top_denied_clients).toContainEqual({ ip: '203.0.113.77', denied: 1 });
    expect((await call(server, 'GET', '/api/v1/stats/verifications', { token: seed.bearer })).status).toBe(403);
    expect((await call(server, 'GET', '/api/v1/stats/verifications?minutes=0', { token: seed.adminToken })).status).toBe(400);
  });

  it('a flush of thousands of new sessions gives the event loop turns instead of holding verifications up', async () => {
    const usage = server.runtime.services.usage;
    await usage.flush();
    const at = new Date().toISOString();
    // 3 credentials x 1,200 client IPs: 3,600 new sessions, many chunks of rows.
    for (let n = 0; n < 1_200; n += 1) {
      for (const credential of credentials) {
        usage.recordLogin({
          credentialId: credential.id,
          tenantId: seed.tenantId,
          clientIp: `10.9.${n >> 8}.${n & 255}`,
          userAgent: CHROME,
          protocol: 'smtp',
          at,
        });
      }
    }
    let finished = false;
    const flushing = usage.flush().then(() => {
      finished = true;
    });
    // A timer due now runs at the event loop's next turn: before the flush ends only if the
    // flush yields between chunks (on SQLite every statement is synchronous).
    const timerRanBeforeTheFlushEnded = await new Promise<boolean>((resolve) => setTimeout(() => resolve(!finished), 0));
    const verifiedDuringFlush = await server.app.inject({
      method: 'POST',
      url: '/api/v1/verify',
      headers: { authorization: `Bearer ${seed.verifier}`, 'content-type': 'application/json' },
      payload: { username: seed.loginAddress, password: (credentials[0] as { secret: string }).secret, protocol: 'smtp' },
    });
    const answeredBeforeTheFlushEnded = !finished;
    await flushing;
    expect(timerRanBeforeTheFlushEnded).toBe(true);
    expect(verifiedDuringFlush.statusCode).toBe(200);
    expect(answeredBeforeTheFlushEnded).toBe(true);
    const stored = await server.sql<{ n: number }>("select count(*) as n from credential_sessions where ip_address like '10.9.%'");
    expect(Number(stored[0]?.n)).toBe(3_600);
  });

  it('session ids are time-ordered UUIDs (version 7): sessions of a later flush sort after those of an earlier one', async () => {
    const usage = server.runtime.services.usage;
    const record = (ip: string) =>
      usage.recordLogin({
        credentialId: (credentials[0] as { id: string }).id,
        tenantId: seed.tenantId,
        clientIp: ip,
        userAgent: CHROME,
        protocol: 'smtp',
        at: new Date().toISOString(),
      });
    record('10.8.0.1');
    await usage.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    record('10.8.0.2');
    await usage.flush();
    const rows = await server.sql<{ id: string; ip_address: string }>("select id, ip_address from credential_sessions where ip_address like '10.8.0.%'");
    const first = rows.find((row) => row.ip_address === '10.8.0.1')?.id as string;
    const second = rows.find((row) => row.ip_address === '10.8.0.2')?.id as string;
    for (const id of [first, second]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first < second).toBe(true);
  });

  it.runIf(dialect === 'sqlite')('on SQLite, a flush is written by the background worker, not on the event loop by the server connection', async () => {
    const usage = server.runtime.services.usage;
    await usage.flush();
    const background = server.runtime.handle.sqliteBackground?.();
    expect(background?.writable).toBe(true);
    const mainChanges = async () => Number((await server.sql<{ n: number }>('select total_changes() as n'))[0]?.n);
    const mainBefore = await mainChanges();
    const workerBefore = background?.rowsChanged ?? 0;
    const at = new Date().toISOString();
    for (let n = 0; n < 300; n += 1) {
      usage.recordLogin({
        credentialId: (credentials[n % 3] as { id: string }).id,
        tenantId: seed.tenantId,
        clientIp: `10.6.1.${n}`,
        userAgent: 'agent',
        protocol: 'pop3',
        at,
      });
    }
    await usage.flush();
    // 300 new sessions and the 3 credentials' last-used times.
    expect((background?.rowsChanged ?? 0) - workerBefore).toBe(303);
    expect((await mainChanges()) - mainBefore).toBe(0);
    const stored = await server.sql<{ n: number }>("select count(*) as n from credential_sessions where ip_address like '10.6.1.%' and protocol = 'pop3'");
    expect(Number(stored[0]?.n)).toBe(300);
    const lastUsed = await server.sql<{ last_used_at: string }>('select last_used_at from credentials where id = ?', [(credentials[0] as { id: string }).id]);
    expect(lastUsed[0]?.last_used_at).toBe(at);
  });

  it.runIf(dialect === 'sqlite')('on SQLite, commits leave WAL checkpoints to a worker thread (auto-checkpoint off on the writer)', async () => {
    const handle = server.runtime.handle;
    const checkpointer = handle.startSqliteBackground?.(() => {});
    expect(checkpointer).toBeTruthy();
    const [setting] = await server.sql<{ wal_autocheckpoint: number }>('pragma wal_autocheckpoint');
    expect(Number(setting?.wal_autocheckpoint)).toBe(0);
    const before = checkpointer?.framesCheckpointed ?? 0;
    // Enough new sessions to write a few hundred WAL frames.
    const usage = server.runtime.services.usage;
    for (let n = 0; n < 2_000; n += 1) {
      usage.recordLogin({
        credentialId: (credentials[n % 3] as { id: string }).id,
        tenantId: seed.tenantId,
        clientIp: `10.7.${n >> 8}.${n & 255}`,
        userAgent: `agent ${n}`,
        protocol: 'imap',
        at: new Date().toISOString(),
      });
    }
    await usage.flush();
    const deadline = Date.now() + 10_000;
    while ((checkpointer?.framesCheckpointed ?? 0) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(checkpointer?.framesCheckpointed ?? 0).toBeGreaterThan(before);
    const stored = await server.sql<{ n: number }>("select count(*) as n from credential_sessions where ip_address like '10.7.%'");
    expect(Number(stored[0]?.n)).toBe(2_000);
  });
});
