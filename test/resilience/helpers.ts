// Shared by the fault tests: relaykey nodes as real processes, seeding over the real CLI and
// HTTP, and a traffic loop that records every answer.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { ROOT, type TestServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);

export function nodeEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RELAYKEY_DATABASE_URL: databaseUrl,
    RELAYKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'relaykey-resilience-')),
    RELAYKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    RELAYKEY_HOST: '127.0.0.1',
    RELAYKEY_THROTTLE_IP_LIMIT: '100000',
    RELAYKEY_THROTTLE_USERNAME_LIMIT: '100000',
    RELAYKEY_JOBS: 'off',
    ...extra,
  };
}

/** What seedTenant needs of a server: its URL and the CLI on its database. */
export function cliServer(url: string, env: NodeJS.ProcessEnv): TestServer {
  const cliJson = async (args: string[]) => {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args, '--json'], {
      env,
      cwd: ROOT,
      timeout: 60_000,
    });
    return JSON.parse(stdout);
  };
  return { url, cliJson } as unknown as TestServer;
}

export async function startNode(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  return spawnServer(env);
}

export async function seed(node: ServerProcess, env: NodeJS.ProcessEnv): Promise<SeededTenant> {
  return seedTenant(cliServer(node.url, env));
}

export interface Credential {
  id: string;
  secret: string;
}

export async function createCredential(url: string, tenant: SeededTenant, name: string): Promise<{ status: number; body: any; headers: Headers }> {
  return call({ url }, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, { token: tenant.bearer, body: { name, scopes: ['api:read', 'smtp'] } });
}

export async function verifyOnce(url: string, tenant: SeededTenant, secret: string) {
  return verify({ url }, tenant.verifier, { username: 'any', password: secret, protocol: 'api:read' });
}

/** `count` credentials, each verified once (so in the node's verify cache): their secrets. */
export async function hotCredentials(url: string, tenant: SeededTenant, count: number): Promise<string[]> {
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await createCredential(url, tenant, `hot${i}`);
    expect(created.status).toBe(201);
    expect((await verifyOnce(url, tenant, created.body.secret)).status).toBe(200);
    secrets.push(created.body.secret);
  }
  return secrets;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** p-th percentile of a list of numbers (ms). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
