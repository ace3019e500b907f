// Issue 27, third pass, in Chromium against the real server: on the webhooks page an operator
// sends a test event through the signed delivery path, rotates the signing secret (shown once,
// with the overlap during which the old one still signs) and reads each endpoint's health; on the
// access page an owner adds, disables and enables admins, and enrols TOTP from a QR code, confirmed
// with a real code, after which signing in asks for one. Every state shown is screenshotted at
// 1440x900 and 390x844 and scanned with axe-core.
import { authenticator } from 'otplib';
import { create as createQr } from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/api.js';
import { DIALECTS } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

describe.each(DIALECTS)('console third pass (webhooks, admins) on %s', (dialect) => {
  let h: ConsoleHarness;
  const receiver = new WebhookReceiver();
  let tenantId = '';
  let webhookId = '';

  beforeAll(async () => {
    h = await startConsoleHarness(dialect, {
      prefix: '27c',
      serverOptions: { env: { RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8', RELAYKEY_JOBS: 'off' } },
    });
    await receiver.start();
    const domain = `third-${Date.now()}.test`;
    const tenant = await h.api('POST', '/api/v1/tenants', { name: 'Third Pass', domain });
    expect(tenant.status, tenant.text).toBe(201);
    tenantId = tenant.body.id;
    const hook = await h.api('POST', `/api/v1/tenants/${tenantId}/webhooks`, { url: receiver.url });
    expect(hook.status, hook.text).toBe(201);
    webhookId = hook.body.id;
    receiver.secret = hook.body.secret;
    await h.page.goto(h.url('/console'));
    await h.page.waitForSelector('html[data-ready]');
    await h.signIn();
    await h.page.getByTestId('who').waitFor();
  }, 180_000);

  afterAll(async () => {
    await receiver.stop();
    await h?.close();
  });

  const row = () => h.page.locator(`tr[data-webhook="${webhookId}"]`);

  it('sends a test event from the webhooks page; it arrives signed and the endpoint turns healthy', async () => {
    await h.go(`/tenants/${tenantId}/webhooks`);
    await row().waitFor();
    expect(await row().getByTestId('health-state').textContent()).toBe('no deliveries yet');
    const before = receiver.received.length;
    await row().getByRole('button', { name: 'Send test' }).click();
    await row().getByTestId('webhook-row-result').waitFor();
    expect(await row().getByTestId('webhook-row-result').textContent()).toMatch(/Test event msg_[0-9a-f]+ queued/);
    // The delivery job (timers are off in tests) sends it through the real signed path.
    await h.server.runtime.scheduler.run('webhook-delivery');
    expect(receiver.received.slice(before)).toHaveLength(1);
    expect(receiver.received[before]).toMatchObject({ verified: true, answered: 204, payload: { type: 'webhook.test' } });
    // Without a reload, the page follows the test delivery and says how it went beside the row.
    await row()
      .getByTestId('webhook-row-result')
      .filter({ hasText: /delivered: the receiver answered HTTP 204\./ })
      .waitFor();
    await row().getByTestId('health-state').filter({ hasText: 'healthy' }).waitFor();
    expect(await row().getByTestId('health-rate').textContent()).toBe('100% of 1 delivered in 24 h');
    await row().getByRole('button', { name: 'Deliveries' }).click();
    const delivery = h.page.locator('tr[data-delivery]').first();
    await delivery.waitFor();
    expect(await delivery.textContent()).toContain('webhook.test');
    expect(await delivery.getByTestId('delivery-status').textContent()).toBe('delivered');
    await h.capture('webhook-test-event');
    expect(h.errors).toEqual([]);
  });

  it('shows a failing endpoint: failures in a row with the last error, and the success rate', async () => {
    receiver.mode = 'fail';
    try {
      // From the page: the failure is said beside the row, as an error.
      await row().getByRole('button', { name: 'Send test' }).click();
      await row()
        .getByTestId('webhook-row-result')
        .filter({ hasText: /queued/ })
        .waitFor();
      await h.server.runtime.scheduler.run('webhook-delivery');
      const result = row()
        .getByTestId('webhook-row-result')
        .filter({ hasText: /failed: HTTP 503\. It is retried like any delivery\./ });
      await result.waitFor();
      expect(await result.getAttribute('class')).toContain('notice-error');
      expect((await h.api('POST', `/api/v1/tenants/${tenantId}/webhooks/${webhookId}/test`)).status).toBe(202);
      await h.server.runtime.scheduler.run('webhook-delivery');
    } finally {
      receiver.mode = 'ok';
    }
    await h.page.reload();
    await row().getByTestId('health-state').filter({ hasText: 'failing' }).waitFor();
    expect(await row().getByTestId('health-failures').textContent()).toBe('2 failed in a row (HTTP 503)');
    expect(await row().getByTestId('health-rate').textContent()).toBe('33% of 3 delivered in 24 h');
    await h.capture('webhook-health-failing');
    // Disabled: the health says so and a test event cannot be sent.
    await row().getByRole('button', { name: 'Disable' }).click();
    await row().getByTestId('health-state').filter({ hasText: 'disabled' }).waitFor();
    expect(await row().getByRole('button', { name: 'Send test' }).isDisabled()).toBe(true);
    await h.capture('webhook-health-disabled');
    await row().getByRole('button', { name: 'Enable' }).click();
    await row().getByRole('button', { name: 'Disable' }).waitFor();
    expect(h.errors).toEqual([]);
  });

  it('rotates the signing secret after a confirmation: new secret shown once, old one signs during the overlap', async () => {
    const oldSecret = receiver.secret;
    await row().getByRole('button', { name: 'Rotate secret' }).click();
    const confirm = h.page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await confirm.waitFor();
    expect(await confirm.getByLabel('The old secret keeps signing for').inputValue()).toBe('86400');
    await confirm.getByLabel('The old secret keeps signing for').selectOption('3600');
    await h.capture('webhook-rotate-confirm');
    await confirm.getByRole('button', { name: 'Rotate secret' }).click();
    const shown = h.page.getByRole('dialog', { name: 'New webhook signing secret' });
    await shown.waitFor();
    const newSecret = await shown.getByTestId('secret').inputValue();
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(await shown.getByTestId('rotation-overlap').textContent()).toMatch(/^Until .+ deliveries are signed with both the old and the new secret/);
    await h.capture('webhook-rotate-secret-shown');
    await shown.getByLabel('I have stored the secret').check();
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    await shown.waitFor({ state: 'detached' });
    await row().getByTestId('secret-overlap').waitFor();
    // The receiver still holding the old secret verifies the next delivery; one holding the new one does too.
    const before = receiver.received.length;
    expect((await h.api('POST', `/api/v1/tenants/${tenantId}/webhooks/${webhookId}/test`)).status).toBe(202);
    await h.server.runtime.scheduler.run('webhook-delivery');
    expect(receiver.received[before]).toMatchObject({ verified: true });
    expect(receiver.received[before]?.signature.split(' ')).toHaveLength(2);
    const ends = await h.api('GET', `/api/v1/tenants/${tenantId}/webhooks/${webhookId}`);
    expect(Date.parse(ends.body.previous_secret_expires_at) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(h.errors).toEqual([]);
    expect(h.a11y).toEqual([]);
  });

  it('an owner adds an admin, disables it (signed out at once, no sign-in) and enables it again', async () => {
    const email = `added-${Date.now()}@relaykey.test`;
    const password = 'added admin password 1';
    await h.go('/access');
    const form = h.page.getByRole('form', { name: 'Add an admin' });
    await form.waitFor();
    await form.getByLabel('Email').fill(email);
    await form.getByLabel(/Initial password/).fill(password);
    await form.getByRole('button', { name: 'Add admin' }).click();
    const added = h.page.locator(`tr[data-admin="${email}"]`);
    await added.waitFor();
    expect(await added.getByTestId('admin-role').textContent()).toBe('admin');
    expect(await added.getByTestId('admin-state').textContent()).toBe('active');
    await h.capture('admins-added');
    const session = (await call(h.server, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.token as string;
    expect((await call(h.server, 'GET', '/api/v1/tenants', { token: session })).status).toBe(200);

    // An admin of role admin sees the list but no way to change it (a tab of its own).
    const other = await h.browser.context.newPage();
    await other.goto(h.url('/console#/access'));
    await other.waitForSelector('html[data-ready]');
    await other.getByLabel('Email').fill(email);
    await other.getByLabel('Password').fill(password);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByText('Only an owner can add, disable or enable admins.').waitFor();
    expect(await other.getByRole('form', { name: 'Add an admin' }).count()).toBe(0);
    expect(await other.getByRole('button', { name: 'Disable' }).count()).toBe(0);
    await other.close();

    await added.getByRole('button', { name: 'Disable' }).click();
    const confirm = h.page.getByRole('dialog', { name: `Disable ${email}?` });
    await confirm.waitFor();
    await h.capture('admins-disable-confirm');
    await confirm.getByRole('button', { name: 'Disable admin' }).click();
    await added.getByTestId('admin-state').filter({ hasText: 'disabled' }).waitFor();
    expect((await call(h.server, 'GET', '/api/v1/tenants', { token: session })).status).toBe(401);
    const refused = await call(h.server, 'POST', '/api/v1/auth/login', { body: { email, password } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ADMIN_DISABLED');
    await h.capture('admins-disabled');

    await added.getByRole('button', { name: 'Enable' }).click();
    await h.page
      .getByRole('dialog', { name: `Enable ${email}?` })
      .getByRole('button', { name: 'Enable admin' })
      .click();
    await added.getByTestId('admin-state').filter({ hasText: 'active' }).waitFor();
    expect((await call(h.server, 'POST', '/api/v1/auth/login', { body: { email, password } })).status).toBe(200);
    // The signed-in owner has no Disable button on its own row.
    expect(await h.page.locator(`tr[data-admin="${h.adminEmail}"]`).getByRole('button').count()).toBe(0);
    expect(h.errors).toEqual([]);
  });

  it('enrols TOTP from a QR code confirmed with a real code; signing in again asks for a code', async () => {
    // The audit filter knows the new admin events: nothing yet, and no "no event named" hint.
    await h.go('/audit');
    const filter = h.page.getByRole('form', { name: 'Filter audit events' });
    await filter.getByLabel('Event', { exact: true }).fill('admin.totp_enrolment_started');
    await filter.getByRole('button', { name: 'Apply filters' }).click();
    await h.page.getByTestId('no-match').waitFor();
    expect(await h.page.getByTestId('no-match').textContent()).not.toMatch(/no event named/);
    await h.go('/access');
    expect(await h.page.getByTestId('totp-state').textContent()).toMatch(/^off/);
    await h.page.getByRole('button', { name: 'Set up authenticator' }).click();
    const dialog = h.page.getByRole('dialog', { name: 'Set up two-factor sign-in' });
    await dialog.getByLabel('Password', { exact: true }).fill('not my password');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByRole('alert').waitFor();
    await dialog.getByLabel('Password', { exact: true }).fill(h.adminPassword);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    const qr = dialog.getByTestId('totp-qr');
    await qr.waitFor();
    // A new, empty field: never the password field reused with the password in clear.
    expect(await dialog.getByLabel('Code from the app').inputValue()).toBe('');
    expect(await dialog.getByLabel('Code from the app').getAttribute('type')).not.toBe('password');
    const secret = ((await dialog.getByTestId('totp-secret').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // The QR code is the otpauth URI of that secret, drawn as an inline SVG (nothing the CSP refuses).
    const uri = authenticator.keyuri(h.adminEmail, 'relaykey', secret);
    const modules = createQr(uri, { errorCorrectionLevel: 'M' }).modules;
    const drawn = await qr.locator('path').getAttribute('d');
    const darkModules = Array.from(modules.data).filter(Boolean).length;
    expect(drawn?.match(/M/g)?.length).toBe(darkModules);
    expect(drawn?.startsWith('M4 4h1v1h-1z')).toBe(true);
    const box = await qr.boundingBox();
    expect(box?.width).toBeGreaterThan(150);
    await h.capture('totp-qr');

    const wrong = authenticator.generate(secret) === '000000' ? '111111' : '000000';
    await dialog.getByLabel('Code from the app').fill(wrong);
    await dialog.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await dialog.getByText(/does not match the authenticator/).waitFor();
    await dialog.getByLabel('Code from the app').fill(authenticator.generate(secret));
    await dialog.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await dialog.waitFor({ state: 'detached' });
    await h.page.getByTestId('totp-state').filter({ hasText: /^on/ }).waitFor();
    expect(await h.page.locator(`tr[data-admin="${h.adminEmail}"]`).getByTestId('admin-totp').textContent()).toBe('on');
    await h.capture('totp-on');

    // Sign out and in again: the password alone is no longer enough; the next step's code signs in.
    await h.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await h.page.getByRole('form', { name: 'Admin sign-in' }).waitFor();
    await h.page.getByLabel('Email').fill(h.adminEmail);
    await h.page.getByLabel('Password').fill(h.adminPassword);
    await h.page.getByRole('button', { name: 'Sign in' }).click();
    await h.page.getByLabel('Authenticator code').waitFor();
    expect(await h.page.getByTestId('sign-in-error').textContent()).toMatch(/two-factor/);
    await h.capture('totp-sign-in-asks-code');
    await h.page.getByLabel('Authenticator code').fill(authenticator.clone({ epoch: Date.now() + 30_000 }).generate(secret));
    await h.page.getByRole('button', { name: 'Sign in' }).click();
    await h.page.getByTestId('who').waitFor();
    expect(await h.page.getByTestId('who').textContent()).toBe(h.adminEmail);
    expect(h.errors).toEqual([]);
    expect(h.a11y).toEqual([]);
  });
});
