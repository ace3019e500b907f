// Issue 27, third pass, in Chromium against the real server: the vault page (open checkouts with
// "end checkout now", root key status), verification analytics per tenant and per credential,
// and problem 5 (feedback beside the action, banners cleared by later actions, "last rotated"
// refreshed after an automatic rotation without a reload). Every state is screenshotted at
// 1440x900 and 390x844 and scanned with axe-core.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { reauth, revealPassword, smtpVerifies } from '../vault/helpers.js';
import { type Browser, buildConsole, ensureChromium, launchBrowser, watchErrors } from './browser.js';
import { captureBothViewports, DESKTOP, inViewport, PHONE } from './capture.js';

describe.each(DIALECTS)('console third pass (vault, analytics, feedback) on %s', (dialect) => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const a11y: string[] = [];
  let seed: SeededTenant;

  const go = (hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  const api = (method: string, path: string, body?: unknown) => call(server, method, path, { token: seed.adminToken, ...(body !== undefined ? { body } : {}) });
  const capture = (name: string) => captureBothViewports(page, `27c-${name}`, a11y);
  const accountStatus = async () => (await api('GET', `/api/v1/tenants/${seed.tenantId}/smtp-account`)).body;
  /** Makes the page look hidden (another tab in front) or shown again, as the browser announces it. */
  const setVisibility = (state: 'hidden' | 'visible') =>
    page.evaluate(`(() => {
      Object.defineProperty(document, 'visibilityState', { value: ${JSON.stringify(state)}, configurable: true });
      Object.defineProperty(document, 'hidden', { value: ${state === 'hidden'}, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);

  beforeAll(async () => {
    ensureChromium();
    buildConsole();
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'Thirdpass');
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    await page.setViewportSize(DESKTOP);
    await page.goto(`${server.url}/console`);
    await page.getByLabel('Email').fill(seed.adminEmail);
    await page.getByLabel('Password').fill(seed.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('vault page: lists the open checkout with who holds it, ends it now (asks, shows it running, result in the row), shows the root key', async () => {
    const password = await revealPassword(server, seed, await reauth(server, seed));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByRole('heading', { name: 'Vault', level: 1 }).waitFor();
    const row = page.locator(`tr[data-checkout="${seed.tenantId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(seed.adminEmail);
    expect(await row.textContent()).toContain(seed.smtpUsername);
    expect(await page.content()).not.toContain(password);

    const stored = await server.sql<{ value: string }>("SELECT value FROM instance_facts WHERE name = 'master_key_check'");
    const root = page.getByTestId('root-key');
    await root.getByTestId('master-key').filter({ hasText: 'matches the database' }).waitFor();
    expect(await root.getByTestId('key-check').textContent()).toBe(stored[0]?.value);
    expect(await root.getByTestId('root-version').textContent()).toBe('v1');
    expect(await root.getByTestId('rewrap').textContent()).toMatch(/every data key is on the current version/);
    await capture('vault-checkouts');

    // Asked first, Cancel focused: nothing happens on a reflex Enter.
    await row.getByRole('button', { name: 'End checkout now' }).click();
    const ask = page.getByRole('dialog', { name: 'End this checkout now?' });
    await ask.waitFor();
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await capture('vault-end-confirm');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    expect(await smtpVerifies(server, seed, password)).toBe(true);

    // A slow request (held back in the browser): the row says it is running.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/smtp-account/checkout', async (route) => {
      await released;
      await route.continue();
    });
    await row.getByRole('button', { name: 'End checkout now' }).click();
    await ask.getByRole('button', { name: 'End checkout now' }).click();
    const running = row.getByRole('button', { name: 'Ending…' });
    await running.waitFor();
    expect(await running.isDisabled()).toBe(true);
    expect(await running.getAttribute('aria-busy')).toBe('true');
    release();
    // The result stands beside the row it belongs to.
    const result = page.locator(`tr[data-checkout="${seed.tenantId}"] + tr`).getByTestId('row-result');
    await result.filter({ hasText: /Checkout ended: the password was rotated/ }).waitFor();
    await page.unroute('**/smtp-account/checkout');
    await expect.poll(() => smtpVerifies(server, seed, password), { timeout: 5_000 }).toBe(false);
    expect((await api('GET', '/api/v1/vault/checkouts')).body.data).toEqual([]);
    await capture('vault-checkout-ended');
  });

  it('SMTP account page (problem 5): the result beside the action on a phone, cleared by the next action; "last rotated" follows an automatic rotation without a reload', async () => {
    await page.setViewportSize(PHONE);
    try {
      await go(`/tenants/${seed.tenantId}/smtp`);
      const card = page.getByTestId('account-status');
      const lastRotated = card.getByTestId('last-rotated');
      await lastRotated.waitFor();
      expect(await lastRotated.getAttribute('data-iso')).toBe((await accountStatus()).last_rotated);

      // The rotate form sits below the fold on a phone: its result must show there, in view.
      const form = page.getByRole('form', { name: 'Rotate the SMTP password' });
      await form.getByLabel('Reason').fill('phone review');
      await form.getByRole('button', { name: 'Rotate SMTP password' }).click();
      await page.getByRole('dialog', { name: 'Rotate the SMTP password now?' }).getByRole('button', { name: 'Rotate now' }).click();
      const done = form.getByRole('status').filter({ hasText: /Rotated at/ });
      await done.waitFor();
      expect(await inViewport(page, 'form[aria-label="Rotate the SMTP password"] [role="status"]')).toBe(true);
      // The card took the manual rotation at once.
      await expect.poll(async () => lastRotated.getAttribute('data-iso')).toBe((await accountStatus()).last_rotated);
      await captureBothViewports(page, '27c-smtp-feedback-beside-action', a11y);
      await page.setViewportSize(PHONE);

      // A later action clears the earlier result.
      await page.getByRole('button', { name: 'Reveal SMTP password' }).click();
      const confirm = page.getByRole('dialog', { name: 'Confirm it is you' });
      await confirm.waitFor();
      expect(
        await page
          .getByRole('status')
          .filter({ hasText: /Rotated at/ })
          .count(),
      ).toBe(0);
      await confirm.getByRole('button', { name: 'Cancel' }).click();

      // The scheduled rotation runs (the job, not this page): the card shows it without a reload.
      const before = await lastRotated.getAttribute('data-iso');
      await server.sql('UPDATE smtp_accounts SET next_rotation = ? WHERE tenant_id = ?', ['2000-01-01T00:00:00.000Z', seed.tenantId]);
      expect((await server.runtime.scheduler.run('smtp-scheduled-rotation')).items).toBeGreaterThanOrEqual(1);
      const after = (await accountStatus()).last_rotated;
      expect(after).not.toBe(before);
      await expect.poll(async () => lastRotated.getAttribute('data-iso'), { timeout: 20_000, interval: 500 }).toBe(after);
      await page
        .getByRole('table', { name: 'SMTP account history' })
        .getByText(/"rotation_type":"automated"/)
        .first()
        .waitFor();

      // Hidden, the page asks nothing; shown again, it looks at once.
      await setVisibility('hidden');
      const seen: string[] = [];
      const onRequest = (request: { url(): string }) => {
        if (request.url().includes('/smtp-account')) seen.push(request.url());
      };
      page.on('request', onRequest);
      await server.sql('UPDATE smtp_accounts SET next_rotation = ? WHERE tenant_id = ?', ['2000-01-01T00:00:00.000Z', seed.tenantId]);
      await server.runtime.scheduler.run('smtp-scheduled-rotation');
      const latest = (await accountStatus()).last_rotated;
      await page.waitForTimeout(16_000);
      expect(seen).toEqual([]);
      expect(await lastRotated.getAttribute('data-iso')).not.toBe(latest);
      await setVisibility('visible');
      await expect.poll(async () => lastRotated.getAttribute('data-iso'), { timeout: 3_000, interval: 200 }).toBe(latest);
      page.off('request', onRequest);
      await capture('smtp-after-automatic-rotation');

      // A checkout opened elsewhere shows on the card, which ends it now and says so beside it.
      const password = await revealPassword(server, seed, await reauth(server, seed));
      await setVisibility('hidden');
      await setVisibility('visible');
      const state = card.getByTestId('checkout-state');
      await state.filter({ hasText: seed.adminEmail }).waitFor();
      await state.getByRole('button', { name: 'End checkout now' }).click();
      await page.getByRole('dialog', { name: 'End this checkout now?' }).getByRole('button', { name: 'End checkout now' }).click();
      await card
        .getByRole('status')
        .filter({ hasText: /Checkout ended/ })
        .waitFor();
      await state.filter({ hasText: 'not checked out' }).waitFor();
      await expect.poll(() => smtpVerifies(server, seed, password), { timeout: 5_000 }).toBe(false);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('verification analytics per tenant and per credential: outcomes by reason, a range, the most refused clients with why, refreshing on its own (paused while hidden)', async () => {
    const created = await api('POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { name: 'Mailer', login_id: seed.loginId, scopes: ['smtp'] });
    expect(created.status, created.text).toBe(201);
    const mailer = created.body.id as string;
    // The vault tests above signed in with the SMTP account: counted from here on.
    const base = (await api('GET', `/api/v1/tenants/${seed.tenantId}/stats/verifications?minutes=15`)).body.outcomes as Record<string, number>;
    const plus = (outcome: string, n: number) => String((base[outcome] ?? 0) + n);
    const attempt = (password: string, clientIp: string, protocol = 'smtp') =>
      verify(server, seed.verifier, { username: seed.loginAddress, password, protocol, client_ip: clientIp });
    for (let i = 0; i < 2; i += 1) expect((await attempt(created.body.secret, '198.51.100.1')).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await attempt(created.body.secret, '198.51.100.2', 'imap')).status).toBe(401);
    for (let i = 0; i < 2; i += 1) expect((await attempt('rk_wrong_password', '203.0.113.50')).status).toBe(401);

    await go(`/tenants/${seed.tenantId}/settings`);
    await page.getByRole('navigation', { name: 'Tenant pages' }).getByRole('link', { name: 'Verifications' }).click();
    await page.getByRole('heading', { name: /Verifications/, level: 1 }).waitFor();
    const count = (outcome: string) => page.locator(`tr[data-outcome="${outcome}"]`).getByTestId('outcome-count').textContent();
    await expect.poll(() => count('valid')).toBe(plus('valid', 2));
    expect(await count('scope')).toBe(plus('scope', 3));
    expect(await count('unknown_key')).toBe(plus('unknown_key', 2));
    for (const outcome of ['throttled', 'expired', 'held', 'network']) expect(await count(outcome)).toBe(plus(outcome, 0));
    expect(await page.locator('tr[data-client="198.51.100.2"]').getByTestId('reasons').textContent()).toBe('Scope ×3');
    expect(await page.locator('tr[data-client="203.0.113.50"]').getByTestId('reasons').textContent()).toBe('Unknown ×2');
    expect(await page.locator('tr[data-client="198.51.100.1"]').count()).toBe(0);
    await page.getByTestId('chart').waitFor();
    await capture('analytics-tenant');

    // The range is the operator's: the API is asked for it.
    const asked = page.waitForResponse((r) => r.url().includes('/stats/verifications?minutes=15') && r.status() === 200);
    await page.getByLabel('Range').selectOption('15');
    await asked;
    await expect.poll(() => count('valid')).toBe(plus('valid', 2));

    // On its own: a new attempt shows within the 30 s refresh, without a reload.
    expect((await attempt(created.body.secret, '198.51.100.1')).status).toBe(200);
    await expect.poll(() => count('valid'), { timeout: 40_000, interval: 1_000 }).toBe(plus('valid', 3));

    // Hidden, it asks nothing; shown again, it looks at once.
    await setVisibility('hidden');
    const seen: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes('/stats/verifications')) seen.push(request.url());
    };
    page.on('request', onRequest);
    expect((await attempt(created.body.secret, '198.51.100.1')).status).toBe(200);
    await page.waitForTimeout(32_000);
    expect(seen).toEqual([]);
    expect(await count('valid')).toBe(plus('valid', 3));
    await setVisibility('visible');
    await expect.poll(() => count('valid'), { timeout: 5_000, interval: 200 }).toBe(plus('valid', 4));
    page.off('request', onRequest);

    // One credential's numbers, on its page: no unknown keys (they name no credential).
    await go(`/tenants/${seed.tenantId}/credentials/${mailer}`);
    await page.getByRole('heading', { name: /Credential Mailer/, level: 1 }).waitFor();
    await expect.poll(() => count('valid')).toBe('4');
    expect(await count('scope')).toBe('3');
    expect(await count('unknown_key')).toBe('0');
    expect(await page.locator('tr[data-client="203.0.113.50"]').count()).toBe(0);
    await page.locator('tr[data-client="198.51.100.2"]').waitFor();
    await capture('analytics-credential');
  }, 180_000);

  it('found no serious or critical accessibility violation and no script error', () => {
    expect(a11y).toEqual([]);
    expect(errors).toEqual([]);
  });
});
