// Signed checkpoints of the audit chain heads: one node writes each interval's checkpoint (a log
// line and an `audit.checkpoint` webhook carrying the tenant's own head), anyone with the public
// key can check its signature, and a chain truncated back to an older, self-consistent state —
// which `audit verify` alone cannot see — is caught against the last checkpoint kept elsewhere.
import { createPublicKey, verify as ed25519Verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

interface Checkpoint {
  format: string;
  id: string;
  created_at: string;
  key_version: number;
  heads: { chain: string; count: number; last_hash: string }[];
  signature: string;
}

describe.each(DIALECTS)('audit checkpoints on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;
  const clock = new ManualClock(new Date());
  const receiver = new WebhookReceiver();
  const runJob = (name: string) => server.runtime.scheduler.run(name);
  const file = (name: string, content: string) => {
    const path = join(server.env.RELAYKEY_DATA_DIR as string, name);
    writeFileSync(path, content);
    return path;
  };
  const checkpointLines = () =>
    server.logs
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"audit checkpoint"'))
      .map((line) => ({ line, parsed: JSON.parse(line) as { msg: string; checkpoint: Checkpoint } }));
  const createCredentials = async (n: number) => {
    for (let i = 0; i < n; i += 1) {
      const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
        token: seed.adminToken,
        body: { name: `k${i}`, scopes: ['smtp'] },
      });
      expect(created.status).toBe(201);
    }
  };
  const headOf = async (chain: string) =>
    (
      await server.sql<{ last_hash: string; event_count: number; head_mac: string }>(
        'SELECT last_hash, event_count, head_mac FROM audit_chain_heads WHERE chain = ?',
        [chain],
      )
    )[0];

  beforeAll(async () => {
    await receiver.start();
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8', RELAYKEY_AUDIT_CHECKPOINT_MINUTES: '10' } });
    seed = await seedTenant(server, 'Checkpoint');
    other = await seedTenant(server, 'Bystander');
    const hook = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, {
      token: seed.bearer,
      body: { url: receiver.url, events: ['audit.checkpoint'] },
    });
    expect(hook.status, hook.text).toBe(201);
    receiver.secret = hook.body.secret;
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  it('truncation back to an older state passes audit verify alone but fails against the last checkpoint', { timeout: 300_000 }, async () => {
    await createCredentials(2);
    // State S1: what an attacker will later put back (a head that is valid: it carries its MAC).
    const older = await headOf(seed.tenantId);
    await createCredentials(3);
    const current = await headOf(seed.tenantId);
    expect(Number(current?.event_count)).toBeGreaterThan(Number(older?.event_count));

    // One checkpoint per interval: a second run in the same slot writes nothing.
    const run = await runJob('audit-checkpoint');
    expect(run.outcome).toBe('ok');
    expect(run.items).toBeGreaterThanOrEqual(3); // platform + two tenants
    expect((await runJob('audit-checkpoint')).items).toBe(0);
    const lines = checkpointLines();
    expect(lines).toHaveLength(1);
    const logged = lines[0]?.parsed.checkpoint as Checkpoint;
    expect(logged.format).toBe('relaykey-audit-checkpoint/v1');
    expect(logged.heads.find((h) => h.chain === seed.tenantId)).toEqual({
      chain: seed.tenantId,
      count: Number(current?.event_count),
      last_hash: current?.last_hash,
    });
    expect(logged.heads.map((h) => h.chain)).toContain(other.tenantId);

    // The tenant's webhook carries its own head only, signed on its own.
    await runJob('webhook-delivery');
    const hooks = receiver.accepted.filter((r) => r.payload?.type === 'audit.checkpoint');
    expect(hooks).toHaveLength(1);
    const own = hooks[0]?.payload?.data.checkpoint as Checkpoint;
    expect(hooks[0]?.payload?.data.tenant_id).toBe(seed.tenantId);
    expect(own.heads).toEqual([{ chain: seed.tenantId, count: Number(current?.event_count), last_hash: current?.last_hash }]);
    expect(hooks[0]?.body).not.toContain(other.tenantId);

    // Anyone with the public key checks a checkpoint (documented material, plain Ed25519).
    const keys = await server.cliJson<{ keys: { key_version: number; ed25519_public_key: string }[] }>(['audit', 'public-key']);
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keys.keys[0]?.ed25519_public_key as string }, format: 'jwk' });
    for (const checkpoint of [logged, own]) {
      const material = JSON.stringify([
        checkpoint.format,
        checkpoint.id,
        checkpoint.created_at,
        checkpoint.key_version,
        checkpoint.heads.map((h) => [h.chain, h.count, h.last_hash]),
      ]);
      expect(ed25519Verify(null, Buffer.from(material), publicKey, Buffer.from(checkpoint.signature, 'base64url'))).toBe(true);
    }

    const logFile = file('checkpoint.log', `${lines[0]?.line}\n`);
    const webhookFile = file('checkpoint-webhook.json', hooks[0]?.body as string);
    const clean = await server.cli(['audit', 'verify', '--checkpoint', logFile, '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout).checkpoints.map((c: { source: string; ok: boolean }) => [c.source, c.ok])).toEqual([
      ['stored', true],
      ['file', true],
    ]);

    // The attacker (database write, no root secret) cuts the chain back to S1 and puts S1's head back.
    const cut = Number(older?.event_count);
    const [boundary] = await server.sql<{ seq: number }>('SELECT seq FROM audit_events WHERE chain = ? ORDER BY seq LIMIT 1 OFFSET ?', [
      seed.tenantId,
      cut - 1,
    ]);
    await server.sql('DELETE FROM audit_events WHERE chain = ? AND seq > ?', [seed.tenantId, Number(boundary?.seq)]);
    await server.sql('UPDATE audit_chain_heads SET last_hash = ?, event_count = ?, head_mac = ? WHERE chain = ?', [
      older?.last_hash,
      Number(older?.event_count),
      older?.head_mac,
      seed.tenantId,
    ]);
    // A checkpoint left in the database already gives it away...
    const careless = await server.cli(['audit', 'verify']);
    expect(careless.code).toBe(3);
    expect(careless.stdout).toContain('truncated');
    // ...so the attacker deletes those too: the chain alone now verifies.
    await server.sql('DELETE FROM audit_checkpoints');
    const alone = await server.cli(['audit', 'verify']);
    expect(alone.code, alone.stdout).toBe(0);

    for (const kept of [logFile, webhookFile]) {
      const caught = await server.cli(['audit', 'verify', '--checkpoint', kept]);
      expect(caught.code, caught.stdout).toBe(3);
      expect(caught.stdout).toContain(`chain ${seed.tenantId}`);
      expect(caught.stdout).toContain(
        `has ${cut} event(s) but the checkpoint of ${logged.created_at} recorded ${Number(current?.event_count)}: it was truncated`,
      );
    }
    // The other tenant's chain is untouched, and a check limited to it passes.
    expect((await server.cli(['audit', 'verify', '--checkpoint', logFile, '--tenant', other.tenantId])).code).toBe(0);

    // A checkpoint edited to match the truncated chain no longer carries a valid signature.
    const forged = { ...logged, heads: logged.heads.map((h) => (h.chain === seed.tenantId ? { ...h, count: cut, last_hash: older?.last_hash as string } : h)) };
    const refused = await server.cli(['audit', 'verify', '--checkpoint', file('forged.json', JSON.stringify(forged))]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('signature does not match');
    const garbage = await server.cli(['audit', 'verify', '--checkpoint', file('garbage.json', '{"format":"something else"}')]);
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toContain('not an audit checkpoint');
  });

  it('the next interval checkpoints again; only tenants whose chain moved get a webhook; a head without a valid MAC is left out', async () => {
    receiver.received.length = 0;
    clock.advance(10 * 60_000);
    expect((await runJob('audit-checkpoint')).items).toBeGreaterThan(0);
    await runJob('webhook-delivery');
    // The tenant's chain was cut since the last stored checkpoint (deleted above): it moved.
    expect(receiver.received.filter((r) => r.payload?.type === 'audit.checkpoint')).toHaveLength(1);
    receiver.received.length = 0;
    clock.advance(10 * 60_000);
    expect((await runJob('audit-checkpoint')).items).toBeGreaterThan(0);
    await runJob('webhook-delivery');
    expect(receiver.received).toHaveLength(0);
    expect(checkpointLines().length).toBe(3);

    await server.sql('UPDATE audit_chain_heads SET head_mac = ? WHERE chain = ?', ['h1.1.0000', other.tenantId]);
    clock.advance(10 * 60_000);
    await runJob('audit-checkpoint');
    const last = checkpointLines().at(-1)?.parsed.checkpoint as Checkpoint;
    expect(last.heads.map((h) => h.chain)).not.toContain(other.tenantId);
    expect(server.logs.join('')).toContain('left out of the checkpoint');
  });
});
