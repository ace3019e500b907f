// Quotas per credential and per tenant default, counted in fixed UTC windows shared by every
// node (the database, or Redis), answered through the real policy listeners of two servers on
// one database.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { policyListenerPort } from '../../src/protocol/postfix/extension.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { connectPolicy, type PolicyConnection, rcptRequest } from '../helpers/policy-client.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const STORES = [
  ['database', {}],
  // A generous command timeout: a loaded test machine must not make Redis fall back mid-test.
  ['redis', { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379', RELAYKEY_REDIS_TIMEOUT_MS: '2000' }],
] as const;
const cases = DIALECTS.flatMap((dialect) => STORES.map(([store, env]) => [dialect, store, env] as const));

describe.each(cases)('sending quotas on %s with %s counters', (dialect, store, storeEnv) => {
  // Mid-hour, so that a few seconds of test never cross a window boundary.
  const clock = new ManualClock(new Date(Math.floor(Date.now() / HOUR) * HOUR + 30 * 60_000));
  let server: TestServer;
  let second: RunningServer;
  let acme: SeededTenant;
  let one: PolicyConnection;
  let two: PolicyConnection;
  let domain: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { ...storeEnv, RELAYKEY_POLICY_PORT: '0' } });
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    second = await startServer(loadConfig({ ...server.env, RELAYKEY_POLICY_PORT: '0' }), {
      logger: createLogger({ level: 'info', destination: quiet }),
      clock,
    });
    acme = await seedTenant(server, 'Quota');
    domain = acme.loginAddress.split('@')[1] as string;
    one = await connectPolicy(policyListenerPort(server.runtime) as number);
    two = await connectPolicy(policyListenerPort(second.runtime) as number);
  }, 120_000);
  afterAll(async () => {
    one?.close();
    two?.close();
    await second?.stop();
    await server?.close();
  });

  const credential = async (body: Record<string, unknown>) => {
    const created = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'q', scopes: ['smtp'], ...body },
    });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; sending_limits: Record<string, number | null> | null };
  };
  const identity = (id: string) => `${id}@${acme.tenantId}.relaykey.invalid`;
  const message = async (c: PolicyConnection, id: string, recipients = 1) => {
    const instance = Math.random().toString(16).slice(2);
    const answers: string[] = [];
    for (let i = 0; i < recipients; i += 1) {
      answers.push(await c.ask(rcptRequest(identity(id), `news@${domain}`, `r${i}@elsewhere.test`, { instance })));
    }
    return answers;
  };

  it('messages per hour: the next message is 4.7.1 on either node, and goes again in the next hour', async () => {
    const limited = await credential({ sending_limits: { messages_per_hour: 3 } });
    expect(limited.sending_limits).toEqual({ messages_per_hour: 3, messages_per_day: null, recipients_per_message: null, recipients_per_day: null });
    expect(await message(one, limited.id)).toEqual(['DUNNO']);
    // Several recipients of one message count once.
    expect(await message(two, limited.id, 3)).toEqual(['DUNNO', 'DUNNO', 'DUNNO']);
    expect(await message(one, limited.id)).toEqual(['DUNNO']);
    expect(await message(two, limited.id)).toEqual(['DEFER_IF_PERMIT 4.7.1 hourly quota of 3 messages reached']);
    expect(await message(one, limited.id)).toEqual(['DEFER_IF_PERMIT 4.7.1 hourly quota of 3 messages reached']);
    // Another credential of the tenant is not affected.
    const other = await credential({});
    expect(await message(one, other.id)).toEqual(['DUNNO']);
    clock.advance(HOUR);
    expect(await message(two, limited.id)).toEqual(['DUNNO']);
    clock.advance(-HOUR);
    // The counters were where they should be: Redis (without falling back), or the database.
    const counters = server.runtime.services.sendingPolicy.counters as { backend: string; fallbacks?: number };
    if (store === 'redis') {
      expect(counters).toMatchObject({ backend: 'redis', fallbacks: 0 });
      expect(await server.sql('SELECT * FROM sending_counters')).toHaveLength(0);
    } else {
      const rows = await server.sql<{ subject: string; window: string; messages: number }>(
        'SELECT subject, "window", messages FROM sending_counters WHERE subject = ?',
        [`credential:${limited.id}`],
      );
      expect(rows.filter((r) => r.window === 'day').map((r) => Number(r.messages))).toEqual([4]);
    }
  });

  it('recipients per message and per day; the tenant default applies to credentials without their own', async () => {
    const patched = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.adminToken,
      body: { settings: { sending_limits: { recipients_per_message: 2, recipients_per_day: 5 } } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.settings.sending_limits).toMatchObject({ recipients_per_message: 2, recipients_per_day: 5 });
    server.runtime.services.sendingPolicy.forget();
    second.runtime.services.sendingPolicy.forget();
    const plain = await credential({});
    expect(await message(one, plain.id, 3)).toEqual(['DUNNO', 'DUNNO', 'DEFER_IF_PERMIT 4.7.1 at most 2 recipients per message']);
    expect(await message(two, plain.id, 2)).toEqual(['DUNNO', 'DUNNO']);
    expect(await message(one, plain.id, 2)).toEqual(['DUNNO', 'DEFER_IF_PERMIT 4.7.1 daily quota of 5 recipients reached']);
    // A credential's own limit overrides the tenant's.
    const own = await credential({ sending_limits: { recipients_per_message: 10, recipients_per_day: 100 } });
    expect(await message(two, own.id, 4)).toEqual(['DUNNO', 'DUNNO', 'DUNNO', 'DUNNO']);
    await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, { token: acme.adminToken, body: { settings: { sending_limits: {} } } });
  });

  it('usage per credential (current hour and day, rejects and defers) and decisions in /metrics', async () => {
    const limited = await credential({ sending_limits: { messages_per_hour: 1 } });
    expect(await message(one, limited.id, 2)).toEqual(['DUNNO', 'DUNNO']);
    expect(await message(two, limited.id)).toEqual(['DEFER_IF_PERMIT 4.7.1 hourly quota of 1 messages reached']);
    expect((await one.ask(rcptRequest(identity(limited.id), 'x@elsewhere.test'))).startsWith('REJECT 5.7.1')).toBe(true);
    const usage = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/credentials/${limited.id}/usage`, { token: acme.bearer });
    expect(usage.status, usage.text).toBe(200);
    expect(usage.body).toMatchObject({
      credential_id: limited.id,
      counted_for: 'credential',
      limits: { messages_per_hour: 1 },
      hour: { messages: 1, recipients: 2, rejected: 1, deferred: 1 },
      day: { messages: 1, recipients: 2, rejected: 1, deferred: 1 },
    });
    expect(usage.body.hour.window_start).toBe(new Date(Math.floor(clock.now().getTime() / HOUR) * HOUR).toISOString());
    // Another tenant's token sees nothing of it.
    const foreign = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/credentials/${limited.id}/usage`, {
      token: (await seedTenant(server, 'Other')).bearer,
    });
    expect(foreign.status).toBe(404);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/relaykey_sending_policy_decisions_total\{verdict="defer"\} [1-9]/);
    expect(metrics).toMatch(/relaykey_sending_policy_decisions_total\{verdict="reject"\} [1-9]/);
    expect(metrics).not.toContain('@elsewhere.test');
  });
});
