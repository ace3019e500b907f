// The console's API types are the server's reply schemas (src/surfaces/native/replies.ts and
// src/surfaces/seed000/replies.ts), not hand-copied interfaces: a field the server stops sending,
// or renames, breaks the console's type check, and this test runs that check.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

const execFileAsync = promisify(execFile);
const SHARED = [
  'Tenant',
  'Login',
  'OwnedDomain',
  'Credential',
  'CreatedCredential',
  'AuditEvent',
  'ChainCheck',
  'WebhookEndpoint',
  'WebhookDelivery',
  'JobRun',
  'JobInfo',
  'VerificationStats',
  'CredentialSession',
];
/** Seed 000's vault replies (src/surfaces/seed000/replies.ts). */
const SEED000 = ['SmtpCheckout', 'SmtpReset', 'VaultAuditEvent', 'VaultAudit'];

describe('console API types', () => {
  it('come from the reply schemas, not from copies', () => {
    const api = readFileSync(join(ROOT, 'console/src/api.ts'), 'utf8');
    for (const name of SHARED) {
      expect(api, name).not.toMatch(new RegExp(`export interface ${name}\\b`));
      expect(api, name).toMatch(new RegExp(`export type ${name} = Static<Replies\\['\\w+'\\]>`));
    }
    for (const name of SEED000) {
      expect(api, name).not.toMatch(new RegExp(`export interface ${name}\\b`));
      expect(api, name).toMatch(new RegExp(`export type ${name} = Static<Seed000Replies\\['\\w+'\\]>`));
    }
  });

  it('type-check against them (tsc -p console)', async () => {
    const result = await execFileAsync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'console', '--noEmit'], { cwd: ROOT, timeout: 170_000 }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? '' }),
    );
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 180_000);
});
