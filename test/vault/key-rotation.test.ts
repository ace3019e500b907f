// `relaykey keys rotate` while the server runs: a new root key version, every data key
// re-wrapped, every account still revealing the same password.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { reauth, reveal, revealPassword, rotate, smtpVerifies } from './helpers.js';

async function createTenant(server: { url: string }, seed: SeededTenant, name: string): Promise<string> {
  const created = await call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name, domain: `${name.toLowerCase()}.test` } });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

describe('keys rotate in embedded mode (key file) on sqlite', () => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { env: { RELAYKEY_MASTER_KEY: '' } });
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  it('appends a root key version, re-wraps every data key, and the running server keeps revealing every account', { timeout: 240_000 }, async () => {
    const keyFile = join(server.env.RELAYKEY_DATA_DIR as string, 'master.key');
    expect(readFileSync(keyFile, 'utf8').trim().split('\n')).toHaveLength(1);
    const tenants = [seed.tenantId, await createTenant(server, seed, 'Initech'), await createTenant(server, seed, 'Umbrella')];
    const token = await reauth(server, seed);
    const before = new Map<string, string>();
    for (const tenantId of tenants) before.set(tenantId, await revealPassword(server, seed, token, tenantId));
    // One account is rotated (fresh ciphertext) and not revealed: it must still decrypt later.
    await rotate(server, seed, 'before key rotation', tenants[2]);
    before.delete(tenants[2] as string);

    // An audit checkpoint signed under root key v1, kept off the database.
    const checkpointV1 = await server.cli(['audit', 'checkpoint']);
    expect(checkpointV1.code, checkpointV1.stderr).toBe(0);
    expect(JSON.parse(checkpointV1.stdout).key_version).toBe(1);
    const checkpointFile = join(server.env.RELAYKEY_DATA_DIR as string, 'checkpoint-v1.json');
    writeFileSync(checkpointFile, checkpointV1.stdout);

    const rotated = await server.cliJson(['keys', 'rotate']);
    expect(rotated).toEqual({ root_key_version: 2, mode: 'key_file', rewrapped: 3, failed_tenants: [] });
    expect(
      readFileSync(keyFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.slice(0, 3)),
    ).toEqual(['v1:', 'v2:']);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const versions = await server.sql<{ v: number }>('SELECT DISTINCT root_key_version AS v FROM tenant_data_keys');
    expect(versions.map((r) => Number(r.v))).toEqual([2]);

    // The running server only knew v1: it re-reads the key file once and carries on.
    for (const [tenantId, password] of before) {
      expect(await revealPassword(server, seed, await reauth(server, seed), tenantId)).toBe(password);
      expect(
        await smtpVerifies(
          server,
          {
            ...seed,
            smtpUsername: (await server.sql<{ username: string }>('SELECT username FROM smtp_accounts WHERE tenant_id = ?', [tenantId]))[0]?.username as string,
          },
          password,
        ),
      ).toBe(true);
    }
    const third = await revealPassword(server, seed, await reauth(server, seed), tenants[2]);
    expect(third).toMatch(/^rkp_/);

    // New tenants now get data keys wrapped with v2; rotations keep working.
    const later = await createTenant(server, seed, 'Hooli');
    const [wrapped] = await server.sql<{ v: number }>('SELECT root_key_version AS v FROM tenant_data_keys WHERE tenant_id = ?', [later]);
    expect(Number(wrapped?.v)).toBe(2);
    expect((await rotate(server, seed)).status).toBe(200);
    expect(await revealPassword(server, seed, await reauth(server, seed))).toMatch(/^rkp_/);

    // And again: v3, with v1 and v2 kept for anything still wrapped with them.
    expect(await server.cliJson(['keys', 'rotate'])).toMatchObject({ root_key_version: 3, rewrapped: 4 });
    for (const tenantId of [...tenants, later]) expect((await reveal(server, seed, await reauth(server, seed), tenantId)).status).toBe(200);
    expect(await server.cliJson(['keys', 'status'])).toMatchObject({ master_key: 'match', current_root_key_version: 3, data_keys_by_root_version: { v3: 4 } });
    expect(await server.cliJson(['keys', 'rotate', '--rewrap-only'])).toMatchObject({ root_key_version: 3, rewrapped: 0 });
    const audit = await server.sql<{ details: string }>("SELECT details FROM audit_events WHERE event = 'root_key.rewrapped'");
    expect(audit).toHaveLength(3);

    // The audit chains span root key versions (each keyed hash names its own) and still verify,
    // and so does the checkpoint signed under v1; a new one is signed under v3.
    const chainedUnder = new Set((await server.sql<{ hash: string }>("SELECT hash FROM audit_events WHERE hash LIKE 'h1.%'")).map((r) => r.hash.split('.')[1]));
    expect(chainedUnder.size).toBeGreaterThan(1);
    const verified = await server.cli(['audit', 'verify', '--checkpoint', checkpointFile, '--json']);
    expect(verified.code, verified.stdout).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, checkpoints: [{ source: 'file', ok: true }] });
    expect(JSON.parse((await server.cli(['audit', 'checkpoint'])).stdout).key_version).toBe(3);
  });
});

describe.each(DIALECTS)('keys rotate with RELAYKEY_MASTER_KEY on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let restarted: RunningServer | null = null;
  const v1 = `v1:${randomBytes(32).toString('base64')}`;
  const v2 = `v2:${randomBytes(32).toString('base64')}`;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_MASTER_KEY: v1 } });
    seed = await seedTenant(server);
  });
  afterAll(async () => {
    await restarted?.stop();
    await server?.close();
  });

  it('asks for the new version first, then re-wraps to it; a node left on the old ring fails closed', async () => {
    const second = await createTenant(server, seed, 'Vandelay');
    const password = await revealPassword(server, seed, await reauth(server, seed));
    const secondPassword = await revealPassword(server, seed, await reauth(server, seed), second);

    const refused = await server.cli(['keys', 'rotate']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add v2:');

    // The operator adds v2 to the environment and restarts a node with it (the old node keeps running).
    server.env.RELAYKEY_MASTER_KEY = `${v1},${v2}`;
    restarted = await startServer(loadConfig(server.env), { logger: createLogger({ level: 'silent' }) });
    const node = { url: restarted.url };

    const result = await server.cliJson(['keys', 'rotate']);
    expect(result).toEqual({ root_key_version: 2, mode: 'environment', rewrapped: 2, failed_tenants: [] });
    expect(await server.cliJson(['keys', 'status'])).toMatchObject({ master_key: 'match', current_root_key_version: 2, data_keys_by_root_version: { v2: 2 } });

    // The node that knows v2 reveals every account as before (same checkout, same password).
    expect(await revealPassword(node, seed, await reauth(node, seed))).toBe(password);
    expect(await revealPassword(node, seed, await reauth(node, seed), second)).toBe(secondPassword);
    expect(await smtpVerifies(node, seed, password)).toBe(true);
    expect((await rotate(node, seed)).status).toBe(200);
    expect(await revealPassword(node, seed, await reauth(node, seed))).not.toBe(password);

    // The node still on v1 only cannot unwrap: it fails closed with a clear code, no plaintext.
    const stale = await reveal(server, seed, await reauth(server, seed), second);
    expect(stale.status).toBe(500);
    expect(stale.body.error.code).toBe('DECRYPTION_FAILED');
    expect(stale.text).not.toContain(Buffer.from(secondPassword).toString('base64'));
  });
});
