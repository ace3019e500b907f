// Real nginx (mail proxy) and Dovecot (Lua passdb) authenticating against relaykey on loopback,
// driven by curl; the configs are the templates under docs/integrations/templates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ChildService, dovecotSaslLogin, ensureMailTools, run, startDovecot, startLineSink, startNginx, startSmtpSink } from '../helpers/mail.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

// curl exit codes: 0 = done, 67 = the server refused the login.
const LOGIN_DENIED = 67;

describe.each(DIALECTS)('mail servers authenticating through relaykey on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let nginx: ChildService & { ports: { smtp: number; imap: number; pop3: number } };
  let dovecot: ChildService & { ports: { imap: number; pop3: number }; log: () => string; authSocket: string };
  let smtpSink: Awaited<ReturnType<typeof startSmtpSink>>;
  let imapSink: Awaited<ReturnType<typeof startLineSink>>;
  let pop3Sink: Awaited<ReturnType<typeof startLineSink>>;
  let dir: string;
  let messageFile: string;

  beforeAll(async () => {
    ensureMailTools();
    dir = mkdtempSync(join(tmpdir(), 'relaykey-mail-'));
    smtpSink = await startSmtpSink();
    imapSink = await startLineSink('imap');
    pop3Sink = await startLineSink('pop3');
    server = await startTestServer(dialect, {
      // Every client here is 127.0.0.1 and many logins fail on purpose: throttling has its own test.
      env: {
        RELAYKEY_THROTTLE_IP_LIMIT: '10000',
        RELAYKEY_THROTTLE_USERNAME_LIMIT: '10000',
        RELAYKEY_THROTTLE_MAX_DELAY_SECONDS: '1',
        RELAYKEY_MAIL_BACKENDS: `smtp=127.0.0.1:${smtpSink.port},imap=127.0.0.1:${imapSink.port},pop3=127.0.0.1:${pop3Sink.port}`,
      },
    });
    seed = await seedTenant(server);
    nginx = await startNginx(join(dir, 'nginx'), server.url, seed.verifier);
    dovecot = await startDovecot(join(dir, 'dovecot'), server.url, seed.verifier);
    messageFile = join(dir, 'message.eml');
    writeFileSync(messageFile, `From: ${seed.loginAddress}\r\nTo: bob@example.test\r\nSubject: through nginx\r\n\r\nhello from relaykey\r\n`);
  }, 300_000);

  afterAll(async () => {
    await nginx?.stop();
    await dovecot?.stop();
    await server?.close();
    await smtpSink?.close();
    await imapSink?.close();
    await pop3Sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function credential(scopes: string[]): Promise<{ id: string; secret: string }> {
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: `mail ${scopes.join('+')}`, scopes, login_id: seed.loginId },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id, secret: created.body.secret };
  }

  const sendMail = (port: number, password: string, subjectMarker: string) => {
    writeFileSync(messageFile, `From: ${seed.loginAddress}\r\nTo: bob@example.test\r\nSubject: ${subjectMarker}\r\n\r\nhello from relaykey\r\n`);
    return run('curl', [
      '-sSv',
      `smtp://127.0.0.1:${port}`,
      '--user',
      `${seed.loginAddress}:${password}`,
      '--mail-from',
      seed.loginAddress,
      '--mail-rcpt',
      'bob@example.test',
      '-T',
      messageFile,
    ]);
  };
  const imapLogin = (port: number, user: string, password: string) => run('curl', ['-sS', `imap://127.0.0.1:${port}/`, '--user', `${user}:${password}`]);
  const pop3Login = (port: number, user: string, password: string) => run('curl', ['-sS', `pop3://127.0.0.1:${port}/`, '--user', `${user}:${password}`]);

  it('SMTP through nginx: a good key sends, a bad key gets 535, a key without smtp scope fails, a held key fails at once', async () => {
    const good = await credential(['smtp']);
    const sent = await sendMail(nginx.ports.smtp, good.secret, 'good-key');
    expect(sent.code, sent.stderr).toBe(0);
    expect(smtpSink.messages.some((m) => m.body.includes('Subject: good-key') && m.to.includes('bob@example.test'))).toBe(true);

    const bad = await sendMail(nginx.ports.smtp, `${good.secret.slice(0, -2)}xx`, 'bad-key');
    expect(bad.code).toBe(LOGIN_DENIED);
    expect(bad.stderr).toMatch(/< 535 5\.7\.8 Invalid login or password/);

    const imapOnly = await credential(['imap']);
    expect((await sendMail(nginx.ports.smtp, imapOnly.secret, 'no-scope')).code).toBe(LOGIN_DENIED);

    const hold = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${good.id}/hold`, { token: seed.bearer });
    expect(hold.status).toBe(200);
    // Same node: the hold invalidates the verify cache synchronously (bound 0 ms).
    expect((await sendMail(nginx.ports.smtp, good.secret, 'held')).code).toBe(LOGIN_DENIED);
    expect(smtpSink.messages.filter((m) => /Subject: (bad-key|no-scope|held)/.test(m.body))).toEqual([]);
  });

  it('IMAP and POP3 through nginx: good keys reach the backend, bad and unscoped keys do not', async () => {
    const app = await credential(['app']);
    const smtpOnly = await credential(['smtp']);

    const imap = await imapLogin(nginx.ports.imap, seed.loginAddress, app.secret);
    expect(imap.code, imap.stderr).toBe(0);
    expect(imap.stdout).toContain('INBOX');
    expect(imapSink.logins).toContainEqual({ user: seed.loginAddress, password: app.secret });
    expect((await imapLogin(nginx.ports.imap, seed.loginAddress, smtpOnly.secret)).code).toBe(LOGIN_DENIED);
    expect((await imapLogin(nginx.ports.imap, 'mallory@example.test', app.secret)).code).toBe(LOGIN_DENIED);

    const pop3 = await pop3Login(nginx.ports.pop3, seed.loginAddress, app.secret);
    expect(pop3.code, pop3.stderr).toBe(0);
    expect(pop3Sink.logins).toContainEqual({ user: seed.loginAddress, password: app.secret });
    expect((await pop3Login(nginx.ports.pop3, seed.loginAddress, smtpOnly.secret)).code).toBe(LOGIN_DENIED);

    await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${app.id}/revoke`, { token: seed.bearer, body: { reason: 'lost phone' } });
    const before = imapSink.logins.length + pop3Sink.logins.length;
    expect((await imapLogin(nginx.ports.imap, seed.loginAddress, app.secret)).code).toBe(LOGIN_DENIED);
    expect((await pop3Login(nginx.ports.pop3, seed.loginAddress, app.secret)).code).toBe(LOGIN_DENIED);
    expect(imapSink.logins.length + pop3Sink.logins.length).toBe(before);
  });

  it('IMAP and POP3 logins to Dovecot go through the relaykey Lua passdb', async () => {
    const imapKey = await credential(['imap']);
    const good = await imapLogin(dovecot.ports.imap, seed.loginAddress, imapKey.secret);
    expect(good.code, `${good.stderr}\n${dovecot.log()}`).toBe(0);
    expect(good.stdout).toContain('INBOX');

    const bad = await imapLogin(dovecot.ports.imap, seed.loginAddress, `${imapKey.secret.slice(0, -2)}zz`);
    expect(bad.code).toBe(LOGIN_DENIED);
    // The service reaches relaykey: an imap-only key is refused for POP3.
    expect((await pop3Login(dovecot.ports.pop3, seed.loginAddress, imapKey.secret)).code).toBe(LOGIN_DENIED);

    // The client's IP reaches relaykey too: the session is recorded for 127.0.0.1.
    await server.runtime.services.usage.flush();
    const sessions = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${imapKey.id}/sessions`, { token: seed.bearer });
    expect(sessions.status).toBe(200);
    expect(sessions.body.data).toEqual([expect.objectContaining({ ip_address: '127.0.0.1', protocol: 'imap', active: true })]);
  });

  it('Postfix-style SASL through Dovecot: service smtp needs the smtp scope', async () => {
    const smtpKey = await credential(['smtp']);
    const imapKey = await credential(['imap']);
    expect(await dovecotSaslLogin(dovecot.authSocket, seed.loginAddress, smtpKey.secret)).toBe('OK');
    // Fresh client IPs: Dovecot's own auth penalty grows per IP on failures.
    expect(await dovecotSaslLogin(dovecot.authSocket, seed.loginAddress, imapKey.secret, '192.0.2.51')).toBe('FAIL');
    expect(await dovecotSaslLogin(dovecot.authSocket, seed.loginAddress, `${smtpKey.secret.slice(0, -2)}qq`, '192.0.2.52')).toBe('FAIL');
    // The client IP Postfix passes reaches relaykey's sessions.
    await server.runtime.services.usage.flush();
    const sessions = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${smtpKey.id}/sessions`, { token: seed.bearer });
    expect(sessions.body.data).toEqual([expect.objectContaining({ ip_address: '127.0.0.1', protocol: 'smtp' })]);
  });
});
