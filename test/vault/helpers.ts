// Shared steps for the vault tests: reauth, reveal, rotate, verify an SMTP password.
import { expect } from 'vitest';
import { type ApiResponse, call, type SeededTenant, verify } from '../helpers/api.js';
import type { TestServer } from '../helpers/server.js';

export const vaultPath = (tenantId: string, suffix = '') => `/api/v1/platform-admin/tenants/${tenantId}/smtp-credentials${suffix}`;

export async function reauth(server: { url: string }, seed: SeededTenant, adminToken = seed.adminToken): Promise<string> {
  const response = await call(server, 'POST', '/api/v1/auth/reauth', { token: adminToken, body: { password: seed.adminPassword } });
  expect(response.status).toBe(200);
  return response.body.reauth_token as string;
}

export async function reveal(server: { url: string }, seed: SeededTenant, reauthToken: string, tenantId = seed.tenantId): Promise<ApiResponse> {
  return call(server, 'GET', vaultPath(tenantId), { token: seed.adminToken, headers: { 'x-reauth-token': reauthToken } });
}

/** Reveals and returns the decoded password (asserting success). */
export async function revealPassword(server: { url: string }, seed: SeededTenant, reauthToken: string, tenantId = seed.tenantId): Promise<string> {
  const response = await reveal(server, seed, reauthToken, tenantId);
  expect(response.status, response.text).toBe(200);
  return Buffer.from(response.body.password as string, 'base64').toString('utf8');
}

export async function rotate(
  server: { url: string },
  seed: SeededTenant,
  reason = 'scheduled security review',
  tenantId = seed.tenantId,
): Promise<ApiResponse> {
  return call(server, 'POST', vaultPath(tenantId, '/rotate'), { token: seed.adminToken, body: { reason } });
}

/** HTTP status of /api/v1/verify for this SMTP password (200 valid, 401 not). */
export async function smtpVerifies(
  server: { url: string },
  seed: SeededTenant,
  password: string,
  username = seed.smtpUsername,
  protocol = 'smtp',
): Promise<boolean> {
  const response = await verify(server, seed.verifier, { username, password, protocol });
  expect([200, 401]).toContain(response.status);
  return response.status === 200;
}

export async function auditTrail(server: { url: string }, seed: SeededTenant, page = 1, tenantId = seed.tenantId): Promise<ApiResponse> {
  return call(server, 'GET', `${vaultPath(tenantId, '/audit')}?page=${page}`, { token: seed.adminToken });
}

export async function accountRow(server: TestServer, tenantId: string) {
  const rows = await server.sql<Record<string, unknown>>('SELECT * FROM smtp_accounts WHERE tenant_id = ?', [tenantId]);
  expect(rows).toHaveLength(1);
  const row = rows[0] as Record<string, unknown>;
  return { ...row, secret_version: Number(row.secret_version), data_key_version: Number(row.data_key_version) } as unknown as Record<string, unknown> & {
    id: string;
    ciphertext: string;
    nonce: string;
    secret_version: number;
    credential_id: string;
    checkout_expires_at: string | null;
    next_rotation: string;
    last_rotated: string;
  };
}

export async function activeSmtpCredentials(server: TestServer, tenantId: string): Promise<string[]> {
  const rows = await server.sql<{ id: string }>("SELECT id FROM credentials WHERE tenant_id = ? AND surface = 'smtp_account' AND status = 'active'", [
    tenantId,
  ]);
  return rows.map((r) => r.id);
}
