// The admin console in a real browser (Debian's Chromium through playwright-core) against the
// real server: sign-in, tenants, credentials (secret shown once, verified, revoked), the SMTP
// vault, audit, the other pages, and the clear messages for wrong password, expiry and "forbidden".
import { randomUUID } from 'node:crypto';
import { authenticator } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { type Browser, buildConsole, bundleSizes, ensureChromium, launchBrowser, screenshot, watchErrors } from './browser.js';

const PASSWORD = 'console test password 1';

describe.each(DIALECTS)('admin console on %s', (dialect) => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let adminEmail: string;
  let adminToken: string;
  let verifier: string;
  const tenantName = `Console Co ${randomUUID().slice(0, 6)}`;
  const domain = `console-${randomUUID().slice(0, 6)}.test`;
  const loginAddress = `alice@${domain}`;
  let tenantId = '';
  let secret = '';

  let vaultRevealed = false;

  const consoleUrl = (hash = '') => `${server.url}/console${hash ? `#${hash}` : ''}`;
  const tab = (name: string) => page.getByRole('navigation', { name: 'Tenant pages' }).getByRole('link', { name, exact: true });
  /** In-app navigation (a reload would forget the in-memory session, by design). */
  const go = (hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);

  async function signIn(target: Page, password = PASSWORD): Promise<void> {
    await target.getByLabel('Email').fill(adminEmail);
    await target.getByLabel('Password').fill(password);
    await target.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    ensureChromium();
    buildConsole();
    server = await startTestServer(dialect);
    adminEmail = `console-${randomUUID().slice(0, 8)}@relaykey.test`;
    await server.cliJson(['admin', 'create', '--email', adminEmail, '--password', PASSWORD]);
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } });
    adminToken = login.body.token;
    verifier = (await call(server, 'POST', '/api/v1/verifier-tokens', { token: adminToken, body: { name: 'console test' } })).body.token;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the console with a strict CSP, no inline code and a small bundle', async () => {
    const response = await fetch(consoleUrl());
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="\/console\/assets\//);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const asset = html.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
    const script = await fetch(`${server.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('content-security-policy')).toBe(csp);
    expect((await fetch(`${server.url}/console/`)).headers.get('x-frame-options')).toBe('DENY');
    const missing = await fetch(`${server.url}/console/assets/nope.js`);
    expect(missing.status).toBe(404);

    const sizes = bundleSizes();
    console.log(
      `[console] bundle: JS ${(sizes.js / 1024).toFixed(1)} kB (${(sizes.jsGzip / 1024).toFixed(1)} kB gzipped), CSS ${(sizes.cssGzip / 1024).toFixed(1)} kB gzipped`,
    );
    expect(sizes.jsGzip).toBeGreaterThan(1000);
    expect(sizes.jsGzip).toBeLessThan(300 * 1024);
  });

  it('is interactive within 1 s on loopback, and a wrong password gets a clear message', async () => {
    const started = Date.now();
    await page.goto(consoleUrl());
    await page.waitForSelector('html[data-ready]');
    const interactiveMs = Date.now() - started;
    // Browser-side expressions are strings: the test project is compiled without DOM types.
    const inPage = (await page.evaluate(
      `({ ready: Number(document.documentElement.dataset.ready), domInteractive: Math.round(performance.getEntriesByType('navigation')[0].domInteractive) })`,
    )) as { ready: number; domInteractive: number };
    console.log(
      `[console] interactive after ${interactiveMs} ms (wall clock, goto to rendered sign-in form); in page: rendered at ${inPage.ready} ms, domInteractive ${inPage.domInteractive} ms`,
    );
    expect(interactiveMs).toBeLessThan(1000);
    expect(await page.evaluate(`document.activeElement?.getAttribute('name')`)).toBe('email');

    await signIn(page, 'not the right password');
    const message = page.getByTestId('sign-in-error');
    await message.waitFor();
    expect(await message.textContent()).toMatch(/email or password is wrong/i);
    await screenshot(page, '01-sign-in-wrong-password');
  });

  it('signs in by keyboard and shows the overview', async () => {
    await page.goto(consoleUrl());
    await page.waitForSelector('html[data-ready]');
    await page.keyboard.type(adminEmail);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByTestId('chain-status').waitFor();
    expect(await page.getByTestId('chain-status').textContent()).toMatch(/intact/);
    // Verification statistics come from another module: shown as "not available yet" until it lands.
    const stats = await call(server, 'GET', '/api/v1/stats/verifications?minutes=60', { token: adminToken });
    if (stats.status === 404) await page.getByTestId('unavailable').first().waitFor();
    else await page.getByTestId('chart').waitFor();
    await screenshot(page, '02-overview');
  });

  it('draws the verification chart and top denied clients from the stats contract', async () => {
    const real = await call(server, 'GET', '/api/v1/stats/verifications?minutes=60', { token: adminToken });
    if (real.status === 404) {
      // The stats module is on another branch: answer its agreed shape from the test (in the
      // browser only) so the chart is still drawn and checked; the real endpoint replaces this.
      console.warn('\n*** /api/v1/stats/verifications is not on this branch: the chart is checked against the agreed response shape served by the test ***\n');
      const start = Date.now() - 60 * 60_000;
      const series = Array.from({ length: 60 }, (_, i) => ({
        minute: new Date(start + i * 60_000).toISOString().slice(0, 16) + ':00.000Z',
        allowed: (i * 7) % 23,
        denied: i % 10 === 0 ? 9 : i % 3,
      }));
      await page.route('**/api/v1/stats/verifications?*', (route) =>
        route.fulfill({
          json: {
            series,
            top_denied_clients: [
              { ip: '203.0.113.9', denied: 42 },
              { ip: '198.51.100.4', denied: 7 },
            ],
          },
        }),
      );
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('chart').waitFor();
    expect(await page.locator('svg[data-testid="chart"] rect.bar-allowed').count()).toBeGreaterThan(0);
    expect(await page.locator('svg[data-testid="chart"] rect.bar-denied').count()).toBeGreaterThan(0);
    expect(await page.locator('figcaption').textContent()).toMatch(/Allowed: \d+.*Denied: \d+/);
    if (real.status === 404) await page.getByRole('cell', { name: '203.0.113.9' }).waitFor();
    await screenshot(page, '02b-overview-chart');
    await page.unrouteAll();
  });

  it('creates a tenant, edits its settings and adds a login', async () => {
    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill(tenantName);
    await dialog.getByLabel(/^Domain/).fill(domain);
    await dialog.getByLabel('Webmail URL').fill(`https://mail.${domain}`);
    await dialog.getByRole('button', { name: 'Create tenant' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Tenant ${tenantName} created` })
      .waitFor();
    await page.getByLabel('Search tenants').fill(tenantName);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: tenantName }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await screenshot(page, '03-tenants');

    await page.getByRole('link', { name: `Open ${tenantName}` }).click();
    await page.getByRole('heading', { name: /Settings/, level: 1 }).waitFor();
    tenantId = page.url().match(/tenants\/([0-9a-f-]{36})/)?.[1] ?? '';
    expect(tenantId).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByLabel('Webmail URL').fill(`https://webmail.${domain}`);
    const smtp = page.getByRole('group', { name: 'SMTP connection' });
    await smtp.getByLabel('Server name').fill(`smtp.${domain}`);
    await smtp.getByLabel('Mail backend (ip:port)').fill('127.0.0.1:2525');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    const saved = await call(server, 'GET', `/api/v1/tenants/${tenantId}`, { token: adminToken });
    expect(saved.body).toMatchObject({ webmail_url: `https://webmail.${domain}`, mail_backends: { smtp: '127.0.0.1:2525' } });
    expect(saved.body.connection_info.smtp.server_name).toBe(`smtp.${domain}`);
    await screenshot(page, '04-tenant-settings');

    await tab('Logins').click();
    await page.getByLabel('Mailbox address').fill(loginAddress);
    await page.getByRole('button', { name: 'Add login' }).click();
    await page.getByRole('cell', { name: loginAddress, exact: true }).waitFor();
    await screenshot(page, '05-logins');
  });

  it('creates a credential, shows its secret once, and the secret verifies until it is revoked', async () => {
    await page.getByRole('link', { name: `Credentials of ${loginAddress}` }).click();
    await page.getByRole('heading', { name: new RegExp(`Credentials of ${loginAddress}`), level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Laptop');
    await dialog.getByLabel('imap').check();
    await dialog.getByRole('button', { name: 'Create credential' }).click();

    const secretDialog = page.getByRole('dialog', { name: /Credential Laptop created/ });
    await secretDialog.waitFor();
    expect(await secretDialog.textContent()).toMatch(/shown only once/);
    secret = await secretDialog.getByTestId('secret').inputValue();
    expect(secret).toMatch(/^rk_[0-9A-Za-z]{38}$/);
    await secretDialog.getByRole('button', { name: 'Copy secret' }).click();
    await secretDialog.getByText(/Copied to the clipboard|Copy failed/).waitFor();
    await screenshot(page, '06-secret-dialog');
    await secretDialog.getByRole('button', { name: 'I have stored it' }).click();
    await secretDialog.waitFor({ state: 'detached' });
    // Shown once: nowhere on the page afterwards.
    expect(await page.content()).not.toContain(secret);

    const ok = await verify(server, verifier, { username: loginAddress, password: secret, protocol: 'smtp' });
    expect(ok.status).toBe(200);
    expect(ok.body.valid).toBe(true);

    const row = page.locator('tr[data-credential="Laptop"]');
    expect(await row.getByTestId('status').textContent()).toBe('active');
    expect(await row.textContent()).toContain('smtp, imap');
    await row.getByRole('button', { name: 'Hold' }).click();
    await row.getByTestId('status').filter({ hasText: 'held' }).waitFor();
    await row.getByRole('button', { name: 'Unhold' }).click();
    await row.getByTestId('status').filter({ hasText: 'active' }).waitFor();

    await row.getByRole('button', { name: 'Revoke' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke Laptop' });
    await revoke.getByLabel('Reason').fill('console test revoke');
    await revoke.getByRole('button', { name: 'Revoke credential' }).click();
    await row.getByTestId('status').filter({ hasText: 'revoked' }).waitFor();
    expect(await row.textContent()).toContain('console test revoke');
    await screenshot(page, '07-credentials');

    const denied = await verify(server, verifier, { username: loginAddress, password: secret, protocol: 'smtp' });
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ valid: false });
  });

  it('rotates a credential with a grace period and shows the sessions view', async () => {
    await tab('Credentials').click();
    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Phone');
    await dialog.getByRole('radio', { name: 'Role' }).check();
    await dialog.getByRole('combobox', { name: 'Role' }).selectOption('send_only');
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    const first = await page.getByTestId('secret').inputValue();
    await page.getByRole('button', { name: 'I have stored it' }).click();

    const row = page.locator('tr[data-credential="Phone"]').first();
    expect(await row.textContent()).toContain('role send_only');
    await row.getByRole('button', { name: 'Rotate' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate Phone' });
    await rotate.getByLabel('Grace period (seconds)').fill('600');
    await rotate.getByRole('button', { name: 'Rotate now' }).click();
    const fresh = await page
      .getByRole('dialog', { name: /New secret for Phone/ })
      .getByTestId('secret')
      .inputValue();
    expect(fresh).not.toBe(first);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    // Both work during the grace period.
    for (const password of [first, fresh]) {
      expect((await verify(server, verifier, { username: '', password, protocol: 'api:write' })).status).toBe(200);
    }

    await page.locator('tr[data-credential="Phone"]').first().getByRole('button', { name: 'Sessions' }).click();
    const sessions = page.getByRole('dialog', { name: /Sessions of Phone/ });
    await sessions.locator('table, [data-testid="unavailable"]').first().waitFor();
    const api = await call(server, 'GET', `/api/v1/tenants/${tenantId}/credentials/${randomUUID()}/sessions`, { token: adminToken });
    if (api.status === 404 && /no route/.test(api.body?.error?.message ?? '')) {
      expect(await sessions.getByTestId('unavailable').textContent()).toMatch(/not available on this server yet/);
    }
    await screenshot(page, '08-sessions');
    await page.keyboard.press('Escape');
    await sessions.waitFor({ state: 'detached' });
  });

  it('reveals the vaulted SMTP password after re-authentication, with a live countdown', async (context) => {
    await tab('SMTP account').click();
    await page.getByRole('heading', { name: /SMTP account/, level: 1 }).waitFor();
    const probe = await call(server, 'GET', `/api/v1/platform-admin/tenants/${tenantId}/smtp-credentials/audit`, { token: adminToken });
    if (probe.status === 404 && /no route/.test(probe.body?.error?.message ?? '')) {
      await page.getByTestId('unavailable').waitFor();
      expect(await page.getByTestId('unavailable').textContent()).toMatch(/not available on this server yet/);
      await screenshot(page, '09-smtp-unavailable');
      console.warn(
        '\n*** SKIPPED: the vault reveal + countdown browser test. The seed 000 endpoints (/api/v1/platform-admin/.../smtp-credentials) are not on this branch yet; the console shows "not available" instead. It runs once the vault branch is merged. ***\n',
      );
      context.skip();
      return;
    }
    await page.getByRole('button', { name: 'Reveal SMTP password' }).click();
    const reauth = page.getByRole('dialog', { name: 'Confirm it is you' });
    await reauth.getByLabel('Your password').fill('wrong password here');
    await reauth.getByRole('button', { name: 'Confirm and reveal' }).click();
    await reauth.getByRole('alert').filter({ hasText: /wrong/ }).waitFor();
    await reauth.getByLabel('Your password').fill(PASSWORD);
    await reauth.getByRole('button', { name: 'Confirm and reveal' }).click();
    const password = page.getByTestId('smtp-password');
    await password.waitFor();
    expect((await password.inputValue()).length).toBeGreaterThan(8);
    const countdown = page.getByTestId('countdown');
    const before = Number(await countdown.getAttribute('data-seconds'));
    expect(before).toBeGreaterThan(60);
    await expect.poll(async () => Number(await countdown.getAttribute('data-seconds')), { timeout: 5_000 }).toBeLessThan(before);
    expect(await countdown.textContent()).toMatch(/Checkout expires in \d+:\d\d/);
    await screenshot(page, '09-smtp-revealed');
    const shown = await password.inputValue();
    await page.getByRole('button', { name: 'Hide password' }).click();
    await password.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(shown);
    vaultRevealed = true;

    await page.getByRole('button', { name: 'Emergency reset…' }).click();
    const reset = page.getByRole('dialog', { name: 'Emergency reset' });
    await reset.getByLabel('Incident ID').fill('INC-CONSOLE-1');
    await reset.getByLabel('Reason').fill('console test');
    const confirm = reset.getByRole('button', { name: 'Reset the SMTP password' });
    await reset.getByLabel(/Type the tenant name/).fill('not the name');
    expect(await confirm.isDisabled()).toBe(true);
    await reset.getByLabel(/Type the tenant name/).fill(tenantName);
    expect(await confirm.isEnabled()).toBe(true);
    await confirm.click();
    await page.getByTestId('smtp-password').waitFor();
    await page.getByTestId('countdown').waitFor();
    await screenshot(page, '09b-smtp-emergency-reset');
    await page.getByRole('button', { name: 'Hide password' }).click();
  });

  it('drives the SMTP page through the seed 000 response shapes until the vault lands', async (context) => {
    const probe = await call(server, 'GET', `/api/v1/platform-admin/tenants/${tenantId}/smtp-credentials/audit`, { token: adminToken });
    if (!(probe.status === 404 && /no route/.test(probe.body?.error?.message ?? ''))) {
      context.skip(); // the real vault is here: the test above covers the page against it
      return;
    }
    console.warn(
      '\n*** The vault endpoints are not on this branch: the SMTP page is checked against seed 000 response shapes served by the test (re-authentication is real) ***\n',
    );
    const plain = 'Sm7p-pässwörd-€';
    const seen: { reauth?: string; rotateReason?: string } = {};
    let revealedAt = '';
    const vaultAudit = () => ({
      events: [
        ...(revealedAt ? [{ id: 'r1', event: 'smtp_credentials_rotated', user_id: 'system', timestamp: new Date().toISOString(), severity: 'info' }] : []),
        { id: 'a1', event: 'smtp_credentials_accessed', user_id: 'admin', timestamp: new Date(Date.now() - 60_000).toISOString(), severity: 'info' },
      ],
      total: revealedAt ? 2 : 1,
      page: 1,
      per_page: 50,
    });
    await page.route(
      (url) => url.pathname.startsWith('/api/v1/platform-admin/'),
      async (route) => {
        const request = route.request();
        const path = new URL(request.url()).pathname;
        if (path.endsWith('/smtp-credentials/audit')) return route.fulfill({ json: vaultAudit() });
        if (path.endsWith('/smtp-credentials/rotate')) {
          seen.rotateReason = request.postDataJSON().reason;
          return route.fulfill({
            json: { success: true, rotated_at: new Date().toISOString(), next_rotation: new Date(Date.now() + 180 * 86_400_000).toISOString() },
          });
        }
        if (path.endsWith('/smtp-credentials') && request.method() === 'GET') {
          seen.reauth = request.headers()['x-reauth-token'];
          revealedAt = new Date().toISOString();
          return route.fulfill({
            json: {
              username: `admin@${domain}`,
              password: Buffer.from(plain, 'utf8').toString('base64'),
              webmail_url: `https://webmail.${domain}`,
              created_at: new Date(Date.now() - 86_400_000).toISOString(),
              last_rotated: new Date(Date.now() - 3_600_000).toISOString(),
              next_rotation: new Date(Date.now() + 180 * 86_400_000).toISOString(),
              expires_at: new Date(Date.now() + 4_000).toISOString(),
            },
          });
        }
        return route.fulfill({ status: 404, json: { error: { code: 'NOT_FOUND', message: `no route for ${request.method()} ${path}`, request_id: 'test' } } });
      },
    );
    await tab('Logins').click();
    await tab('SMTP account').click();
    await page.getByRole('button', { name: 'Reveal SMTP password' }).click();
    const reauth = page.getByRole('dialog', { name: 'Confirm it is you' });
    await reauth.getByLabel('Your password').fill('wrong password here');
    await reauth.getByRole('button', { name: 'Confirm and reveal' }).click();
    await reauth.getByRole('alert').filter({ hasText: /wrong/ }).waitFor();
    await reauth.getByLabel('Your password').fill(PASSWORD);
    await reauth.getByRole('button', { name: 'Confirm and reveal' }).click();
    const password = page.getByTestId('smtp-password');
    await password.waitFor();
    expect(seen.reauth).toMatch(/^rkr_/); // a real re-authentication token from the server
    expect(await password.inputValue()).toBe(plain); // base64 decoded as UTF-8
    expect(await page.getByTestId('smtp-username').textContent()).toBe(`admin@${domain}`);
    expect(await page.getByTestId('countdown').textContent()).toMatch(/Checkout expires in 0:0\d/);
    await screenshot(page, '09c-smtp-revealed-contract');
    // The countdown runs out: the password disappears, then the rotation shows.
    await page.getByTestId('checkout-ended').waitFor();
    expect(await page.content()).not.toContain(plain);
    await page.getByTestId('rotated').waitFor();
    await screenshot(page, '09d-smtp-rotated-contract');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('form', { name: 'Rotate the SMTP password' }).getByLabel('Reason').fill('quarterly review');
    await page.getByRole('button', { name: 'Rotate SMTP password' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Rotated at/ })
      .waitFor();
    expect(seen.rotateReason).toBe('quarterly review');
    await page.unrouteAll();
  });

  it('finds every step in the audit view, with the chain verified, and filters it', async () => {
    await tab('Audit').click();
    await page.getByRole('heading', { name: /^Audit/, level: 1 }).waitFor();
    await page.getByTestId('chain-status').waitFor();
    expect(await page.getByTestId('chain-status').textContent()).toMatch(/Audit chain intact/);
    for (const event of [
      'tenant.created',
      'tenant.updated',
      'login.created',
      'credential.created',
      'credential.held',
      'credential.revoked',
      'credential.rotated',
    ]) {
      await page.locator(`tr[data-event="${event}"]`).first().waitFor();
    }
    if (vaultRevealed) await page.locator('tr[data-event*="smtp"]').first().waitFor();
    await screenshot(page, '10-audit');

    await page.getByLabel('Event', { exact: true }).fill('credential.revoked');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/event=credential.revoked/);
    // The filtered page replaces the previous rows once it arrives. (Polling from the test:
    // page.waitForFunction would need 'unsafe-eval', which the console's CSP rightly refuses.)
    const rowEvents = () => page.locator('tbody tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    await expect.poll(async () => [...new Set(await rowEvents())], { timeout: 10_000 }).toEqual(['credential.revoked']);
    const shown = await page.locator('tbody tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(['credential.revoked']));
    expect(await page.locator('tbody').textContent()).toContain('console test revoke');
    await page.getByLabel('Severity').selectOption('critical');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('Nothing here yet.').waitFor();

    // The platform trail holds the sign-ins (wrong password included) and the re-authentication.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Platform audit', level: 1 }).waitFor();
    await page.locator('tr[data-event="admin.login"]').first().waitFor();
    await page.locator('tr[data-event="admin.login_failed"]').first().waitFor();
    expect(await page.getByTestId('chain-status').textContent()).toMatch(/intact/);
    await screenshot(page, '11-platform-audit');
  });

  it('shows webhooks and jobs, or says clearly that they are not available yet', async () => {
    await go(`/tenants/${tenantId}/webhooks`);
    await page.getByRole('heading', { name: /Webhooks/, level: 1 }).waitFor();
    await page
      .getByTestId('unavailable')
      .or(page.getByRole('table', { name: 'Webhook endpoints' }))
      .first()
      .waitFor();
    await screenshot(page, '12-webhooks');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await page
      .getByTestId('unavailable')
      .or(page.getByRole('table', { name: 'Jobs and their last run' }))
      .first()
      .waitFor();
    await screenshot(page, '13-jobs');
  });

  it('lists webhook endpoints, deliveries and redelivers; shows job runs (stand-in answers until those modules land)', async (context) => {
    const hooks = await call(server, 'GET', `/api/v1/tenants/${tenantId}/webhooks`, { token: adminToken });
    const jobs = await call(server, 'GET', '/api/v1/jobs', { token: adminToken });
    if (hooks.status !== 404 || jobs.status !== 404) {
      context.skip(); // the real modules are merged: the page test above runs against them
      return;
    }
    console.warn('\n*** Webhooks and jobs are not on this branch: their pages are checked against stand-in answers in the agreed paths ***\n');
    const calls: string[] = [];
    const at = new Date().toISOString();
    await page.route(
      (url) => /\/webhooks|\/webhook-deliveries|\/api\/v1\/jobs/.test(url.pathname),
      async (route) => {
        const request = route.request();
        const path = new URL(request.url()).pathname;
        calls.push(`${request.method()} ${path}`);
        if (path.endsWith('/webhooks'))
          return route.fulfill({
            json: { data: [{ id: 'wh_1', url: 'https://hooks.example.test/rk', events: ['credential.revoked'], enabled: true, created_at: at }] },
          });
        if (path.endsWith('/deliveries'))
          return route.fulfill({
            json: { data: [{ id: 'dl_1', event_type: 'credential.revoked', status: 'failed', attempts: 3, response_status: 500, created_at: at }] },
          });
        if (path.endsWith('/redeliver')) return route.fulfill({ status: 202, json: { id: 'dl_2', status: 'pending' } });
        if (path.endsWith('/jobs/runs'))
          return route.fulfill({ json: { data: [{ id: 'run_1', job: 'checkout-expiry', started_at: at, finished_at: at, outcome: 'ok', items: 2 }] } });
        if (path.endsWith('/jobs'))
          return route.fulfill({
            json: { data: [{ name: 'checkout-expiry', interval_ms: 30_000, last_run: { started_at: at, finished_at: at, outcome: 'ok', items: 2 } }] },
          });
        return route.fallback();
      },
    );
    await go(`/tenants/${tenantId}/logins`);
    await tab('Webhooks').click();
    await page.getByRole('cell', { name: 'https://hooks.example.test/rk' }).waitFor();
    await page.getByRole('button', { name: 'Deliveries' }).click();
    await page.getByRole('cell', { name: 'failed' }).waitFor();
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').filter({ hasText: 'queued again' }).waitFor();
    expect(calls).toContain(`POST /api/v1/tenants/${tenantId}/webhook-deliveries/dl_1/redeliver`);
    await screenshot(page, '12b-webhooks-deliveries');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('table', { name: 'Jobs and their last run' }).getByRole('cell', { name: 'checkout-expiry' }).waitFor();
    await page.getByRole('table', { name: 'Recent job runs' }).getByRole('cell', { name: 'checkout-expiry' }).waitFor();
    await screenshot(page, '13b-jobs-runs');
    await page.unrouteAll();
  });

  it('stays readable on a narrow window', async () => {
    await page.setViewportSize({ width: 380, height: 820 });
    await go(`/tenants/${tenantId}/credentials`);
    await page.locator('tr[data-credential="Laptop"]').waitFor();
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(page, '14-narrow-credentials');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('ends an expired session visibly and signs out', async () => {
    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('cell', { name: tenantName }).waitFor();
    await server.sql('UPDATE admin_sessions SET expires_at = ?', ['2000-01-01T00:00:00.000Z']);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    const message = page.getByTestId('session-message');
    await message.waitFor();
    expect(await message.textContent()).toMatch(/session has expired/i);
    await screenshot(page, '15-session-expired');

    await signIn(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('session-message').filter({ hasText: 'You are signed out.' }).waitFor();
  });

  it('tells a tenant manager clearly when an action is not allowed', async () => {
    // The expiry test ended every admin session: sign in again over the API.
    adminToken = (await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } })).body.token;
    const bearer = await call(server, 'POST', `/api/v1/tenants/${tenantId}/tokens`, { token: adminToken, body: { kind: 'bearer', name: 'console manager' } });
    expect(bearer.status).toBe(201);
    await page.getByLabel('Tenant manager (API token)').check();
    await page.getByLabel('Tenant bearer token').fill(bearer.body.token);
    await page.getByLabel('Tenant ID').fill(tenantId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Credentials/, level: 1 }).waitFor();
    expect(await page.getByTestId('who').textContent()).toContain(tenantName);
    await tab('Settings').click();
    await page.getByLabel('Webmail URL').fill(`https://manager.${domain}`);
    await page.getByRole('button', { name: 'Save settings' }).click();
    const error = page.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^Not allowed: .*does not permit this action/);
    await screenshot(page, '16-forbidden');
    // Nothing in the page looks like a stack trace.
    expect(await page.locator('body').textContent()).not.toMatch(/\bat .+:\d+:\d+|TypeError|undefined/);
  });

  it('asks for the authenticator code when the admin has TOTP', async () => {
    const totpSecret = authenticator.generateSecret();
    const email = `totp-${randomUUID().slice(0, 8)}@relaykey.test`;
    await server.cliJson(['admin', 'create', '--email', email, '--password', PASSWORD, '--totp-secret', totpSecret]);
    // A fresh load: the in-memory session of the previous step is gone.
    await page.goto(consoleUrl());
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByTestId('sign-in-error')
      .filter({ hasText: /authenticator app/ })
      .waitFor();
    expect(await page.evaluate(`document.activeElement?.getAttribute('name')`)).toBe('totp');
    await page.getByLabel('Authenticator code').fill('000000' === authenticator.generate(totpSecret) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByTestId('sign-in-error')
      .filter({ hasText: /authenticator code is wrong/ })
      .waitFor();
    // A code is valid for its 30-second step only: do not type one that is about to roll over.
    const leftInStep = 30_000 - (Date.now() % 30_000);
    if (leftInStep < 3_000) await new Promise((resolve) => setTimeout(resolve, leftInStep + 250));
    await page.getByLabel('Authenticator code').fill(authenticator.generate(totpSecret));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('heading', { name: 'Overview', level: 1 })
      .waitFor()
      .catch(async (error) => {
        throw new Error(`TOTP sign-in did not reach the overview; the page says: ${await page.locator('body').textContent()}`, { cause: error });
      });
    expect(await page.getByTestId('who').textContent()).toBe(email);
  });

  it('logged no script errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
