// Issue 27, the console's second pass, in Chromium against the real server: the show-once secret
// cannot be discarded by a reflex key, destructive actions ask first and show that they run,
// validation errors speak the operator's language, states are named for what they do, a tenant
// token sees no admin-only page, deep links open the app, assets are compressed and there is a
// favicon. Every page visited is screenshotted at 1440x900 and 390x844 and scanned with axe-core.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { seriousViolations } from './a11y.js';
import { type Browser, buildConsole, ensureChromium, launchBrowser, screenshot, watchErrors } from './browser.js';

const PASSWORD = 'second pass password 1';
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

describe.each(DIALECTS)('console second pass on %s', (dialect) => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const failedResponses: string[] = [];
  const a11y: string[] = [];
  let adminEmail: string;
  let adminToken: string;
  const tenantName = `Second Pass ${randomUUID().slice(0, 6)}`;
  const domain = `pass-${randomUUID().slice(0, 6)}.test`;
  let tenantId = '';
  const ids: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  let verifier = '';
  const receiver = new WebhookReceiver();
  let webhookId = '';

  const url = (path = '/console') => `${server.url}${path}`;
  const go = (hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  const api = (method: string, path: string, body?: unknown) => call(server, method, path, { token: adminToken, ...(body !== undefined ? { body } : {}) });

  /** Screenshots at both viewports (checked non-blank) and an axe scan of what is shown. */
  async function capture(name: string): Promise<void> {
    for (const [label, size] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(size);
      await screenshot(page, `27-${name}-${label}`);
      for (const v of await seriousViolations(page)) a11y.push(`${name} (${label}): ${v}`);
    }
    await page.setViewportSize(DESKTOP);
  }

  async function signIn(): Promise<void> {
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    ensureChromium();
    buildConsole();
    server = await startTestServer(dialect, { env: { RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8', RELAYKEY_JOBS: 'off' } });
    await receiver.start();
    adminEmail = `pass-${randomUUID().slice(0, 8)}@relaykey.test`;
    await server.cliJson(['admin', 'create', '--email', adminEmail, '--password', PASSWORD]);
    adminToken = (await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } })).body.token;
    const tenant = await api('POST', '/api/v1/tenants', { name: tenantName, domain, webmail_url: `https://mail.${domain}` });
    expect(tenant.status, tenant.text).toBe(201);
    tenantId = tenant.body.id;
    const create = async (name: string) => {
      const created = await api('POST', `/api/v1/tenants/${tenantId}/credentials`, { name, scopes: ['smtp'] });
      expect(created.status, created.text).toBe(201);
      ids[name] = created.body.id;
      secrets[name] = created.body.secret;
    };
    for (const name of ['Live', 'Held', 'Expired', 'Rotated']) await create(name);
    expect((await api('POST', `/api/v1/tenants/${tenantId}/credentials/${ids.Held}/hold`)).status).toBe(200);
    // An expiry in the past cannot be set over the API: age the key in the database.
    await server.sql('UPDATE credentials SET expires_at = ? WHERE id = ?', ['2001-01-01T00:00:00.000Z', ids.Expired]);
    const rotated = await api('POST', `/api/v1/tenants/${tenantId}/credentials/${ids.Rotated}/rotate`, { grace_period_seconds: 3600 });
    expect(rotated.status, rotated.text).toBe(201);
    ids.RotatedNew = rotated.body.id;
    // A webhook endpoint whose receiver fails: its delivery is retried later.
    const hook = await api('POST', `/api/v1/tenants/${tenantId}/webhooks`, { url: receiver.url });
    expect(hook.status, hook.text).toBe(201);
    webhookId = hook.body.id;
    receiver.secret = hook.body.secret;
    receiver.mode = 'fail';
    await create('Webhook probe');
    await server.runtime.scheduler.run('webhook-delivery');

    verifier = (await api('POST', '/api/v1/verifier-tokens', { name: 'second pass' })).body.token;
    expect((await api('PATCH', `/api/v1/tenants/${tenantId}`, { connection_info: { smtp: { server_name: `smtp.${domain}` } } })).status).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    page.on('response', (response: Response) => {
      if (response.status() === 404 && !response.url().includes('/api/')) failedResponses.push(`${response.status()} ${response.url()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await receiver.stop();
    await server?.close();
  });

  it('serves assets compressed, has a favicon, and a deep link without the hash opens the app (problems 10, 11)', async () => {
    const index = await fetch(url('/console'), { headers: { 'accept-encoding': 'gzip' } });
    // fetch decompresses; the header says what was sent.
    expect(index.headers.get('content-encoding')).toBe('gzip');
    const html = await index.text();
    const script = html.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1] ?? '';
    const icon = html.match(/rel="icon"[^>]*href="([^"]+)"/)?.[1] ?? '';
    expect(icon).toMatch(/^\/console\/assets\/favicon-.+\.svg$/);
    for (const [encoding, expected] of [
      ['br, gzip', 'br'],
      ['gzip', 'gzip'],
      ['identity', null],
    ] as const) {
      const asset = await fetch(url(script), { headers: { 'accept-encoding': encoding } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-encoding')).toBe(expected);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    }
    const favicon = await fetch(url(icon));
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toMatch(/image\/svg\+xml/);

    // /console/tenants (no hash) is the app, and opens the Tenants page after sign-in.
    const deep = await fetch(url('/console/tenants'));
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toMatch(/text\/html/);
    expect(deep.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(url('/console/assets/missing.js'))).status).toBe(404);
    await page.goto(url('/console/tenants'));
    await page.waitForSelector('html[data-ready]');
    expect(page.url()).toBe(url('/console#/tenants'));
    await signIn();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    // Every load so far: no 404 (the favicon included).
    expect(failedResponses).toEqual([]);
    await capture('tenants');
  });

  it('keeps the session over a reload, warns before it ends, and signing in again keeps the page (problem 9)', async () => {
    await go(`/tenants/${tenantId}/webhooks`);
    await page.getByLabel('Endpoint URL').fill('https://half.typed.example/hook');
    await page.reload();
    await page.waitForSelector('html[data-ready]');
    expect(await page.getByTestId('who').textContent()).toBe(adminEmail);
    await page.getByRole('heading', { name: /Webhooks/, level: 1 }).waitFor();
    // Two minutes before the end, a warning (the stored expiry moved close, then a reload reads it).
    await page.evaluate(`(() => {
      const stored = JSON.parse(sessionStorage.getItem('relaykey.session'));
      stored.expiresAt = new Date(Date.now() + 90000).toISOString();
      sessionStorage.setItem('relaykey.session', JSON.stringify(stored));
    })()`);
    await page.reload();
    await page.getByTestId('session-warning').waitFor();
    expect(await page.getByTestId('session-warning').textContent()).toMatch(/Your session ends at/);
    await capture('session-warning');
    // The server ends the session: the page stays, with what was typed, under a sign-in dialog
    // whose email is prefilled.
    await page.getByLabel('Endpoint URL').fill('https://half.typed.example/hook');
    await server.sql('UPDATE admin_sessions SET expires_at = ?', ['2000-01-01T00:00:00.000Z']);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const again = page.getByRole('dialog', { name: 'Sign in again' });
    await again.waitFor();
    expect(await again.getByLabel('Email').inputValue()).toBe(adminEmail);
    expect(await page.evaluate(`document.activeElement?.getAttribute('name')`)).toBe('password');
    await capture('sign-in-again');
    await again.getByLabel('Password').fill(PASSWORD);
    await again.getByRole('button', { name: 'Sign in' }).click();
    await again.waitFor({ state: 'detached' });
    expect(await page.getByLabel('Endpoint URL').inputValue()).toBe('https://half.typed.example/hook');
    await page.getByLabel('Endpoint URL').fill('');
    adminToken = (await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } })).body.token;
  });

  it('keeps the show-once secret until the operator says it is stored (problem 2)', async () => {
    await go(`/tenants/${tenantId}/credentials`);
    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Reflex');
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    const secretDialog = page.getByRole('dialog', { name: /Credential Reflex created/ });
    await secretDialog.waitFor();
    // A tenant-wide key: the dialog names the user name to type with it (its own ID).
    const listed = await api('GET', `/api/v1/tenants/${tenantId}/credentials?per_page=200`);
    const reflexId = listed.body.data.find((c: { name: string }) => c.name === 'Reflex').id;
    expect(await secretDialog.getByTestId('secret-username').textContent()).toContain(reflexId);
    // Focus starts on the secret itself, not on a button that closes.
    expect(await page.evaluate(`document.activeElement?.dataset.testid`)).toBe('secret');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    expect(await secretDialog.isVisible()).toBe(true);
    await secretDialog.getByTestId('secret-warning').waitFor();
    // aria-disabled (still focusable, so it is announced): forced, as a hurried click would be.
    await secretDialog.getByRole('button', { name: 'I have stored it' }).click({ force: true });
    await secretDialog.getByRole('button', { name: 'Close' }).click();
    expect(await secretDialog.isVisible()).toBe(true);
    expect(await secretDialog.getByTestId('secret').inputValue()).toMatch(/^rk_/);
    // The warning moved focus to the box to tick.
    expect(await page.evaluate(`document.activeElement?.getAttribute('name')`)).toBe('stored');
    await capture('secret-dialog-guarded');
    await secretDialog.getByLabel('I have stored the secret').check();
    await secretDialog.getByRole('button', { name: 'I have stored it' }).click();
    await secretDialog.waitFor({ state: 'detached' });
  });

  it('names states for what they do and filters by held and expired (problem 7)', async () => {
    await go(`/tenants/${tenantId}/credentials`);
    const row = (id: string | undefined) => page.locator(`tr[data-credential-id="${id}"]`);
    await row(ids.RotatedNew).waitFor();
    // Rotated out but still working: "grace", with the time it stops; not a red "revoked".
    expect(await row(ids.Rotated).getByTestId('status').textContent()).toBe('grace');
    expect(await row(ids.Rotated).textContent()).toMatch(/still works until/);
    expect(await row(ids.Expired).getByTestId('status').textContent()).toBe('expired');
    for (const action of ['Hold', 'Unhold', 'Rotate', 'Revoke']) {
      expect(await row(ids.Expired).getByRole('button', { name: action }).count()).toBe(0);
      expect(await row(ids.Rotated).getByRole('button', { name: action }).count()).toBe(0);
    }
    await capture('credentials-states');

    const shown = async () => page.locator('tbody tr[data-credential-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-credential')));
    await page.getByLabel('Status').selectOption('held');
    await expect.poll(shown).toEqual(['Held']);
    await page.getByLabel('Status').selectOption('expired');
    await expect.poll(shown).toEqual(['Expired']);
    await page.getByLabel('Status').selectOption('');
    await row(ids.Live).waitFor();
  });

  it('fits a phone: a one-line header, row actions on screen, chart labels legible (problem 8)', async () => {
    await page.setViewportSize(PHONE);
    try {
      await go('/');
      await page.getByTestId('chart').waitFor();
      const header = (await page.locator('header.top').boundingBox()) ?? { height: 999 };
      expect(header.height).toBeLessThan(PHONE.height * 0.1);
      const tick = (await page.locator('svg[data-testid="chart"] text.tick').first().boundingBox()) ?? { height: 0 };
      expect(tick.height).toBeGreaterThanOrEqual(9);
      await go(`/tenants/${tenantId}/credentials`);
      const actions = page.locator(`tr[data-credential-id="${ids.Live}"] td.actions`);
      await actions.waitFor();
      const box = (await actions.boundingBox()) ?? { x: -1, width: 9999 };
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
      expect((await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number).toBeLessThanOrEqual(1);
      await screenshot(page, '27-phone-credentials');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('offers no action on the vaulted SMTP account that can only fail, and speaks plainly about bad input (problem 6)', async () => {
    const vaulted = page.locator('tbody tr[data-credential-id]').filter({ has: page.getByTestId('vaulted-note') });
    await vaulted.first().waitFor();
    for (const action of ['Hold', 'Rotate', 'Revoke']) expect(await vaulted.first().getByRole('button', { name: action }).count()).toBe(0);
    await vaulted.first().getByRole('link', { name: 'SMTP account', exact: true }).waitFor();

    // A domain the API refuses: the operator reads which field and why, never a regular expression.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Bad domain tenant');
    await dialog.getByLabel(/^Domain/).fill('not a domain!');
    await dialog.getByRole('button', { name: 'Create tenant' }).click();
    const error = dialog.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/not a domain name/);
    expect(await error.textContent()).not.toMatch(/must match|pattern|\^|body\./);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // A mail backend refused by the schema's pattern (the API says `body.mail_backends.smtp must match pattern "^[0-9A-Fa-f:.\[\]]+:\d{1,5}$"`).
    await go(`/tenants/${tenantId}/settings`);
    await page.getByRole('group', { name: 'SMTP connection' }).getByLabel('Mail backend (ip:port)').fill('mail.example:25');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const backend = page.getByTestId('error');
    await backend.waitFor();
    expect(await backend.textContent()).toBe('SMTP mail backend is not an address and port such as 127.0.0.1:2525.');
    await capture('friendly-validation');

    // A link with a broken tenant ID.
    await go('/tenants/not-a-uuid/settings');
    // (Filtered by its text: the settings page's error may still be on screen for a moment.)
    const broken = page.getByTestId('error').filter({ hasText: /address of this page/ });
    await broken.waitFor();
    expect(await broken.textContent()).toMatch(/The address of this page is wrong: the tenant ID in it is not a valid ID/);
    expect(await broken.textContent()).not.toMatch(/params\.|format "uuid"/);
  });

  it('asks before rotating the SMTP password and deleting a webhook, and shows a row action running (problem 3)', async () => {
    const vaultEvents = async () =>
      (await api('GET', `/api/v1/platform-admin/tenants/${tenantId}/smtp-credentials/audit`)).body.events.filter(
        (e: { event: string }) => e.event === 'smtp_credentials_rotated',
      ).length;
    await go(`/tenants/${tenantId}/smtp`);
    await page.getByRole('form', { name: 'Rotate the SMTP password' }).getByLabel('Reason').fill('review');
    await page.getByRole('button', { name: 'Rotate SMTP password' }).click();
    const confirm = page.getByRole('dialog', { name: 'Rotate the SMTP password now?' });
    await confirm.waitFor();
    // Focus on Cancel: a reflex Enter does not rotate.
    expect(await page.evaluate(`document.activeElement?.textContent`)).toBe('Cancel');
    await capture('vault-rotate-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(await vaultEvents()).toBe(0);
    await page.getByRole('button', { name: 'Rotate SMTP password' }).click();
    await confirm.getByRole('button', { name: 'Rotate now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Rotated at/ })
      .waitFor();
    expect(await vaultEvents()).toBe(1);

    await go(`/tenants/${tenantId}/webhooks`);
    const endpoint = page.locator(`tr[data-webhook="${webhookId}"]`);
    await endpoint.getByRole('button', { name: 'Delete' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete this webhook endpoint?' });
    await ask.getByRole('button', { name: 'Cancel' }).click();
    expect((await api('GET', `/api/v1/tenants/${tenantId}/webhooks`)).body.data.length).toBe(1);

    // A slow hold (the request held back in the browser for a moment): the row says it is running.
    await go(`/tenants/${tenantId}/credentials`);
    const live = page.locator(`tr[data-credential-id="${ids.Live}"]`);
    await live.waitFor();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/hold', async (route) => {
      await released;
      await route.continue();
    });
    await live.getByRole('button', { name: 'Hold' }).click();
    const running = live.getByRole('button', { name: 'Holding…' });
    await running.waitFor();
    expect(await running.isDisabled()).toBe(true);
    expect(await running.getAttribute('aria-busy')).toBe('true');
    release();
    await live.getByTestId('status').filter({ hasText: 'held' }).waitFor();
    await page.unroute('**/hold');
  });

  it('shows a failing webhook delivery as retrying with its next try (problem 7)', async () => {
    await go(`/tenants/${tenantId}/webhooks`);
    await page.locator(`tr[data-webhook="${webhookId}"]`).getByRole('button', { name: 'Deliveries' }).click();
    const listed = await api('GET', `/api/v1/tenants/${tenantId}/webhooks/${webhookId}/deliveries`);
    const failing = listed.body.data.find((d: { attempts: number }) => d.attempts > 0);
    expect(failing).toMatchObject({ status: 'pending' });
    expect(failing.next_attempt_at).not.toBeNull();
    const row = page.locator(`tr[data-delivery="${failing.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('delivery-status').textContent()).toBe('retrying');
    expect(await row.getByTestId('next-retry').textContent()).toMatch(/next try/);
    // The delivery's detail: what came back, when it is tried next, and the payload as sent.
    await row.getByRole('button', { name: 'Details' }).click();
    const detail = page.getByTestId('delivery-detail');
    await detail.waitFor();
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain(`HTTP ${failing.last_status_code}`);
    expect(text).toContain(failing.id);
    expect(text).toContain('"type": "credential.created"');
    expect(text).not.toMatch(/Next attempt—/);
    await capture('webhook-retrying');

    await page.locator(`tr[data-webhook="${webhookId}"]`).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete this webhook endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click();
    await page.locator(`tr[data-webhook="${webhookId}"]`).waitFor({ state: 'detached' });
    expect((await api('GET', `/api/v1/tenants/${tenantId}/webhooks`)).body.data.length).toBe(0);
  });

  it('shows a credential page: ID, how to connect, what it may do, usage; edits it and ends a grace period now', async () => {
    const relay = await api('POST', `/api/v1/tenants/${tenantId}/credentials`, {
      name: 'Relay',
      scopes: ['smtp', 'imap'],
      allowed_networks: ['192.0.2.0/24'],
      allowed_senders: [`@${domain}`],
      sending_limits: { messages_per_hour: 50 },
    });
    expect(relay.status, relay.text).toBe(201);
    const relayId = relay.body.id as string;
    await go(`/tenants/${tenantId}/credentials`);
    await page.getByRole('link', { name: 'Open Relay', exact: true }).click();
    await page.getByRole('heading', { name: /Credential Relay/, level: 1 }).waitFor();
    expect(await page.getByTestId('credential-id').textContent()).toBe(relayId);
    // A tenant-wide key signs in to mail with its own ID as the user name: the page says so, and it works.
    expect(await page.getByTestId('username').textContent()).toBe(relayId);
    const ok = await call(server, 'POST', '/api/v1/verify', {
      token: verifier,
      body: { username: relayId, password: relay.body.secret, protocol: 'imap', client_ip: '192.0.2.7' },
    });
    expect(ok.status, ok.text).toBe(200);
    const connection = page.getByTestId('connection');
    expect(await connection.locator('tr[data-protocol="smtp"]').textContent()).toContain(`smtp.${domain}`);
    expect(await connection.locator('tr[data-protocol]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-protocol')))).toEqual(['smtp', 'imap']);
    expect(await page.getByTestId('access').textContent()).toBe('smtp, imap');
    expect(await page.getByTestId('credential-facts').textContent()).toContain('192.0.2.0/24');
    expect(await page.getByTestId('senders').textContent()).toBe(`@${domain}`);
    expect(await page.getByTestId('limits').textContent()).toBe('Messages per hour: 50');
    await page.getByTestId('usage').waitFor();
    expect(await page.getByTestId('usage').textContent()).toContain('of 50');
    await page.getByRole('button', { name: 'Copy ID' }).click();
    await page.getByText(/ID copied|Copy failed/).waitFor();
    await capture('credential-page');

    // Edit through PATCH: name, a second network, a daily limit.
    const edit = page.getByRole('form', { name: 'Edit credential' });
    await edit.getByLabel('Name', { exact: true }).fill('Relay 2');
    await edit.getByLabel(/Allowed networks/).fill('192.0.2.0/24\n198.51.100.0/24');
    await edit.getByLabel('Messages per day').fill('500');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    const saved = await api('GET', `/api/v1/tenants/${tenantId}/credentials/${relayId}`);
    expect(saved.body).toMatchObject({
      name: 'Relay 2',
      allowed_networks: ['192.0.2.0/24', '198.51.100.0/24'],
      sending_limits: { messages_per_hour: 50, messages_per_day: 500 },
    });
    await page.getByRole('heading', { name: /Credential Relay 2/, level: 1 }).waitFor();
    // The change is in the credential's own audit trail, shown on its page.
    await page.getByRole('table', { name: 'Audit of this credential' }).locator('tr[data-event="credential.updated"]').first().waitFor();

    // The rotated-out key still works in its grace period, until "End grace now".
    const oldWorks = async () =>
      (await call(server, 'POST', '/api/v1/verify', { token: verifier, body: { username: ids.Rotated, password: secrets.Rotated, protocol: 'smtp' } })).status;
    expect(await oldWorks()).toBe(200);
    await go(`/tenants/${tenantId}/credentials/${ids.Rotated}`);
    await page.getByTestId('status').filter({ hasText: 'grace' }).waitFor();
    await page.getByRole('button', { name: 'End grace now' }).click();
    await page.getByRole('dialog', { name: 'End the grace period now?' }).getByRole('button', { name: 'End grace now' }).click();
    await page.getByTestId('status').filter({ hasText: 'revoked' }).waitFor();
    expect((await api('GET', `/api/v1/tenants/${tenantId}/credentials/${ids.Rotated}`)).body.grace_until).toBeNull();
    await expect.poll(oldWorks, { timeout: 5_000 }).toBe(401);
  });

  it('searches, sorts and revokes several credentials at once in the list', async () => {
    for (const name of ['Bulk B', 'Bulk A']) {
      const created = await api('POST', `/api/v1/tenants/${tenantId}/credentials`, { name, scopes: ['smtp'] });
      ids[name] = created.body.id;
    }
    await go(`/tenants/${tenantId}/credentials`);
    await page.getByLabel('Search credentials').fill('bulk');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const names = () => page.locator('tbody tr[data-credential-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-credential')));
    await expect.poll(names).toEqual(['Bulk B', 'Bulk A']);
    await page.getByLabel('Sort by').selectOption('name');
    await expect.poll(names).toEqual(['Bulk A', 'Bulk B']);
    await page.getByLabel('Select Bulk A').check();
    await page.getByLabel('Select Bulk B').check();
    expect(await page.getByTestId('selection').textContent()).toBe('2 selected');
    await capture('credentials-bulk');
    await page.getByRole('button', { name: 'Revoke selected…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke 2 credentials' });
    await dialog.getByLabel('Reason').fill('bulk test');
    await dialog.getByRole('button', { name: 'Revoke 2 credentials' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked 2 of 2 credentials.' }).waitFor();
    for (const name of ['Bulk A', 'Bulk B']) {
      expect((await api('GET', `/api/v1/tenants/${tenantId}/credentials/${ids[name]}`)).body).toMatchObject({ status: 'revoked', revoked_reason: 'bulk test' });
    }
  });

  it('audit: compact rows that expand, actors by email, targets as links, checked filters, a target filter, CSV and JSON export', async () => {
    await go(`/tenants/${tenantId}/audit`);
    const rows = page.locator('tbody tr[data-event]');
    await rows.first().waitFor();
    // Compact: one line per event at desktop width.
    const heights = await rows.evaluateAll((all) => all.map((r) => r.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(48);
    const created = page.locator(`tbody tr[data-event="credential.created"]`).first();
    expect(await created.getByTestId('actor').textContent()).toBe(adminEmail);
    await created.getByRole('button', { expanded: false }).click();
    await page
      .locator('tr.detail')
      .first()
      .getByText(/"name"/)
      .waitFor();
    await capture('audit-expanded');

    // A typo in an event name: the API finds nothing, the console says why.
    const form = page.getByRole('form', { name: 'Filter audit events' });
    await form.getByLabel('Event', { exact: true }).fill('credential.revokd');
    await form.getByRole('button', { name: 'Apply filters' }).click();
    expect(await page.getByTestId('no-match').textContent()).toMatch(/no event named “credential\.revokd”: did you mean “credential\.revoked”\?/);
    // Bad input never reaches the API: the error stands beside its field.
    await form.getByLabel('Event', { exact: true }).fill('Credential Revoked!');
    await form.getByLabel(/^Actor/).fill('nobody@nowhere.test');
    await form.getByLabel('From').fill('2026-05-02T10:00');
    await form.getByLabel('Until').fill('2026-05-01T10:00');
    const before = page.url();
    await form.getByRole('button', { name: 'Apply filters' }).click();
    expect(await page.getByTestId('filter-error-event').textContent()).toMatch(/lower-case/);
    expect(await page.getByTestId('filter-error-actor').textContent()).toBe('No admin has the email nobody@nowhere.test.');
    expect(await page.getByTestId('filter-error-until').textContent()).toMatch(/before “From”/);
    expect(await form.getByLabel('Event', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toBe(before);
    await capture('audit-filter-errors');

    // The actor by email, and the target filter.
    await page.getByRole('button', { name: 'Clear' }).click();
    await page
      .getByRole('form', { name: 'Filter audit events' })
      .getByLabel(/^Actor/)
      .fill(adminEmail);
    await page
      .getByRole('form', { name: 'Filter audit events' })
      .getByLabel('Target ID')
      .fill(ids.Live ?? '');
    await page.getByRole('form', { name: 'Filter audit events' }).getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/target=/);
    const filtered = await api('GET', `/api/v1/tenants/${tenantId}/audit-events?target=${ids.Live}`);
    const expected = filtered.body.data.map((e: { event: string }) => e.event);
    expect(expected).toEqual(expect.arrayContaining(['credential.created', 'credential.held']));
    const shown = () => page.locator('tbody tr[data-event]').evaluateAll((all) => all.map((r) => r.getAttribute('data-event')));
    await expect.poll(shown).toEqual(expected);

    // The target links to the credential's page.
    await page.locator('tbody tr[data-event="credential.held"]').getByTestId('target-link').click();
    await page.getByRole('heading', { name: /Credential Live/, level: 1 }).waitFor();
    await page.goBack();
    await page.locator('tbody tr[data-event="credential.held"]').waitFor();

    // Export what the filter selects, every page of it.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csvText = await readFile((await csv.path()) as string, 'utf8');
    const lines = csvText.trim().split('\r\n');
    expect(lines[0]).toBe('occurred_at,event,severity,actor_type,actor_id,actor,target_type,target_id,client_ip,tenant_id,details');
    expect(lines.length - 1).toBe(filtered.body.pagination.total);
    expect(lines.slice(1).every((line) => line.includes(ids.Live ?? '') && line.includes(adminEmail))).toBe(true);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const exported = JSON.parse(await readFile((await json.path()) as string, 'utf8'));
    expect(exported.events.map((e: { id: string }) => e.id)).toEqual(filtered.body.data.map((e: { id: string }) => e.id));
    expect(exported.filter).toMatchObject({ target: ids.Live });
  });

  it('shows a tenant token only its tenant: no admin page, no admin-only button (problem 10)', async () => {
    const bearer = await api('POST', `/api/v1/tenants/${tenantId}/tokens`, { kind: 'bearer', name: 'second pass manager' });
    expect(bearer.status).toBe(201);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Tenant manager (API token)').check();
    await page.getByLabel('Tenant bearer token').fill(bearer.body.token);
    await page.getByLabel('Tenant ID').fill(tenantId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in again where the admin was (the webhooks of this tenant).
    await page.getByTestId('who').filter({ hasText: tenantName }).waitFor();
    const main = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Overview', 'Tenants', 'Jobs', 'Audit']) expect(await main.getByRole('link', { name, exact: true }).count()).toBe(0);
    for (const hash of ['/tenants', '/jobs', '/audit', `/tenants/${tenantId}/smtp`, `/tenants/${randomUUID()}/credentials`]) {
      await go(hash);
      await page.getByTestId('admin-only').waitFor();
      expect(await page.getByTestId('error').count()).toBe(0);
    }
    await capture('token-admin-only');
    await go(`/tenants/${tenantId}/settings`);
    await page.getByTestId('read-only').waitFor();
    expect(await page.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Assign domain' }).count()).toBe(0);
    expect(await page.getByLabel('Webmail URL').isDisabled()).toBe(true);
    await capture('token-settings-read-only');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('tokens: a tenant bearer token created (shown once), its last use shown, revoked; a verifier token likewise', async () => {
    await page.getByLabel('Platform admin').check();
    await signIn();
    await page.getByTestId('who').filter({ hasText: adminEmail }).waitFor();
    await go(`/tenants/${tenantId}/tokens`);
    const form = page.getByRole('form', { name: 'Create a token' });
    await form.getByLabel('Name').fill('ci script');
    await form.getByRole('button', { name: 'Create token' }).click();
    const dialog = page.getByRole('dialog', { name: /Token ci script created/ });
    const token = await dialog.getByTestId('secret').inputValue();
    await dialog.getByLabel('I have stored the secret').check();
    await dialog.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.content()).not.toContain(token);
    // The token works, and its use shows in the list.
    expect((await call(server, 'GET', `/api/v1/tenants/${tenantId}/credentials`, { token })).status).toBe(200);
    const row = page.locator('tr[data-token="ci script"]');
    await expect
      .poll(async () => {
        await go(`/tenants/${tenantId}/logins`);
        await go(`/tenants/${tenantId}/tokens`);
        await row.waitFor();
        return row.getByTestId('last-used').textContent();
      })
      .not.toBe('—');
    await capture('tokens');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke ci script?' }).getByRole('button', { name: 'Revoke token' }).click();
    await row.getByText('revoked').waitFor();
    await expect.poll(async () => (await call(server, 'GET', `/api/v1/tenants/${tenantId}/credentials`, { token })).status, { timeout: 5_000 }).toBe(401);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access' }).click();
    await page.getByRole('heading', { name: 'Access', level: 1 }).waitFor();
    const verifierForm = page.getByRole('form', { name: 'Create a verifier token' });
    await verifierForm.getByLabel('Name').fill('mx test');
    await verifierForm.getByRole('button', { name: 'Create verifier token' }).click();
    const verifierDialog = page.getByRole('dialog', { name: /Verifier token mx test created/ });
    const verifierSecret = await verifierDialog.getByTestId('secret').inputValue();
    await verifierDialog.getByLabel('I have stored the secret').check();
    await verifierDialog.getByRole('button', { name: 'I have stored it' }).click();
    const check = () =>
      call(server, 'POST', '/api/v1/verify', { token: verifierSecret, body: { username: ids.RotatedNew, password: 'rk_wrong', protocol: 'smtp' } });
    expect((await check()).body).toEqual({ valid: false });
    const verifierRow = page.locator('tr[data-verifier="mx test"]');
    await verifierRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke mx test?' }).getByRole('button', { name: 'Revoke token' }).click();
    await verifierRow.getByText('revoked').waitFor();
    await expect.poll(async () => (await check()).status, { timeout: 5_000 }).toBe(401);
    // The admins, by email.
    await page.locator(`tr[data-admin="${adminEmail}"]`).waitFor();
  });

  it('lists the admin’s sessions and signs out everywhere', async () => {
    // A second session of the same admin, as from another browser.
    const other = (await call(server, 'POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } })).body.token as string;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access' }).click();
    const sessions = page.getByRole('table', { name: 'Your admin sessions' });
    await sessions.locator('tr[data-current="true"]').waitFor();
    expect(await sessions.locator('tbody tr[data-session]').count()).toBeGreaterThanOrEqual(2);
    await capture('access');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByTestId('session-message').filter({ hasText: 'You are signed out.' }).waitFor();
    expect((await call(server, 'GET', '/api/v1/auth/sessions', { token: other })).status).toBe(401);
    expect((await call(server, 'GET', '/api/v1/auth/sessions', { token: adminToken })).status).toBe(401);
  });

  it('found no serious or critical accessibility violation, no script error and no missing file', () => {
    expect(a11y).toEqual([]);
    expect(errors).toEqual([]);
    expect(failedResponses).toEqual([]);
  });
});
