// A property over every route the server registers: whatever body, query and path parameters a
// caller sends — shaped like the route's documented schema, mutated with hostile values, or not
// JSON at all — and whichever principal the policy admits, the answer is never a 5xx, and it
// matches what /openapi.json documents for its status (call() checks that). Bounded: a few dozen
// cases per route (RELAYKEY_PROPERTY_RUNS), so the whole run stays within a couple of minutes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KEY_PREFIXES } from '../../src/crypto/key-format.js';
import { POLICY, type PrincipalKind } from '../../src/domain/policy.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const RUNS = Number(process.env.RELAYKEY_PROPERTY_RUNS ?? 25);
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
};

/** Values that broke (or would break) naive handlers: bad times, key-shaped text, control bytes, odd addresses. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '2030-06-30T23:59:60Z',
  '2030-13-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '1e309',
  'NaN',
  '-1',
  '\u0000',
  'a\r\nb',
  '\u001b[31m',
  'evil\u202e',
  '\u2066x\u2069',
  '💩'.repeat(50),
  'x'.repeat(5000),
  "' OR 1=1 --",
  '%_\\',
  '../../etc/passwd',
  '0177.0.0.1',
  '2130706433',
  '::ffff:127.0.0.1',
  '10.0.0.0/99',
  '999.0.0.1:99999',
  'http://[::127.0.0.1]/',
  'http://localhost./',
  'javascript:alert(1)',
  'not an email',
  'a@b',
  UNKNOWN,
  '__proto__',
  'constructor',
];

const hostile = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.constant(generateKey(KEY_PREFIXES.credential)),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.integer(),
    fc.constantFrom(0, -1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e308, -0.5),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
  );

function typesOf(schema: Schema): string[] {
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** An arbitrary shaped like `schema`, with a hostile value in place of any part now and then. */
function shaped(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((v) => shaped(v, depth)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const types = typesOf(schema);
  const options: fc.Arbitrary<unknown>[] = [];
  for (const type of types) {
    if (type === 'null') options.push(fc.constant(null));
    if (type === 'boolean') options.push(fc.boolean());
    if (type === 'integer') options.push(fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 100_000, 2 ** 31) }));
    if (type === 'number') options.push(fc.double({ min: schema.minimum ?? -10, max: schema.maximum ?? 1e6, noNaN: true }));
    if (type === 'string') {
      if (schema.format === 'date-time')
        options.push(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()));
      else if (schema.format === 'uuid') options.push(fc.uuid());
      else if (schema.format === 'email') options.push(fc.emailAddress());
      else if (schema.format === 'uri') options.push(fc.webUrl());
      else options.push(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 60) }));
    }
    if (type === 'array' && depth < 3) options.push(fc.array(shaped(schema.items ?? {}, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) }));
    if (type === 'object' && depth < 3) {
      const properties = Object.entries(schema.properties ?? {});
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of properties) record[name] = shaped(property, depth + 1);
      const required = (schema.required ?? []).filter((name) => name in record);
      options.push(
        properties.length > 0
          ? fc.record(record, { requiredKeys: required }).chain((value) =>
              // Now and then an unknown field as well.
              fc.oneof(
                { weight: 4, arbitrary: fc.constant(value) },
                { weight: 1, arbitrary: hostile().map((extra) => ({ ...value, unexpected_field: extra })) },
              ),
            )
          : fc.dictionary(fc.string({ maxLength: 10 }), hostile(), { maxKeys: 3 }),
      );
    }
  }
  if (options.length === 0) options.push(hostile());
  return fc.oneof({ weight: 5, arbitrary: fc.oneof(...options) }, { weight: 1, arbitrary: hostile() });
}

interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface RouteCase {
  method: string;
  url: string;
  action: keyof typeof POLICY;
  operation: Operation | undefined;
}

/** Routes that are static files of plugins, and HEAD twins of GETs, are not interesting here. */
function exercised(route: { method: string; url: string }): boolean {
  return route.method !== 'HEAD' && !route.url.startsWith('/docs/') && !route.url.startsWith('/console/assets');
}

/** The OpenAPI path of a Fastify route (`:id` -> `{id}`). */
const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

/** Destructive routes last, the tenant's own deletion at the very end. */
function order(route: RouteCase): number {
  if (route.method === 'DELETE' && /^\/api\/v1\/tenants\/:[A-Za-z_]+$/.test(route.url)) return 3;
  if (route.method === 'DELETE') return 2;
  return 1;
}

describe.each(DIALECTS)('no route answers 5xx to any input on %s', (dialect) => {
  let server: TestServer;
  let t: SeededTenant;
  let credentialId: string;
  let reauthToken: string;
  let document: { paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_REAUTH_MINUTES: '60' } });
    t = await seedTenant(server, 'Property');
    credentialId = (
      await call(server, 'POST', `/api/v1/tenants/${t.tenantId}/credentials`, {
        token: t.adminToken,
        body: { name: 'alice-key', login_id: t.loginId, scopes: ['smtp'] },
      })
    ).body.id;
    reauthToken = (await call(server, 'POST', '/api/v1/auth/reauth', { token: t.adminToken, body: { password: t.adminPassword } })).body.reauth_token;
    await server.cliJson(['admin', 'create', '--email', 'second-admin@property.test', '--password', 'another long password']);
    document = (await call(server, 'GET', '/openapi.json')).body;
  }, 120_000);
  afterAll(async () => server?.close());

  it('the router answers an over-long or badly encoded path in the one error body, without echoing the path', async () => {
    for (const [path, status, code] of [
      [`/api/v1/tenants/${'x'.repeat(5000)}/credentials`, 414, 'URI_TOO_LONG'],
      ['/api/v1/tenants/%E0%A4%A/credentials', 400, 'BAD_REQUEST'],
    ] as const) {
      const response = await call(server, 'GET', path, { token: t.adminToken });
      expect(response.status, path.slice(0, 40)).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(response.text).not.toContain('xxxxxxxxxx');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it(`${RUNS} generated requests per route, each principal the policy admits: never a 5xx, always as documented`, { timeout: 600_000 }, async () => {
    const routes: RouteCase[] = server.app.policyRoutes
      .filter(exercised)
      .map((r) => ({
        method: r.method,
        url: r.url,
        action: r.action as keyof typeof POLICY,
        operation: document.paths[openApiPath(r.url)]?.[r.method.toLowerCase()],
      }))
      .sort((a, b) => order(a) - order(b));
    expect(routes.length).toBeGreaterThan(50);
    const tokenOf: Record<PrincipalKind, string | null> = {
      anonymous: null,
      admin: t.adminToken,
      bearer: t.bearer,
      'bound-bearer': t.loginBearer,
      server: t.server,
      verifier: t.verifier,
    };
    const failures: string[] = [];
    let requests = 0;
    for (const route of routes) {
      const rule = POLICY[route.action];
      const admitted = [...rule.allow] as PrincipalKind[];
      // Signing out (here or everywhere) would end the session the rest of the run uses.
      const endsSessions = route.action === 'auth.logout' || route.action === 'auth.sessions.revoke';
      const params = (route.url.match(/:[A-Za-z_]+/g) ?? []).map((p) => p.slice(1));
      const paramValue = (name: string): fc.Arbitrary<string> => {
        const known = /^tenant_?[iI]d$/.test(name) ? t.tenantId : name === 'credentialId' ? credentialId : name === 'loginId' ? t.loginId : UNKNOWN;
        return fc.oneof(
          { weight: 4, arbitrary: fc.constant(known) },
          { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s !== '')).map(String) },
        );
      };
      const queryParameters = (route.operation?.parameters ?? []).filter((p) => p.in === 'query');
      const query = fc.record(
        Object.fromEntries(queryParameters.map((p) => [p.name, shaped(p.schema ?? {}).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))])),
        { requiredKeys: [] },
      );
      const bodySchema = route.operation?.requestBody?.content?.['application/json']?.schema;
      const sendsBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
      const body = fc.oneof(
        {
          weight: 6,
          arbitrary: bodySchema ? shaped(bodySchema).map((value) => ({ json: value })) : fc.jsonValue({ maxDepth: 2 }).map((value) => ({ json: value })),
        },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ json: value })) },
        { weight: 1, arbitrary: fc.constantFrom('{"a":', 'null', '[]', '"x"', '\u0000', '{"__proto__":{"admin":true}}').map((raw) => ({ raw })) },
      );
      let problem = '';
      const request = fc.record({
        principal: fc.constantFrom(...admitted),
        params: fc.tuple(...params.map(paramValue)),
        query,
        body,
      });
      await fc
        .assert(
          fc.asyncProperty(request, async ({ principal, params: values, query: q, body: b }) => {
            requests += 1;
            let path = route.url;
            params.forEach((name, index) => {
              path = path.replace(`:${name}`, encodeURIComponent(values[index] as string));
            });
            path = path.replace(/\*$/, 'index.html');
            const search = new URLSearchParams(q as Record<string, string>).toString();
            if (search) path += `?${search}`;
            let token = tokenOf[principal];
            if (principal === 'admin' && endsSessions) {
              token = (await call(server, 'POST', '/api/v1/auth/login', { body: { email: 'second-admin@property.test', password: 'another long password' } }))
                .body.token;
            }
            const headers: Record<string, string> = {};
            if (token && rule.via === 'x-server-api-key') headers['x-server-api-key'] = token;
            if (principal === 'admin' && !endsSessions) headers['x-reauth-token'] = reauthToken;
            const options = {
              ...(token && rule.via !== 'x-server-api-key' ? { token } : {}),
              headers,
              ...(sendsBody ? ('raw' in b ? { rawBody: b.raw } : { body: b.json }) : {}),
            };
            const shown = `${route.method} ${path.length > 160 ? `${path.slice(0, 160)}…(${path.length})` : path} as ${principal}, body ${JSON.stringify(b).slice(0, 200)}`;
            let status: number;
            let text: string;
            try {
              const response = await call(server, route.method, path, options);
              status = response.status;
              text = response.text;
            } catch (error) {
              problem = `${shown}: ${(error as Error).message.replaceAll(path, '<path>').slice(0, 400)}`;
              throw error;
            }
            if (status >= 500 && !(route.action === 'public.console' && status === 503)) {
              problem = `${shown} -> ${status} ${text.slice(0, 300)}`;
              throw new Error(problem);
            }
          }),
          { numRuns: RUNS, endOnFailure: true },
        )
        .catch((error: Error) => failures.push(problem || `${route.method} ${route.url}: ${error.message.slice(0, 600)}`));
    }
    expect(requests).toBeGreaterThan(routes.length * RUNS * 0.9);
    expect(failures).toEqual([]);
  });
});
