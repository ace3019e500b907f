// Real Postfix (Debian's, a private instance on loopback) asking relaykey's policy listener
// through check_policy_service, with SMTP AUTH through Dovecot's SASL (test/helpers/mail.ts, the
// same setup as test/protocol/mail-servers.test.ts): an allowed sender is delivered to the sink,
// a foreign sender gets 5.7.1, over quota 4.7.1 (and delivered in the next hour), and with the
// policy listener stopped Postfix defers (4xx) instead of accepting or bouncing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { postfixPolicyExtension } from '../../src/protocol/postfix/extension.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ChildService, ensureMailTools, freePort, run, startDovecot, startPostfix, startSmtpSink } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('Postfix check_policy_service against relaykey', () => {
  const clock = new ManualClock(new Date(Math.floor(Date.now() / HOUR) * HOUR + 30 * 60_000));
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let postfix: ChildService & { ports: { submission: number; fromNginx: number }; log: () => string };
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;

  beforeAll(async () => {
    ensureMailTools();
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-policy-'));
    sink = await startSmtpSink();
    const policyPort = await freePort();
    server = await startTestServer('sqlite', { clock, env: { RELAYKEY_POLICY_PORT: String(policyPort), RELAYKEY_TRUSTED_PROXIES: '127.0.0.1/32' } });
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
    dovecot = await startDovecot(join(dir, 'dovecot'), server.url, acme.verifier);
    const check = `check_policy_service { inet:127.0.0.1:${policyPort}, timeout=10s, default_action=DEFER_IF_PERMIT }`;
    postfix = await startPostfix(join(dir, 'postfix'), {
      relayPort: sink.port,
      saslSocket: dovecot.authSocket,
      nginxAddress: '127.0.0.1',
      extraMainCf: [`smtpd_recipient_restrictions = ${check}, permit_sasl_authenticated, reject`, `smtpd_end_of_data_restrictions = ${check}`].join('\n'),
    });
  }, 600_000);

  afterAll(async () => {
    await postfix?.stop();
    await dovecot?.stop();
    await server?.close();
    await sink?.close();
  });

  const send = (user: string, password: string, from: string, subject: string) =>
    run('swaks', [
      '--server',
      `127.0.0.1:${postfix.ports.submission}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      user,
      '--auth-password',
      password,
      '--from',
      from,
      '--to',
      'bob@elsewhere.test',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'hello',
      '--timeout',
      '30',
    ]);
  async function delivered(subject: string): Promise<boolean> {
    for (let i = 0; i < 100; i += 1) {
      if (sink.messages.some((m) => m.body.includes(`Subject: ${subject}`))) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }
  // swaks prints the server's answer to RCPT TO on the next line: ` <** 554 5.7.1 ...` (or ` <- 250 ...`).
  const rcptReply = (output: string) => /RCPT TO:[^\n]*\n\s*<[-*~]+ (\d{3} [^\n]*)/.exec(output)?.[1] ?? output;

  it('an app password sends as its own address (delivered); as another login or tenant: 5.7.1 with a reason', async () => {
    const created = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'mail app', scopes: ['smtp'], login_id: acme.loginId },
    });
    expect(created.status, created.text).toBe(201);
    const secret = created.body.secret as string;
    const own = await send(acme.loginAddress, secret, acme.loginAddress, 'own-address');
    expect(own.code, `${own.stdout}\n${postfix.log().slice(-3000)}`).toBe(0);
    expect(await delivered('own-address')).toBe(true);

    const foreign = await send(acme.loginAddress, secret, evil.loginAddress, 'other-tenant');
    expect(foreign.code).not.toBe(0);
    expect(rcptReply(foreign.stdout)).toMatch(/^554 5\.7\.1 .*not in a domain of this tenant/);
    const otherLogin = `bob@${acme.loginAddress.split('@')[1]}`;
    const sibling = await send(acme.loginAddress, secret, otherLogin, 'other-login');
    expect(rcptReply(sibling.stdout)).toMatch(/^554 5\.7\.1 .*not an allowed sender of this login/);
    // Refused at RCPT: nothing was queued, so nothing can arrive later.
    expect(sink.messages.some((m) => m.body.includes('Subject: other-tenant'))).toBe(false);
  });

  it('over the hourly quota: 4.7.1; delivered once the next hour starts', async () => {
    const created = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'limited', scopes: ['smtp'], sending_limits: { messages_per_hour: 1 } },
    });
    const { id, secret } = created.body as { id: string; secret: string };
    const from = `news@${acme.loginAddress.split('@')[1]}`;
    const first = await send(id, secret, from, 'quota-1');
    expect(first.code, first.stdout).toBe(0);
    expect(await delivered('quota-1')).toBe(true);
    const second = await send(id, secret, from, 'quota-2');
    expect(second.code).not.toBe(0);
    expect(rcptReply(second.stdout)).toMatch(/^450 4\.7\.1 .*hourly quota of 1 messages reached/);
    clock.advance(HOUR);
    const retried = await send(id, secret, from, 'quota-2');
    expect(retried.code, retried.stdout).toBe(0);
    expect(await delivered('quota-2')).toBe(true);
  });

  it("relaykey's policy listener stopped: Postfix defers (4xx), nothing accepted or bounced", async () => {
    const created = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'during outage', scopes: ['smtp'], login_id: acme.loginId },
    });
    await postfixPolicyExtension.stop?.(server.runtime);
    const sent = await send(acme.loginAddress, created.body.secret as string, acme.loginAddress, 'policy-down');
    expect(sent.code).not.toBe(0);
    const reply = rcptReply(sent.stdout);
    expect(reply).toMatch(/^4\d\d /);
    expect(sink.messages.some((m) => m.body.includes('Subject: policy-down'))).toBe(false);
  });
});
