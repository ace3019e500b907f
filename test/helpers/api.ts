// A small JSON client over real HTTP, plus fixtures that seed a tenant the way an operator would.
import { checkDocumentedResponse } from './response-check.js';
import type { TestServer } from './server.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = any>(
  server: { url: string },
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  const answer = { status: response.status, headers: response.headers, body: parsed as T, text };
  await checkDocumentedResponse(server, method, path, answer);
  return answer;
}

export interface SeededTenant {
  adminToken: string;
  adminEmail: string;
  adminPassword: string;
  tenantId: string;
  smtpUsername: string;
  loginId: string;
  loginAddress: string;
  bearer: string;
  loginBearer: string;
  server: string;
  verifier: string;
}

let adminCounter = 0;

/** Admin by CLI, login over HTTP, a tenant with one login and one token of each kind. */
export async function seedTenant(server: TestServer, name = 'Acme'): Promise<SeededTenant> {
  adminCounter += 1;
  const adminEmail = `admin${adminCounter}-${Date.now()}@relaykey.test`;
  const adminPassword = 'correct horse battery staple';
  await server.cliJson(['admin', 'create', '--email', adminEmail, '--password', adminPassword]);
  const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: adminPassword } });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.text}`);
  const adminToken = login.body.token as string;
  const domain = `${name.toLowerCase()}${adminCounter}.test`;
  const tenant = await call(server, 'POST', '/api/v1/tenants', { token: adminToken, body: { name, domain, webmail_url: `https://mail.${domain}` } });
  if (tenant.status !== 201) throw new Error(`tenant create failed: ${tenant.text}`);
  const tenantId = tenant.body.id as string;
  const loginAddress = `alice@${domain}`;
  const createdLogin = await call(server, 'POST', `/api/v1/tenants/${tenantId}/logins`, { token: adminToken, body: { address: loginAddress } });
  const loginId = createdLogin.body.id as string;
  const token = async (body: Record<string, unknown>) => {
    const r = await call(server, 'POST', `/api/v1/tenants/${tenantId}/tokens`, { token: adminToken, body });
    if (r.status !== 201) throw new Error(`token create failed: ${r.text}`);
    return r.body.token as string;
  };
  const verifier = await call(server, 'POST', '/api/v1/verifier-tokens', { token: adminToken, body: { name: 'test verifier' } });
  return {
    adminToken,
    adminEmail,
    adminPassword,
    tenantId,
    smtpUsername: tenant.body.smtp_username,
    loginId,
    loginAddress,
    bearer: await token({ kind: 'bearer', name: 'tenant bearer' }),
    loginBearer: await token({ kind: 'bearer', login_id: loginId, name: 'alice bearer' }),
    server: await token({ kind: 'server', name: 'server key' }),
    verifier: verifier.body.token as string,
  };
}

export async function verify(server: { url: string }, verifierToken: string, body: Record<string, unknown>): Promise<ApiResponse> {
  return call(server, 'POST', '/api/v1/verify', { token: verifierToken, body });
}
