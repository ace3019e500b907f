// Real nginx (mail proxy), Dovecot (Lua passdb) and Postfix on loopback, configured from the
// templates under docs/integrations/templates, in the three documented topologies:
//   1. nginx -> Dovecot (IMAP, POP3; PROXY protocol, Dovecot checks the key again),
//   2. Dovecot alone, with Postfix submission authenticating through Dovecot SASL,
//   3. nginx -> Postfix's internal port (XCLIENT with SASL enabled there).
// Two tenants, Acme and Evil, each with a login alice@<own domain> (the %n collision case).
// Clients come from their own loopback addresses (curl --interface, swaks --local-interface):
// nginx is 127.0.0.1, a trusted proxy.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ChildService, ensureMailTools, freePort, putMessage, run, startDovecot, startNginx, startPostfix, startSmtpSink } from '../helpers/mail.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

// curl exit codes: 0 = done, 67 = the server refused the login.
const LOGIN_DENIED = 67;

describe.each(DIALECTS)('mail servers authenticating through relaykey on %s', (dialect) => {
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let postfix: ChildService & { ports: { submission: number; fromNginx: number }; log: () => string };
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let dir: string;

  beforeAll(async () => {
    ensureMailTools();
    dir = mkdtempSync(join(tmpdir(), 'relaykey-mail-'));
    sink = await startSmtpSink();
    const doveadm = { port: await freePort(), apiKey: randomBytes(16).toString('hex') };
    server = await startTestServer(dialect, {
      env: {
        RELAYKEY_DOVEADM_URLS: `http://127.0.0.1:${doveadm.port}`,
        RELAYKEY_DOVEADM_API_KEY: doveadm.apiKey,
        // nginx (and Dovecot's own re-check, were it to come without PROXY protocol) is 127.0.0.1.
        RELAYKEY_TRUSTED_PROXIES: '127.0.0.1/32',
        RELAYKEY_THROTTLE_IP_LIMIT: '20',
        RELAYKEY_THROTTLE_USERNAME_LIMIT: '10',
        RELAYKEY_THROTTLE_MAX_DELAY_SECONDS: '1',
      },
    });
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
    dovecot = await startDovecot(join(dir, 'dovecot'), server.url, acme.verifier, doveadm);
    postfix = await startPostfix(join(dir, 'postfix'), { relayPort: sink.port, saslSocket: dovecot.authSocket, nginxAddress: '127.0.0.1' });
    nginx = await startNginx(join(dir, 'nginx'), server.url, acme.verifier);
    for (const tenant of [acme, evil]) {
      const patched = await call(server, 'PATCH', `/api/v1/tenants/${tenant.tenantId}`, {
        token: tenant.adminToken,
        body: {
          mail_backends: {
            smtp: `127.0.0.1:${postfix.ports.fromNginx}`,
            imap: `127.0.0.1:${dovecot.ports.imapFromNginx}`,
            pop3: `127.0.0.1:${dovecot.ports.pop3FromNginx}`,
          },
        },
      });
      expect(patched.status, patched.text).toBe(200);
    }
    // Acme's alice has one message; Evil's alice (same local part) has none.
    putMessage(
      dovecot.home,
      acme.loginAddress,
      '1.acme',
      `From: boss@${acme.loginAddress.split('@')[1]}\r\nSubject: acme secret\r\n\r\nfor alice at acme only\r\n`,
    );
  }, 600_000);

  afterAll(async () => {
    await nginx?.stop();
    await postfix?.stop();
    await dovecot?.stop();
    await server?.close();
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function key(tenant: SeededTenant, scopes: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const created = await call(server, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, {
      token: tenant.bearer,
      body: { name: `mail ${scopes.join('+')}`, scopes, login_id: tenant.loginId, ...extra },
    });
    expect(created.status, created.text).toBe(201);
    return { id: created.body.id, secret: created.body.secret };
  }

  /** EXAMINE INBOX: the number of messages the login sees, or the curl failure. */
  const imapExists = async (port: number, user: string, password: string, from: string) => {
    const result = await run('curl', [
      '-sS',
      '--max-time',
      '20',
      '--interface',
      from,
      `imap://127.0.0.1:${port}/`,
      '--user',
      `${user}:${password}`,
      '-X',
      'EXAMINE INBOX',
    ]);
    const exists = /\* (\d+) EXISTS/.exec(result.stdout);
    return { ...result, exists: exists ? Number(exists[1]) : null };
  };
  const pop3List = (port: number, user: string, password: string, from: string) =>
    run('curl', ['-sS', '--max-time', '20', '--interface', from, `pop3://127.0.0.1:${port}/`, '--user', `${user}:${password}`]);
  const smtpThroughNginx = (user: string, password: string, from: string, subject: string, extra: string[] = []) => {
    const file = join(dir, `${subject}.eml`);
    writeFileSync(file, `From: ${acme.loginAddress}\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`);
    const auth = user ? ['--user', `${user}:${password}`] : [];
    return run('curl', [
      '-sS',
      '--max-time',
      '20',
      '--interface',
      from,
      `smtp://127.0.0.1:${nginx.ports.smtp}`,
      ...auth,
      '--mail-from',
      acme.loginAddress,
      '--mail-rcpt',
      'bob@example.test',
      '-T',
      file,
      ...extra,
    ]);
  };
  const submission = (user: string, password: string, from: string, subject: string) =>
    run('swaks', [
      '--server',
      `127.0.0.1:${postfix.ports.submission}`,
      '--local-interface',
      from,
      '--auth',
      'PLAIN',
      '--auth-user',
      user,
      '--auth-password',
      password,
      '--from',
      'sender@example.test',
      '--to',
      'bob@example.test',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'hello',
      '--timeout',
      '20',
    ]);
  async function delivered(subject: string): Promise<boolean> {
    for (let i = 0; i < 100; i += 1) {
      if (sink.messages.some((m) => m.body.includes(`Subject: ${subject}`))) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  describe('1. nginx -> Dovecot (PROXY protocol; Dovecot checks the key again)', () => {
    it("Acme's key opens Acme's mailbox; Evil's key opens none of Acme's, and Evil's alice is not Acme's alice", async () => {
      const acmeKey = await key(acme, ['app']);
      const own = await imapExists(nginx.ports.imap, acme.loginAddress, acmeKey.secret, '127.0.0.3');
      expect(own.code, `${own.stderr}\n${dovecot.log()}`).toBe(0);
      expect(own.exists).toBe(1);
      const pop3 = await pop3List(nginx.ports.pop3, acme.loginAddress, acmeKey.secret, '127.0.0.3');
      expect(pop3.code, pop3.stderr).toBe(0);
      expect(pop3.stdout).toMatch(/^1 \d+/m);

      const evilKey = await key(evil, ['app']);
      const foreign = await imapExists(nginx.ports.imap, acme.loginAddress, evilKey.secret, '127.0.0.4');
      expect(foreign.code).toBe(LOGIN_DENIED);
      expect((await pop3List(nginx.ports.pop3, acme.loginAddress, evilKey.secret, '127.0.0.4')).code).toBe(LOGIN_DENIED);
      // Same local part, other tenant: a mailbox of its own (the userdb is keyed by the full identity, not %n).
      const evilAlice = await imapExists(nginx.ports.imap, evil.loginAddress, evilKey.secret, '127.0.0.4');
      expect(evilAlice.code, evilAlice.stderr).toBe(0);
      expect(evilAlice.exists).toBe(0);
    });

    it("50 failed logins with Evil's keys through nginx; an Acme user then logs in at once over IMAP, POP3 and SMTP", async () => {
      const evilKey = await key(evil, ['app']);
      const attempts: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i += 1) {
        // A throttled attempt makes nginx wait (Auth-Wait): the client gives up after 5 s.
        attempts.push(
          run('curl', [
            '-sS',
            '--max-time',
            '5',
            '--interface',
            '127.0.0.2',
            `imap://127.0.0.1:${nginx.ports.imap}/`,
            '--user',
            `u${i}@${acme.loginAddress.split('@')[1]}:${evilKey.secret}`,
          ]),
        );
        if (attempts.length === 10) await Promise.all(attempts.splice(0));
      }
      await Promise.all(attempts);
      // Evil's own client is throttled now...
      const verify = await call(server, 'POST', '/api/v1/verify', {
        token: acme.verifier,
        body: { username: evil.loginAddress, password: evilKey.secret, protocol: 'imap', client_ip: '127.0.0.2' },
      });
      expect(verify.status).toBe(429);
      // ...Acme's user is not, from another address, on every protocol, without waiting.
      const acmeKey = await key(acme, ['app']);
      const started = Date.now();
      const imap = await imapExists(nginx.ports.imap, acme.loginAddress, acmeKey.secret, '127.0.0.5');
      expect(imap.code, `${imap.stderr}\n${dovecot.log().slice(-2000)}`).toBe(0);
      expect((await pop3List(nginx.ports.pop3, acme.loginAddress, acmeKey.secret, '127.0.0.5')).code).toBe(0);
      const smtp = await smtpThroughNginx(acme.loginAddress, acmeKey.secret, '127.0.0.5', 'after-the-storm');
      expect(smtp.code, smtp.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await delivered('after-the-storm')).toBe(true);
    });

    it('a key limited to a network works behind nginx from inside it (the real address reaches relaykey twice), not from outside', async () => {
      const limited = await key(acme, ['imap'], { allowed_networks: ['127.0.0.6/32'] });
      const inside = await imapExists(nginx.ports.imap, acme.loginAddress, limited.secret, '127.0.0.6');
      expect(inside.code, `${inside.stderr}\n${dovecot.log().slice(-2000)}`).toBe(0);
      expect((await imapExists(nginx.ports.imap, acme.loginAddress, limited.secret, '127.0.0.7')).code).toBe(LOGIN_DENIED);
      // Dovecot's re-check carried the client's address (PROXY protocol), not nginx's.
      await server.runtime.services.usage.flush();
      const sessions = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/credentials/${limited.id}/sessions`, { token: acme.bearer });
      expect(sessions.body.data.map((s: { ip_address: string }) => s.ip_address)).toEqual(['127.0.0.6']);
    });
  });

  describe('2. Dovecot alone, Postfix submission through Dovecot SASL', () => {
    it('a seed 003 Key logs in to Dovecot (IMAP) although Dovecot lowercases it, and sends through Postfix submission', async () => {
      const created = await call(server, 'POST', '/api/v1/account/api_key', { token: acme.bearer, body: { role: 'standard', name: 'thunderbird' } });
      const { ID, Key, Secret } = created.body as { ID: string; Key: string; Secret: string };
      expect(Key).not.toBe(Key.toLowerCase());
      const identity = `${ID}@${acme.tenantId}.relaykey.invalid`;
      const imap = await imapExists(dovecot.ports.imap, Key, Secret, '127.0.0.8');
      expect(imap.code, `${imap.stderr}\n${dovecot.log().slice(-2000)}`).toBe(0);
      expect(imap.exists).toBe(0);
      const sent = await submission(Key, Secret, '127.0.0.8', 'seed003-submission');
      expect(sent.code, `${sent.stdout}\n${postfix.log()}`).toBe(0);
      expect(await delivered('seed003-submission')).toBe(true);
      expect(postfix.log()).toContain(`sasl_username=${identity}`);
    });

    it("a seed 001 key presented with another tenant's address is rewritten: Postfix logs the canonical sasl_username", async () => {
      const created = await call(server, 'POST', '/api/v1/credentials/create', { body: { name: 'relay' }, headers: { 'X-Server-API-Key': acme.server } });
      const { key: secret, uuid } = created.body.data as { key: string; uuid: string };
      const foreign = `ceo@${evil.loginAddress.split('@')[1]}`;
      const sent = await submission(foreign, secret, '127.0.0.9', 'seed001-foreign');
      expect(sent.code, `${sent.stdout}\n${postfix.log()}`).toBe(0);
      expect(await delivered('seed001-foreign')).toBe(true);
      expect(postfix.log()).toContain(`sasl_username=${uuid}@${acme.tenantId}.relaykey.invalid`);
      expect(postfix.log()).not.toContain(`sasl_username=${foreign}`);
    });

    it("Evil's keys open none of Acme's mailboxes directly either", async () => {
      const evilKey = await key(evil, ['app']);
      expect((await imapExists(dovecot.ports.imap, acme.loginAddress, evilKey.secret, '127.0.0.10')).code).toBe(LOGIN_DENIED);
      const sent = await submission(acme.loginAddress, evilKey.secret, '127.0.0.11', 'evil-as-acme');
      expect(sent.code).not.toBe(0);
      const evilAlice = await imapExists(dovecot.ports.imap, evil.loginAddress, evilKey.secret, '127.0.0.12');
      expect(evilAlice.code, evilAlice.stderr).toBe(0);
      expect(evilAlice.exists).toBe(0);
    });
  });

  it("revoking a key kicks its open IMAP session (relaykey calls Dovecot's doveadm HTTP API)", async () => {
    const revokeMe = await key(acme, ['imap']);
    const socket = createConnection({ host: '127.0.0.1', port: dovecot.ports.imap, localAddress: '127.0.0.15' });
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !pattern.test(received); i += 1) await new Promise((r) => setTimeout(r, 100));
      expect(received).toMatch(pattern);
    };
    await waitFor(/^\* OK/m);
    socket.write(`a1 LOGIN "${acme.loginAddress}" "${revokeMe.secret}"\r\n`);
    await waitFor(/^a1 OK/m);
    socket.write('a2 SELECT INBOX\r\n');
    await waitFor(/^a2 OK/m);
    const revoked = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials/${revokeMe.id}/revoke`, {
      token: acme.bearer,
      body: { reason: 'stolen' },
    });
    expect(revoked.status).toBe(200);
    const ended = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    socket.destroy();
    expect(ended, `${received}\n${dovecot.log().slice(-1500)}`).toBe(true);
  });

  describe('3. Postfix submission through nginx (XCLIENT)', () => {
    it("an authenticated client's message reaches the sink with relaykey's identity as sasl_username; an unauthenticated one is refused", async () => {
      const acmeKey = await key(acme, ['smtp']);
      const sent = await smtpThroughNginx(acme.loginAddress.toUpperCase(), acmeKey.secret, '127.0.0.13', 'through-nginx');
      expect(sent.code, `${sent.stderr}\n${postfix.log()}`).toBe(0);
      expect(await delivered('through-nginx')).toBe(true);
      expect(postfix.log()).toMatch(new RegExp(`client=\\S+\\[127\\.0\\.0\\.13\\].*sasl_username=${acme.loginAddress.replace(/\./g, '\\.')}`));

      const anonymous = await smtpThroughNginx('', '', '127.0.0.13', 'anonymous');
      expect(anonymous.code).not.toBe(0);
      // Nor can anyone relay through Postfix's internal port without nginx's XCLIENT.
      const direct = await run('swaks', [
        '--server',
        `127.0.0.1:${postfix.ports.fromNginx}`,
        '--from',
        'x@example.test',
        '--to',
        'bob@example.test',
        '--header',
        'Subject: direct-relay',
        '--timeout',
        '20',
      ]);
      expect(direct.code).not.toBe(0);
      await new Promise((r) => setTimeout(r, 1000));
      expect(sink.messages.filter((m) => /Subject: (anonymous|direct-relay)/.test(m.body))).toEqual([]);
    });

    it("Evil's key is refused for Acme's address; a seed 001 key's foreign address becomes its canonical identity", async () => {
      const evilKey = await key(evil, ['smtp']);
      expect((await smtpThroughNginx(acme.loginAddress, evilKey.secret, '127.0.0.14', 'evil-through-nginx')).code).toBe(LOGIN_DENIED);
      const created = await call(server, 'POST', '/api/v1/credentials/create', { body: { name: 'relay2' }, headers: { 'X-Server-API-Key': acme.server } });
      const { key: secret, uuid } = created.body.data as { key: string; uuid: string };
      const sent = await smtpThroughNginx(`ceo@${evil.loginAddress.split('@')[1]}`, secret, '127.0.0.14', 'seed001-through-nginx');
      expect(sent.code, `${sent.stderr}\n${postfix.log()}`).toBe(0);
      expect(await delivered('seed001-through-nginx')).toBe(true);
      expect(postfix.log()).toContain(`sasl_username=${uuid}@${acme.tenantId}.relaykey.invalid`);
    });
  });
});
