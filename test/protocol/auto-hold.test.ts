// Auto-hold on abuse (issue 25 point 4), per tenant and off by default, through the real policy
// listeners of two servers on one database: a burst past a multiple of the quota, split between
// the nodes, holds the seed 001 credential once (one audit event with reason abuse_suspected,
// one signed credential.locked webhook, hold:true in seed 001's list, its next login refused);
// so does sending from more new countries within an hour than allowed.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { policyListenerPort } from '../../src/protocol/postfix/extension.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { connectPolicy, type PolicyConnection, rcptRequest } from '../helpers/policy-client.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Addresses of known countries in geoip-country's data (checked in the country test).
const GB = '81.2.69.142';
const US = '8.8.8.8';
const DE = '5.9.0.1';
const FR = '193.51.0.1';

describe.each(DIALECTS)('auto-hold on abuse on %s', (dialect) => {
  const clock = new ManualClock(new Date(Math.floor(Date.now() / HOUR) * HOUR + 30 * 60_000));
  const receiver = new WebhookReceiver();
  let server: TestServer;
  let second: RunningServer;
  let acme: SeededTenant;
  let domain: string;
  let nodes: PolicyConnection[] = [];

  beforeAll(async () => {
    const env = { RELAYKEY_POLICY_PORT: '0', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' };
    server = await startTestServer(dialect, { clock, env });
    second = await startServer(loadConfig({ ...server.env, ...env }), {
      logger: createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      clock,
    });
    acme = await seedTenant(server, 'Hold');
    domain = acme.loginAddress.split('@')[1] as string;
    await receiver.start();
    const hook = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/webhooks`, { token: acme.bearer, body: { url: receiver.url } });
    expect(hook.status, hook.text).toBe(201);
    receiver.secret = hook.body.secret;
  }, 120_000);
  afterAll(async () => {
    for (const c of nodes) c.close();
    await second?.stop();
    await server?.close();
    await receiver.stop();
  });

  const forget = () => {
    server.runtime.services.sendingPolicy.forget();
    second.runtime.services.sendingPolicy.forget();
  };
  const setAutoHold = async (autoHold: Record<string, unknown>) => {
    const patched = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, { token: acme.adminToken, body: { settings: { auto_hold: autoHold } } });
    expect(patched.status, patched.text).toBe(200);
    forget();
    return patched.body.settings.auto_hold;
  };
  const seed001Credential = async (name: string) => {
    const created = await call(server, 'POST', '/api/v1/credentials/create', { body: { name }, headers: { 'X-Server-API-Key': acme.server } });
    expect(created.status, created.text).toBe(200);
    return created.body.data as { uuid: string; key: string };
  };
  const identity = (id: string) => `${id}@${acme.tenantId}.relaykey.invalid`;
  const heldEvents = async (id: string) => {
    const events = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/audit-events?event=credential.held&per_page=200`, { token: acme.bearer });
    return (events.body.data as { target: { id: string } | null; details: Record<string, unknown>; actor: Record<string, unknown> }[]).filter(
      (e) => e.target?.id === id,
    );
  };
  const seed001Hold = async (id: string) => {
    const list = await call(server, 'POST', '/api/v1/credentials/list', { headers: { 'X-Server-API-Key': acme.server }, body: {} });
    return (list.body.data as { uuid: string; hold: boolean }[]).find((c) => c.uuid === id)?.hold;
  };

  it('the setting: off by default, shown with its defaults; admins set it; bad values are 400', async () => {
    const tenant = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}`, { token: acme.bearer });
    expect(tenant.body.settings.auto_hold).toEqual({ enabled: false, quota_multiple: 3, max_new_countries_per_hour: null });
    for (const bad of [{ enabled: 'yes' }, { enabled: true, quota_multiple: 0.5 }, { enabled: true, max_new_countries_per_hour: 0 }, { quota_multiple: 2 }]) {
      const r = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, { token: acme.adminToken, body: { settings: { auto_hold: bad } } });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.text).toContain('auto_hold');
    }
    const byTenant = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.bearer,
      body: { settings: { auto_hold: { enabled: true } } },
    });
    expect(byTenant.status).toBe(403);
  });

  it('off: a client far past its quota is deferred, never held', async () => {
    nodes = [await connectPolicy(policyListenerPort(server.runtime) as number), await connectPolicy(policyListenerPort(second.runtime) as number)];
    const key = await seed001Credential('off');
    const limited = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}/credentials/${key.uuid}`, {
      token: acme.bearer,
      body: { sending_limits: { messages_per_hour: 1 } },
    });
    expect(limited.status, limited.text).toBe(200);
    const answers: string[] = [];
    for (let i = 0; i < 8; i += 1) answers.push(await (nodes[i % 2] as PolicyConnection).ask(rcptRequest(identity(key.uuid), `news@${domain}`)));
    expect(answers[0]).toBe('DUNNO');
    expect(answers.slice(1).every((a) => a.startsWith('DEFER_IF_PERMIT 4.7.1 hourly quota'))).toBe(true);
    expect(await seed001Hold(key.uuid)).toBe(false);
    expect(await heldEvents(key.uuid)).toEqual([]);
  });

  it('on: a burst past the multiple of its hourly quota, on two nodes at once, holds it once: audit, one signed credential.locked, hold:true, no more logins', async () => {
    expect(await setAutoHold({ enabled: true, quota_multiple: 2 })).toEqual({ enabled: true, quota_multiple: 2, max_new_countries_per_hour: null });
    const key = await seed001Credential('burst');
    await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}/credentials/${key.uuid}`, {
      token: acme.bearer,
      body: { sending_limits: { messages_per_hour: 2 } },
    });
    const before = await verify(server, acme.verifier, { username: 'any', password: key.key, protocol: 'smtp', client_ip: '198.51.100.7' });
    expect(before.body.valid).toBe(true);
    await server.runtime.scheduler.run('webhook-delivery');
    const from = receiver.received.length;

    // Ten messages at once, over ten connections to the two nodes.
    const connections = await Promise.all(
      Array.from({ length: 10 }, (_, i) => connectPolicy(policyListenerPort(i % 2 === 0 ? server.runtime : second.runtime) as number)),
    );
    const answers = await Promise.all(connections.map((c) => c.ask(rcptRequest(identity(key.uuid), `news@${domain}`))));
    for (const c of connections) c.close();
    expect(answers.filter((a) => a === 'DUNNO')).toHaveLength(2);
    expect(answers).toContain('DEFER_IF_PERMIT 4.7.1 sending held: abuse suspected');

    // Held once, by whichever node crossed first.
    expect(await seed001Hold(key.uuid)).toBe(true);
    const events = await heldEvents(key.uuid);
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toMatchObject({ reason: 'abuse_suspected', trigger: 'quota_multiple', quota: 'messages_per_hour', limit: 2, multiple: 2 });
    expect(events[0]?.actor).toMatchObject({ type: 'system', id: 'sending-policy' });
    expect(server.runtime.services.sendingPolicy.stats.autoHolds + second.runtime.services.sendingPolicy.stats.autoHolds).toBe(1);
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/relaykey_sending_auto_holds_total \d/);

    // Both nodes run delivery: still one webhook, signed.
    await server.runtime.scheduler.run('webhook-delivery');
    await second.runtime.scheduler.run('webhook-delivery');
    const locked = receiver.received.slice(from).filter((d) => d.payload?.type === 'credential.locked' && d.payload.data.credential_id === key.uuid);
    expect(locked).toHaveLength(1);
    expect(locked[0]?.verified).toBe(true);
    expect(locked[0]?.payload?.data).toMatchObject({ tenant_id: acme.tenantId, reason: 'abuse_suspected', trigger: 'quota_multiple' });
    expect(locked[0]?.body).not.toContain(key.key);

    // Refused from now on, by the policy and at login. On PostgreSQL both nodes at once (the
    // change feed); two SQLite nodes have no feed (multi-node deployments share PostgreSQL):
    // there the node that held at once, the other within its cache times (5 s policy, 30 s verify).
    const holder = server.runtime.services.sendingPolicy.stats.autoHolds === 1 ? { url: server.url } : { url: second.url };
    const checked = dialect === 'postgres' ? [{ url: server.url }, { url: second.url }] : [holder];
    if (dialect === 'sqlite') forget();
    else await new Promise((r) => setTimeout(r, 500));
    for (const node of nodes) expect(await node.ask(rcptRequest(identity(key.uuid), `news@${domain}`))).toMatch(/^REJECT 5\.7\.1 /);
    for (const node of checked) {
      const after = await verify(node, acme.verifier, { username: 'any', password: key.key, protocol: 'smtp', client_ip: '198.51.100.7' });
      expect(after.body.valid, node.url).toBe(false);
    }
  });

  it('on: more new countries within an hour than allowed holds it; a country known from before the hour is not new', async () => {
    const { countryCodeOf } = await import('../../src/domain/country-lookup.js');
    expect([GB, US, DE, FR].map(countryCodeOf)).toEqual(['GB', 'US', 'DE', 'FR']);
    await setAutoHold({ enabled: true, max_new_countries_per_hour: 2 });
    const [one] = nodes as [PolicyConnection];
    const ask = (id: string, ip: string) => one.ask(rcptRequest(identity(id), `news@${domain}`, 'r@elsewhere.test', { client_address: ip }));

    const roaming = await seed001Credential('roaming');
    expect(await ask(roaming.uuid, GB)).toBe('DUNNO');
    expect(await ask(roaming.uuid, US)).toBe('DUNNO');
    expect(await ask(roaming.uuid, GB)).toBe('DUNNO');
    expect(await ask(roaming.uuid, '127.0.0.1')).toBe('DUNNO'); // no country: tells nothing
    expect(await ask(roaming.uuid, DE)).toBe('DEFER_IF_PERMIT 4.7.1 sending held: abuse suspected');
    expect(await seed001Hold(roaming.uuid)).toBe(true);
    expect((await heldEvents(roaming.uuid))[0]?.details).toMatchObject({ reason: 'abuse_suspected', trigger: 'new_countries', new_countries: 3, allowed: 2 });

    // Seen in GB (a login recorded as a session) two hours ago: GB is known, not new.
    const settled = await seed001Credential('settled');
    const login = await verify(server, acme.verifier, { username: 'any', password: settled.key, protocol: 'smtp', client_ip: GB });
    expect(login.body.valid).toBe(true);
    await server.runtime.services.usage.flush();
    clock.advance(2 * HOUR);
    expect(await ask(settled.uuid, GB)).toBe('DUNNO');
    expect(await ask(settled.uuid, US)).toBe('DUNNO');
    expect(await ask(settled.uuid, DE)).toBe('DUNNO');
    expect(await seed001Hold(settled.uuid)).toBe(false);
    expect(await ask(settled.uuid, FR)).toBe('DEFER_IF_PERMIT 4.7.1 sending held: abuse suspected');
    expect(await seed001Hold(settled.uuid)).toBe(true);
  });
});
