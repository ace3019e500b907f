// Webhook order: per endpoint, the events of one credential arrive in order even when an earlier
// one has to be retried, other credentials are not held back, and every payload carries the
// tenant-wide `sequence` a receiver can order by.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

describe.each(DIALECTS)('webhook order on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock(new Date());
  const receiver = new WebhookReceiver();

  const runJob = () => server.runtime.scheduler.run('webhook-delivery');
  const base = () => `/api/v1/tenants/${seed.tenantId}/credentials`;
  const create = async (name: string) => (await call(server, 'POST', base(), { token: seed.bearer, body: { name, scopes: ['smtp'] } })).body as { id: string };
  const about = (id: string) => receiver.accepted.filter((r) => r.payload?.data.credential_id === id);

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    seed = await seedTenant(server);
    await receiver.start();
    const endpoint = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url: receiver.url } });
    receiver.secret = endpoint.body.secret;
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  it('holds back a credential’s later events while an earlier one is retried, and only that credential’s', async () => {
    receiver.mode = 'fail';
    const x = await create('x');
    expect((await runJob()).items).toBe(1); // x created: 503, retried in ~5 s
    receiver.mode = 'ok';

    await call(server, 'POST', `${base()}/${x.id}/hold`, { token: seed.bearer });
    await call(server, 'POST', `${base()}/${x.id}/revoke`, { token: seed.bearer, body: { reason: 'gone' } });
    const y = await create('y');
    // Due now: y's event goes out; x's lock and revocation wait for x's creation.
    while ((await runJob()).items > 0);
    expect(about(y.id).map((r) => r.payload?.type)).toEqual(['credential.created']);
    expect(about(x.id)).toEqual([]);

    clock.advance(10_000);
    while ((await runJob()).items > 0);
    const xs = about(x.id);
    expect(xs.map((r) => r.payload?.type)).toEqual([
      'credential.created',
      'credential.locked',
      expect.stringMatching(/^credential\.(revoked|locked)$/),
      expect.stringMatching(/^credential\.(revoked|locked)$/),
    ]);
    const sequences = xs.map((r) => r.payload?.data.sequence as number);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThanOrEqual(sequences[i - 1] as number);
  });

  it('every payload carries the tenant-wide sequence, increasing in commit order', async () => {
    const first = await create('s1');
    const second = await create('s2');
    while ((await runJob()).items > 0);
    const [a] = about(first.id);
    const [b] = about(second.id);
    expect(typeof a?.payload?.data.sequence).toBe('number');
    expect(b?.payload?.data.sequence as number).toBeGreaterThan(a?.payload?.data.sequence as number);
    for (const r of receiver.accepted) expect(Number.isInteger(r.payload?.data.sequence)).toBe(true);
  });
});
