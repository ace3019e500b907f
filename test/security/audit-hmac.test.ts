// The audit chain is keyed: whoever can write the database but does not hold the root secret
// cannot rewrite an event and recompute the chain. Chains written before the switch-over (plain
// SHA-256) still verify, and keep verifying as keyed events are appended to them.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

interface Row {
  seq: number;
  id: string;
  chain: string;
  tenant_id: string | null;
  event: string;
  actor_type: string;
  actor_id: string;
  occurred_at: string;
  client_ip: string | null;
  severity: string;
  target_type: string | null;
  target_id: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/** What an attacker without the key can compute: the plain SHA-256 of the event's fields. */
const sha = (row: Row, prev: string) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        prev,
        row.id,
        row.chain,
        row.tenant_id,
        row.event,
        row.actor_type,
        row.actor_id,
        row.occurred_at,
        row.client_ip,
        row.severity,
        row.target_type,
        row.target_id,
        JSON.stringify(JSON.parse(row.details)),
      ]),
    )
    .digest('hex');

describe.each(DIALECTS)('keyed audit chain on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Keyed');
    for (let i = 0; i < 4; i += 1) {
      await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.adminToken, body: { name: `k${i}`, scopes: ['smtp'] } });
    }
  });
  afterAll(async () => server?.close());

  const rows = () => server.sql<Row>('SELECT * FROM audit_events WHERE chain = ? ORDER BY seq', [seed.tenantId]);
  const verifyChain = async () => server.cli(['audit', 'verify', '--tenant', seed.tenantId, '--json']);

  it('writes keyed hashes and an authenticated head', async () => {
    const all = await rows();
    expect(all.length).toBeGreaterThan(4);
    for (const row of all) expect(row.hash).toMatch(/^h1\.\d+\.[0-9a-f]{64}$/);
    const [head] = await server.sql<{ head_mac: string }>('SELECT head_mac FROM audit_chain_heads WHERE chain = ?', [seed.tenantId]);
    expect(head?.head_mac).toMatch(/^h1\./);
    const ok = await verifyChain();
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a middle event rewritten and every later hash recomputed with SHA-256 (no key) fails, naming the event', async () => {
    const all = await rows();
    const target = all[Math.floor(all.length / 2)] as Row;
    const tampered = JSON.stringify({ ...JSON.parse(target.details), name: 'rewritten' });
    await server.sql('UPDATE audit_events SET details = ? WHERE id = ?', [tampered, target.id]);
    let prev = all[all.indexOf(target) - 1]?.hash ?? '';
    for (const row of all.slice(all.indexOf(target))) {
      const current = row.id === target.id ? { ...row, details: tampered } : row;
      const hash = sha(current, prev);
      await server.sql('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?', [prev, hash, row.id]);
      prev = hash;
    }
    await server.sql('UPDATE audit_chain_heads SET last_hash = ? WHERE chain = ?', [prev, seed.tenantId]);
    const result = await verifyChain();
    expect(result.code).not.toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems[0].eventId).toBe(target.id);
  });

  it('a chain written before the switch-over (plain SHA-256) verifies, is sealed at start and takes keyed events after', async () => {
    const legacy = await seedTenant(server, 'Legacy');
    const chain = await server.sql<Row>('SELECT * FROM audit_events WHERE chain = ? ORDER BY seq', [legacy.tenantId]);
    let prev = '';
    for (const row of chain) {
      const hash = sha(row, prev);
      await server.sql('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?', [prev, hash, row.id]);
      prev = hash;
    }
    await server.sql('UPDATE audit_chain_heads SET last_hash = ?, head_mac = NULL, legacy_events = ? WHERE chain = ?', [prev, chain.length, legacy.tenantId]);
    // The start-up step that seals heads from before the switch-over.
    const { sealAuditHeads } = await import('../../src/domain/audit.js');
    expect(await sealAuditHeads(server.runtime.store, server.runtime.services.context.auditKeys as never)).toBeGreaterThanOrEqual(1);
    await call(server, 'POST', `/api/v1/tenants/${legacy.tenantId}/credentials`, { token: legacy.adminToken, body: { name: 'after', scopes: ['smtp'] } });
    const result = await server.cli(['audit', 'verify', '--tenant', legacy.tenantId, '--json']);
    expect(result.code, result.stdout).toBe(0);
    // A plain hash beyond the switch-over is refused: it was written without the key.
    const last = (await server.sql<Row>('SELECT * FROM audit_events WHERE chain = ? ORDER BY seq', [legacy.tenantId])).at(-1) as Row;
    await server.sql('UPDATE audit_events SET hash = ? WHERE id = ?', [sha(last, last.prev_hash), last.id]);
    const forged = await server.cli(['audit', 'verify', '--tenant', legacy.tenantId, '--json']);
    expect(forged.code).not.toBe(0);
    expect(JSON.parse(forged.stdout).problems[0].eventId).toBe(last.id);
  });
});
