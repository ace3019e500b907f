// /openapi.json documents every answer: each operation has an operationId, a success reply and
// the error body for 4xx; /auth/nginx's headers, /healthz, /readyz and /metrics are in it; and a
// standard linter (@redocly/cli, recommended rules) finds neither an error nor a warning.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/api.js';
import { checkDocumentedResponse } from '../helpers/response-check.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);

interface Schema {
  properties?: Record<string, unknown>;
  anyOf?: Schema[];
}

interface Operation {
  operationId?: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string }>;
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>;
}

describe('the OpenAPI document', () => {
  let server: TestServer;
  let paths: Record<string, Record<string, Operation>>;
  let document: unknown;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    const answer = await call(server, 'GET', '/openapi.json');
    expect(answer.status).toBe(200);
    document = answer.body;
    paths = answer.body.paths;
  });
  afterAll(async () => server?.close());

  const operations = () =>
    Object.entries(paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));

  it('gives every operation a unique operationId, a documented success and the error body for 4xx', () => {
    const ids = new Set<string>();
    expect(operations().length).toBeGreaterThan(60);
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(operation.operationId as string), `${where}: operationId used twice`).toBe(false);
      ids.add(operation.operationId as string);
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        `${where}: a 2xx reply`,
      ).toBe(true);
      const errors = statuses.filter((s) => s.startsWith('4'));
      expect(errors.length, `${where}: 4xx replies`).toBeGreaterThan(0);
      for (const status of errors) {
        const schema = operation.responses[status]?.content?.['application/json']?.schema as Schema | undefined;
        // The native body {error: {code, message, request_id}}, or seed 001's envelope {status, message, code};
        // /api/v1/verify's 401 is either {valid: false} or the error body.
        const members = schema?.anyOf ?? (schema ? [schema] : []);
        expect(
          members.some((member) => Object.keys(member.properties ?? {}).some((p) => p === 'error' || p === 'code')),
          `${where} ${status}: an error body`,
        ).toBe(true);
      }
    }
  });

  it('documents /auth/nginx request and answer headers, /healthz, /readyz and /metrics', () => {
    const nginx = paths['/auth/nginx']?.get;
    const asked = (nginx?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name.toLowerCase());
    expect(asked).toEqual(expect.arrayContaining(['auth-method', 'auth-user', 'auth-pass', 'auth-protocol', 'auth-login-attempt', 'client-ip']));
    expect(Object.keys(nginx?.responses['200']?.headers ?? {})).toEqual(
      expect.arrayContaining(['Auth-Status', 'Auth-Server', 'Auth-Port', 'Auth-User', 'Auth-Wait', 'Auth-Error-Code']),
    );
    expect(paths['/healthz']?.get?.responses['200']?.content?.['application/json']?.schema).toBeDefined();
    expect(Object.keys(paths['/readyz']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '503']));
    expect(paths['/metrics']?.get?.responses['200']?.content?.['text/plain']).toBeDefined();
  });

  it('lints clean with @redocly/cli (recommended rules): no error, no warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(document));
      let output: string;
      try {
        const { stdout, stderr } = await execFileAsync(join(ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--format=summary'], {
          cwd: dir,
          timeout: 120_000,
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        });
        output = stdout + stderr;
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        throw new Error(`redocly lint failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
      expect(output).toMatch(/valid/i);
      expect(output).not.toMatch(/\b(error|warning)\s+[a-z0-9-]+:\s*\d+/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('the suite checks every answer of call() against it: a reply that breaks its schema, or an undocumented status, fails', async () => {
    const json = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    const answer = (status: number, body: unknown) => ({ status, headers: json, body, text: JSON.stringify(body) });
    await expect(checkDocumentedResponse(server, 'GET', '/healthz', answer(200, { status: 'ok' }))).resolves.toBeUndefined();
    await expect(checkDocumentedResponse(server, 'GET', '/healthz', answer(200, { status: 'fine' }))).rejects.toThrow(/documented schema/);
    await expect(checkDocumentedResponse(server, 'GET', '/healthz', answer(200, { status: 'ok', extra: 1 }))).rejects.toThrow(/documented schema/);
    const error = { error: { code: 'NOT_FOUND', message: 'credential not found', request_id: 'r' } };
    const credential = `/api/v1/tenants/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/credentials/x`;
    await expect(checkDocumentedResponse(server, 'GET', credential, answer(404, error))).resolves.toBeUndefined();
    await expect(checkDocumentedResponse(server, 'GET', credential, answer(404, { message: 'nope' }))).rejects.toThrow(/documented schema/);
    await expect(checkDocumentedResponse(server, 'POST', '/api/v1/verify', answer(302, {}))).rejects.toThrow(/not documented/);
  });
});
