// The set-up a console browser test needs, written once: a real server (SQLite or PostgreSQL), a
// platform admin made by the CLI, Debian's Chromium on the console, error watching, and a capture
// step that screenshots at 1440x900 and 390x844 (checked non-blank) and scans with axe-core.
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { type ApiResponse, call } from '../helpers/api.js';
import { type DialectName, type StartOptions, startTestServer, type TestServer } from '../helpers/server.js';
import { seriousViolations } from './a11y.js';
import { type Browser, buildConsole, ensureChromium, launchBrowser, screenshot, watchErrors } from './browser.js';

export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface ConsoleHarness {
  server: TestServer;
  browser: Browser;
  page: Page;
  /** Page errors and console errors (a CSP violation is one) seen so far. */
  errors: string[];
  /** Serious or critical axe violations seen by capture(). */
  a11y: string[];
  adminEmail: string;
  adminPassword: string;
  /** An API session of the admin (separate from the browser's). */
  adminToken: string;
  url(path?: string): string;
  go(hash: string): Promise<unknown>;
  api(method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse>;
  signIn(options?: { email?: string; password?: string; totpCode?: string }): Promise<void>;
  /** Screenshots at both viewports (named `<prefix>-<name>-desktop|phone`) and an axe scan of each. */
  capture(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleHarness(
  dialect: DialectName,
  options: { prefix: string; serverOptions?: StartOptions; adminPassword?: string },
): Promise<ConsoleHarness> {
  ensureChromium();
  buildConsole();
  const server = await startTestServer(dialect, options.serverOptions ?? { env: { RELAYKEY_JOBS: 'off' } });
  const adminEmail = `${options.prefix}-${randomUUID().slice(0, 8)}@relaykey.test`;
  const adminPassword = options.adminPassword ?? 'console harness password 1';
  await server.cliJson(['admin', 'create', '--email', adminEmail, '--password', adminPassword]);
  const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: adminPassword } });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.text}`);
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = watchErrors(page);
  const a11y: string[] = [];
  const harness: ConsoleHarness = {
    server,
    browser,
    page,
    errors,
    a11y,
    adminEmail,
    adminPassword,
    adminToken: login.body.token as string,
    url: (path = '/console') => `${server.url}${path}`,
    go: (hash) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`),
    api: (method, path, body, token) => call(server, method, path, { token: token ?? harness.adminToken, ...(body !== undefined ? { body } : {}) }),
    async signIn(input = {}) {
      await page.getByLabel('Email').fill(input.email ?? adminEmail);
      await page.getByLabel('Password').fill(input.password ?? adminPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      if (input.totpCode === undefined) return;
      // The code field appears once the server answers that this admin needs one.
      await page.getByLabel('Authenticator code').fill(input.totpCode);
      await page.getByRole('button', { name: 'Sign in' }).click();
    },
    async capture(name) {
      for (const [label, size] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        await page.setViewportSize(size);
        await screenshot(page, `${options.prefix}-${name}-${label}`);
        for (const v of await seriousViolations(page)) a11y.push(`${name} (${label}): ${v}`);
      }
      await page.setViewportSize(DESKTOP);
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
  return harness;
}
