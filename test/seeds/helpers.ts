// Shared checks for the seed contract tests: row counts that must not move on errors, formats.
import { expect } from 'vitest';
import { call } from '../helpers/api.js';
import type { TestServer } from '../helpers/server.js';

export const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Counts of every table an error must leave alone. */
export async function rowCounts(server: TestServer): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['credentials', 'audit_events', 'credential_sessions', 'api_tokens']) {
    const rows = await server.sql<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
    counts[table] = Number(rows[0]?.n);
  }
  const changed = await server.sql<{ n: number | string }>(`SELECT COUNT(*) AS n FROM credentials WHERE status = 'revoked' OR held = 1`);
  counts.revoked_or_held = Number(changed[0]?.n);
  return counts;
}

/** Runs `work` (requests that must fail) and checks that no row was added or changed. */
export async function expectNoChange(server: TestServer, work: () => Promise<void>): Promise<void> {
  const before = await rowCounts(server);
  await work();
  expect(await rowCounts(server)).toEqual(before);
}

/** The OpenAPI document lists every path of a seed under its tag. */
export async function expectDocumented(server: TestServer, tag: string, operations: Array<[string, string]>): Promise<void> {
  const spec = await call(server, 'GET', '/openapi.json');
  expect(spec.status).toBe(200);
  for (const [method, path] of operations) {
    const operation = spec.body.paths?.[path]?.[method];
    expect(operation, `${method.toUpperCase()} ${path} in /openapi.json`).toBeDefined();
    expect(operation.tags).toContain(tag);
  }
}

export async function createLoginBearer(
  server: TestServer,
  adminToken: string,
  tenantId: string,
  address: string,
): Promise<{ loginId: string; token: string }> {
  const login = await call(server, 'POST', `/api/v1/tenants/${tenantId}/logins`, { token: adminToken, body: { address } });
  if (login.status !== 201) throw new Error(`login create failed: ${login.text}`);
  const token = await call(server, 'POST', `/api/v1/tenants/${tenantId}/tokens`, { token: adminToken, body: { kind: 'bearer', login_id: login.body.id } });
  if (token.status !== 201) throw new Error(`token create failed: ${token.text}`);
  return { loginId: login.body.id, token: token.body.token };
}

export async function createToken(server: TestServer, adminToken: string, tenantId: string, body: Record<string, unknown>): Promise<string> {
  const token = await call(server, 'POST', `/api/v1/tenants/${tenantId}/tokens`, { token: adminToken, body });
  if (token.status !== 201) throw new Error(`token create failed: ${token.text}`);
  return token.body.token;
}
