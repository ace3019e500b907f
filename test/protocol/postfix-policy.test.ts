// Real Postfix (Debian's, a private instance on loopback) asking relaykey's policy listener
// through check_policy_service, with SMTP AUTH through Dovecot's SASL (test/helpers/mail.ts, the
// same setup as test/protocol/mail-servers.test.ts): an allowed sender is delivered to the sink,
// a foreign sender gets 5.7.1, over quota 4.7.1 (and delivered in the next hour; a second node
// reads the same counters), with auto-hold on a burst holds the key (one signed credential.locked,
// the next AUTH fails), and with the relaykey process killed Postfix defers (4xx) instead of
// accepting or bouncing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ChildService, ensureMailTools, freePort, run, startDovecot, startPostfix, startSmtpSink } from '../helpers/mail.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectText, type Take } from '../helpers/text-socket.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

type Sink = Awaited<ReturnType<typeof startSmtpSink>>;
type Postfix = ChildService & { ports: { submission: number; fromNginx: number }; log: () => string };

const policyCheck = (port: number) => `check_policy_service { inet:127.0.0.1:${port}, timeout=10s, default_action=DEFER_IF_PERMIT }`;
const policyMainCf = (port: number) =>
  [`smtpd_recipient_restrictions = ${policyCheck(port)}, permit_sasl_authenticated, reject`, `smtpd_end_of_data_restrictions = ${policyCheck(port)}`].join(
    '\n',
  );

const sendWith = (postfix: Postfix, user: string, password: string, from: string, subject: string) =>
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

// swaks prints the server's answer to RCPT TO on the next line: ` <** 554 5.7.1 ...` (or ` <- 250 ...`).
const rcptReply = (output: string) => /RCPT TO:[^\n]*\n\s*<[-*~]+\s+(\d{3} [^\n]*)/.exec(output)?.[1] ?? output;

async function deliveredTo(sink: Sink, subject: string): Promise<boolean> {
  for (let i = 0; i < 100; i += 1) {
    if (sink.messages.some((m) => m.body.includes(`Subject: ${subject}`))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('Postfix check_policy_service against relaykey', () => {
  const clock = new ManualClock(new Date(Math.floor(Date.now() / HOUR) * HOUR + 30 * 60_000));
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;
  let burst: SeededTenant;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let postfix: Postfix;
  let sink: Sink;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    ensureMailTools();
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-policy-'));
    sink = await startSmtpSink();
    const policyPort = await freePort();
    server = await startTestServer('sqlite', {
      clock,
      env: { RELAYKEY_POLICY_PORT: String(policyPort), RELAYKEY_TRUSTED_PROXIES: '127.0.0.1/32', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' },
    });
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
    burst = await seedTenant(server, 'Burst');
    await receiver.start();
    dovecot = await startDovecot(join(dir, 'dovecot'), server.url, acme.verifier);
    postfix = await startPostfix(join(dir, 'postfix'), {
      relayPort: sink.port,
      saslSocket: dovecot.authSocket,
      nginxAddress: '127.0.0.1',
      extraMainCf: policyMainCf(policyPort),
    });
  }, 600_000);

  afterAll(async () => {
    await postfix?.stop();
    await dovecot?.stop();
    await server?.close();
    await sink?.close();
    await receiver.stop();
  });

  const send = (user: string, password: string, from: string, subject: string) => sendWith(postfix, user, password, from, subject);
  const delivered = (subject: string) => deliveredTo(sink, subject);

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
    // A second relaykey node on the same database reads the same counters (and would defer too).
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    const other: RunningServer = await startServer(loadConfig({ ...server.env, RELAYKEY_POLICY_PORT: '0' }), {
      logger: createLogger({ level: 'info', destination: quiet }),
      clock,
    });
    try {
      const usage = await call({ url: other.url }, 'GET', `/api/v1/tenants/${acme.tenantId}/credentials/${id}/usage`, { token: acme.bearer });
      expect(usage.status, usage.text).toBe(200);
      expect(usage.body.hour).toMatchObject({ messages: 1, deferred: 1 });
    } finally {
      await other.stop();
    }
    clock.advance(HOUR);
    const retried = await send(id, secret, from, 'quota-2');
    expect(retried.code, retried.stdout).toBe(0);
    expect(await delivered('quota-2')).toBe(true);
  });

  it('auto-hold on: a burst past twice the hourly quota holds the key, one signed credential.locked, and its next SMTP login fails', async () => {
    const on = await call(server, 'PATCH', `/api/v1/tenants/${burst.tenantId}`, {
      token: burst.adminToken,
      body: { settings: { auto_hold: { enabled: true, quota_multiple: 2 } } },
    });
    expect(on.status, on.text).toBe(200);
    const hook = await call(server, 'POST', `/api/v1/tenants/${burst.tenantId}/webhooks`, { token: burst.bearer, body: { url: receiver.url } });
    receiver.secret = hook.body.secret;
    const created = await call(server, 'POST', `/api/v1/tenants/${burst.tenantId}/credentials`, {
      token: burst.bearer,
      body: { name: 'leaky', scopes: ['smtp'], sending_limits: { messages_per_hour: 1 } },
    });
    const { id, secret } = created.body as { id: string; secret: string };
    await server.runtime.scheduler.run('webhook-delivery');
    const from = receiver.received.length;
    const sender = `promo@${burst.loginAddress.split('@')[1]}`;
    const replies: string[] = [];
    for (let i = 1; i <= 3; i += 1) replies.push(rcptReply((await send(id, secret, sender, `burst-${i}`)).stdout));
    // 1 sent, 1 deferred over quota, the third attempt is past 2 x 1: held (and deferred, not lost).
    expect(replies[0]).toMatch(/^250 /);
    expect(replies[1]).toMatch(/^450 4\.7\.1 .*hourly quota/);
    expect(replies[2]).toMatch(/^450 4\.7\.1 .*sending held: abuse suspected/);
    expect(await delivered('burst-1')).toBe(true);

    await server.runtime.scheduler.run('webhook-delivery');
    const locked = receiver.received.slice(from).filter((d) => d.payload?.type === 'credential.locked');
    expect(locked).toHaveLength(1);
    expect(locked[0]?.verified).toBe(true);
    expect(locked[0]?.payload?.data).toMatchObject({ credential_id: id, reason: 'abuse_suspected', trigger: 'quota_multiple' });
    const credential = await call(server, 'GET', `/api/v1/tenants/${burst.tenantId}/credentials/${id}`, { token: burst.bearer });
    expect(credential.body.held).toBe(true);

    const after = await send(id, secret, sender, 'burst-after-hold');
    expect(after.code).not.toBe(0);
    expect(after.stdout).toMatch(/<~?\*+ 535 /);
    expect(sink.messages.some((m) => /Subject: burst-[23]|burst-after-hold/.test(m.body))).toBe(false);
  });
});

/** A bare SMTP client: one command, its whole reply (multi-line replies end at `NNN `). */
async function smtpSession(port: number) {
  const connection = await connectText(port);
  const replyTake: Take<string> = (unread) => {
    const match = /^(\d{3}) [^\n]*\r?\n/m.exec(unread);
    return match ? { value: unread.slice(0, match.index + match[0].length).trim(), length: match.index + match[0].length } : null;
  };
  const reply = () => connection.next(replyTake).catch((error: Error) => `closed: ${error.message}`);
  await reply(); // greeting
  return {
    async command(line: string): Promise<string> {
      connection.write(`${line}\r\n`);
      return reply();
    },
    close: connection.close,
  };
}

// The relaykey process itself (API, verify and policy listener) killed with SIGKILL: a client
// that had already authenticated gets 4xx at RCPT (Postfix's default_action), a new client gets
// 4xx (AUTH cannot be checked), nothing is accepted, queued or bounced.
describe('Postfix with the relaykey process killed', () => {
  let server: TestServer;
  let acme: SeededTenant;
  let relaykey: ServerProcess;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let postfix: Postfix;
  let sink: Sink;
  let dir: string;

  beforeAll(async () => {
    ensureMailTools();
    dir = mkdtempSync(join(tmpdir(), 'relaykey-policy-down-'));
    sink = await startSmtpSink();
    // The test server seeds the database; the relaykey that Dovecot and Postfix ask is its own process.
    server = await startTestServer('sqlite');
    acme = await seedTenant(server, 'Down');
    const policyPort = await freePort();
    relaykey = await spawnServer({ ...server.env, RELAYKEY_POLICY_PORT: String(policyPort), RELAYKEY_TRUSTED_PROXIES: '127.0.0.1/32' });
    dovecot = await startDovecot(join(dir, 'dovecot'), relaykey.url, acme.verifier);
    postfix = await startPostfix(join(dir, 'postfix'), {
      relayPort: sink.port,
      saslSocket: dovecot.authSocket,
      nginxAddress: '127.0.0.1',
      extraMainCf: policyMainCf(policyPort),
    });
  }, 600_000);

  afterAll(async () => {
    if (relaykey && relaykey.child.exitCode === null && relaykey.child.signalCode === null) relaykey.child.kill('SIGKILL');
    await postfix?.stop();
    await dovecot?.stop();
    await server?.close();
    await sink?.close();
  });

  it('relaykey stopped: Postfix defers (4xx), nothing accepted, queued or bounced', async () => {
    const created = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'during outage', scopes: ['smtp'], login_id: acme.loginId },
    });
    const secret = created.body.secret as string;
    // Through the relaykey process while it runs.
    const before = await sendWith(postfix, acme.loginAddress, secret, acme.loginAddress, 'before-kill');
    expect(before.code, before.stdout).toBe(0);
    expect(await deliveredTo(sink, 'before-kill')).toBe(true);

    const session = await smtpSession(postfix.ports.submission);
    expect(await session.command('EHLO client.test')).toMatch(/^250/m);
    const plain = Buffer.from(`\0${acme.loginAddress}\0${secret}`).toString('base64');
    expect(await session.command(`AUTH PLAIN ${plain}`)).toMatch(/^235 /);

    relaykey.child.kill('SIGKILL');
    await relaykey.exited;

    expect(await session.command(`MAIL FROM:<${acme.loginAddress}>`)).toMatch(/^250 /);
    expect(await session.command('RCPT TO:<bob@elsewhere.test>')).toMatch(/^450 4\.7\.1 /);
    expect(await session.command('DATA')).toMatch(/^554 /); // no valid recipients: nothing to accept
    await session.command('QUIT');
    session.close();

    // A new client cannot log in. Dovecot answers the AUTH with a temporary failure
    // (`FAIL ... code=temp_fail`), but Postfix 3.7 does not tell it from a wrong password and says
    // 535 5.7.8: the message is never accepted, so the client still holds it (a mail app may ask
    // for the password again). See docs/integrations/postfix.md.
    const fresh = await sendWith(postfix, acme.loginAddress, secret, acme.loginAddress, 'after-kill');
    expect(fresh.code).not.toBe(0);
    expect(fresh.stdout).toMatch(/<~?\*+ (4\d\d|535 5\.7\.8) /);
    expect(fresh.stdout).not.toMatch(/MAIL FROM/);

    // Nothing queued in Postfix, nothing delivered, no bounce sent anywhere.
    await new Promise((r) => setTimeout(r, 1000));
    const queued = execFileSync('find', ['incoming', 'active', 'deferred', 'hold', 'maildrop', '-type', 'f'], { cwd: join(dir, 'postfix', 'queue') })
      .toString()
      .trim();
    expect(queued).toBe('');
    expect(sink.messages.map((m) => m.body).filter((b) => !b.includes('Subject: before-kill'))).toEqual([]);
  });
});
