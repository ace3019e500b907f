// Real server processes: a kill -9 with deliveries pending loses nothing, and three nodes on one
// PostgreSQL schema handle every due revocation, warning, expiry, delivery and vault rotation
// (scheduled and checkout-expiry) exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { DAY } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ServerProcess, spawnServer, waitFor } from '../helpers/process.js';
import { DIALECTS, POSTGRES_URL, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const count = async (server: TestServer, text: string, params: unknown[] = []) => Number((await server.sql<{ n: number }>(text, params))[0]?.n);

describe.each(DIALECTS)('server processes on %s', (dialect) => {
  let control: TestServer | undefined;
  const children: ServerProcess[] = [];
  const receiver = new WebhookReceiver();

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.child.exitCode === null && child.child.signalCode === null) {
        child.child.kill('SIGKILL');
        await child.exited;
      }
    }
    await receiver.stop();
    await control?.close();
    control = undefined;
  });

  /** A control server with its jobs off seeds the database; the child processes do the work. */
  async function setUp(): Promise<{ control: TestServer; seed: SeededTenant; env: NodeJS.ProcessEnv }> {
    control = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    const seed = await seedTenant(control);
    receiver.received.length = 0;
    await receiver.start();
    const hook = await call(control, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url: receiver.url } });
    receiver.secret = hook.body.secret;
    // Weekly audit checkpoints: one at start, and no new interval beginning mid-test.
    const env = { ...control.env, RELAYKEY_JOBS: 'on', RELAYKEY_JOB_INTERVAL_MS: '150', RELAYKEY_AUDIT_CHECKPOINT_MINUTES: '10080' };
    return { control, seed, env };
  }

  it('kill -9 with deliveries pending: after a restart every committed change is delivered', async () => {
    const { control, seed, env } = await setUp();
    await receiver.stop(); // the receiver is down while the first process works
    const first = await spawnServer(env);
    children.push(first);
    const created: string[] = [];
    const requests = Array.from({ length: 40 }, (_, i) =>
      call(first, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer, body: { name: `crash-${i}`, scopes: ['smtp'] } }).then(
        (r) => {
          if (r.status === 201) created.push(r.body.id);
        },
        () => undefined, // cut off by the kill
      ),
    );
    await waitFor(() => created.length >= 10, 60_000, 'ten credentials created');
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(requests);

    const committed = (await control.sql<{ id: string }>("SELECT id FROM credentials WHERE tenant_id = ? AND name LIKE 'crash-%'", [seed.tenantId])).map(
      (r) => r.id,
    );
    expect(committed.length).toBeGreaterThanOrEqual(created.length);
    for (const id of created) expect(committed).toContain(id);
    // (An audit.checkpoint the job may have queued for the tenant is not a change of these.)
    const pending = await count(control, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND event_type <> 'audit.checkpoint'");
    expect(pending).toBe(committed.length);

    await receiver.start();
    const second = await spawnServer(env);
    children.push(second);
    // Failed attempts wait 5 s; a lease cut by the kill runs out after 60 s.
    await waitFor(
      async () => (await count(control, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'")) === 0,
      120_000,
      'every delivery to go out after the restart',
    );
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const deliveredFor = new Set(receiver.accepted.filter((r) => r.payload?.type === 'credential.created').map((r) => r.payload?.data.credential_id));
    for (const id of committed) expect(deliveredFor.has(id), `credential.created for ${id}`).toBe(true);
    const ids = receiver.accepted.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 240_000);

  it.runIf(dialect === 'postgres' && POSTGRES_URL)(
    'three nodes on one schema: every due revocation, warning, expiry, delivery and SMTP rotation happens exactly once',
    async () => {
      const { control, seed, env } = await setUp();
      // Native credentials fall under the inactivity rule only where the tenant names a period.
      const period = await call(control, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, { token: seed.adminToken, body: { settings: { inactivity_days: 90 } } });
      expect(period.status, period.text).toBe(200);
      const make = async (name: string) =>
        (await call(control, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer, body: { name, scopes: ['smtp'] } })).body
          .id as string;
      const stale: string[] = [];
      const nearly: string[] = [];
      const expired: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        stale.push(await make(`stale-${i}`));
        nearly.push(await make(`nearly-${i}`));
        expired.push(await make(`expired-${i}`));
      }
      const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();
      await control.sql("UPDATE credentials SET created_at = ? WHERE name LIKE 'stale-%'", [daysAgo(100)]);
      await control.sql("UPDATE credentials SET created_at = ? WHERE name LIKE 'nearly-%'", [daysAgo(85)]);
      await control.sql("UPDATE credentials SET expires_at = ? WHERE name LIKE 'expired-%'", [daysAgo(1)]);
      // Vaulted SMTP accounts of further tenants (no webhook endpoints): some due for their
      // scheduled rotation, some with a checkout that has expired.
      const tenant = async (name: string) => {
        const created = await call(control, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name, domain: `${name}.test` } });
        expect(created.status, created.text).toBe(201);
        return created.body.id as string;
      };
      const scheduled: string[] = [];
      const checkedOut: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        scheduled.push(await tenant(`scheduled-${i}`));
        checkedOut.push(await tenant(`checkout-${i}`));
      }
      const accountsBefore = new Map(
        (await control.sql<{ tenant_id: string; credential_id: string }>('SELECT tenant_id, credential_id FROM smtp_accounts')).map((r) => [
          r.tenant_id,
          r.credential_id,
        ]),
      );
      for (const id of scheduled) await control.sql('UPDATE smtp_accounts SET next_rotation = ? WHERE tenant_id = ?', [daysAgo(1), id]);
      for (const id of checkedOut) {
        await control.sql('UPDATE smtp_accounts SET checkout_expires_at = ?, checkout_admin_id = NULL WHERE tenant_id = ?', [daysAgo(0.01), id]);
      }

      const nodes = await Promise.all([spawnServer(env), spawnServer(env), spawnServer(env)]);
      children.push(...nodes);
      const settled = async () =>
        (await count(control, "SELECT COUNT(*) AS n FROM credentials WHERE status = 'revoked' AND revoked_reason = 'inactivity'")) === stale.length &&
        (await count(control, "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'credential.inactivity_warning'")) === nearly.length &&
        (await count(control, "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'credential.expired'")) === expired.length &&
        (await count(control, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'")) === 0 &&
        (await count(control, "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'smtp_credentials_rotated'")) === scheduled.length + checkedOut.length;
      await waitFor(settled, 90_000, 'the cluster to handle every due item');
      // Keep the three nodes racing for a while longer: nothing more may happen.
      await new Promise((r) => setTimeout(r, 4_000));
      for (const node of nodes) node.child.kill('SIGTERM');
      await Promise.all(nodes.map((n) => n.exited));

      const perCredential = async (event: string) =>
        control.sql<{ target_id: string; n: number }>(
          'SELECT target_id, COUNT(*) AS n FROM audit_events WHERE event = ? AND tenant_id = ? GROUP BY target_id',
          [event, seed.tenantId],
        );
      const revocations = (await perCredential('credential.revoked')).filter((r) => stale.includes(r.target_id));
      expect(revocations).toHaveLength(stale.length);
      expect(revocations.every((r) => Number(r.n) === 1)).toBe(true);
      const warnings = await perCredential('credential.inactivity_warning');
      expect(warnings.map((r) => r.target_id).sort()).toEqual([...nearly].sort());
      expect(warnings.every((r) => Number(r.n) === 1)).toBe(true);
      const expiries = await perCredential('credential.expired');
      expect(expiries.map((r) => r.target_id).sort()).toEqual([...expired].sort());
      expect(expiries.every((r) => Number(r.n) === 1)).toBe(true);

      // Deliveries: each outbox row arrived exactly once, on its first attempt.
      const rows = await control.sql<{ id: string; attempts: number; event_type: string; audit_event_id: string }>(
        'SELECT id, attempts, event_type, audit_event_id FROM webhook_deliveries',
      );
      const checkpoints = rows.filter((r) => r.event_type === 'audit.checkpoint');
      expect(rows.length - checkpoints.length).toBe(36 + stale.length * 2 + nearly.length + expired.length);
      // Audit checkpoints: one per interval for the whole cluster (three nodes raced for it), and
      // one delivery of each to the tenant's endpoint.
      const taken = await count(control, 'SELECT COUNT(*) AS n FROM audit_checkpoints');
      expect(taken).toBeGreaterThanOrEqual(1);
      expect(checkpoints.length).toBeGreaterThanOrEqual(1);
      expect(checkpoints.length).toBeLessThanOrEqual(taken);
      expect(new Set(checkpoints.map((r) => r.audit_event_id)).size).toBe(checkpoints.length);
      expect(rows.every((r) => Number(r.attempts) === 1)).toBe(true);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      const arrived = receiver.accepted.map((r) => r.id).sort();
      expect(arrived).toEqual(rows.map((r) => r.id).sort());

      // All three nodes took part, and the items they report add up to the work done once.
      const runs = await control.sql<{ job: string; node_id: string; items: number }>("SELECT job, node_id, items FROM job_runs WHERE outcome = 'ok'");
      expect(new Set(runs.map((r) => r.node_id)).size).toBe(3);
      const itemsOf = (job: string) => runs.filter((r) => r.job === job).reduce((sum, r) => sum + Number(r.items), 0);
      expect(itemsOf('inactivity-revocation')).toBe(stale.length + nearly.length);
      expect(itemsOf('credential-expiry')).toBe(expired.length);
      expect(itemsOf('webhook-delivery')).toBe(rows.length);

      // Vault rotations: each due account rotated once, by the job its reason names.
      const rotations = await control.sql<{ tenant_id: string; details: string }>(
        "SELECT tenant_id, details FROM audit_events WHERE event = 'smtp_credentials_rotated'",
      );
      const typeOf = new Map<string, string[]>();
      for (const row of rotations) typeOf.set(row.tenant_id, [...(typeOf.get(row.tenant_id) ?? []), String(JSON.parse(row.details).rotation_type)]);
      expect([...typeOf.keys()].sort()).toEqual([...scheduled, ...checkedOut].sort());
      for (const id of scheduled) expect(typeOf.get(id)).toEqual(['automated']);
      for (const id of checkedOut) expect(typeOf.get(id)).toEqual(['checkout_expiry']);
      expect(itemsOf('smtp-scheduled-rotation')).toBe(scheduled.length);
      expect(itemsOf('checkout-expiry')).toBe(checkedOut.length);
      const accountsAfter = await control.sql<{ tenant_id: string; credential_id: string; secret_version: number; checkout_expires_at: string | null }>(
        'SELECT tenant_id, credential_id, secret_version, checkout_expires_at FROM smtp_accounts',
      );
      for (const account of accountsAfter) {
        const rotated = scheduled.includes(account.tenant_id) || checkedOut.includes(account.tenant_id);
        expect(account.credential_id !== accountsBefore.get(account.tenant_id), account.tenant_id).toBe(rotated);
        expect(account.checkout_expires_at).toBeNull();
        // The replaced SMTP credential was revoked exactly once.
        if (rotated) {
          const old = accountsBefore.get(account.tenant_id);
          expect(await count(control, "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'credential.revoked' AND target_id = ?", [old])).toBe(1);
          expect(
            await count(control, "SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = ? AND status = 'active' AND surface = 'smtp_account'", [
              account.tenant_id,
            ]),
          ).toBe(1);
        }
      }
      expect(await count(control, "SELECT COUNT(*) AS n FROM job_runs WHERE outcome = 'error'")).toBe(0);
    },
    240_000,
  );
});
