// A database outage seen through real mail servers (issue 21, point 2): relaykey runs as its own
// process on a private PostgreSQL that the test stops; real Dovecot (Lua passdb) and nginx
// (mail proxy, auth_http) ask it. A login the node verified before the outage keeps working; a
// valid key it has never seen gets a *temporary* failure from each server (Dovecot
// `NO [UNAVAILABLE]` / `-ERR [SYS/TEMP]`, nginx's "Temporary server problem"), never the
// wrong-password answer a mail app would take as a cue to ask its user for a new password;
// once PostgreSQL is back the same key logs in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KEY_PREFIXES } from '../../src/crypto/key-format.js';
import { call, type SeededTenant } from '../helpers/api.js';
import { ensureMailTools, putMessage, startDovecot, startNginx } from '../helpers/mail.js';
import { type ServerProcess, stopServerProcess } from '../helpers/process.js';
import { nodeEnv, seed, sleep, startNode } from './helpers.js';
import { connectText, lineMatching } from '../helpers/text-socket.js';
import { createPostgres, type PostgresInstance, postgresAvailable } from './postgres-instance.js';

/**
 * One IMAP or POP3 login over a raw connection: the server's answer line to it (the tagged
 * IMAP reply, or POP3's reply to PASS). Raw, because curl reports every refusal as exit 67 and
 * hides whether it was temporary.
 */
async function login(kind: 'imap' | 'pop3', port: number, user: string, password: string): Promise<string> {
  const connection = await connectText(port);
  const answer = (last: (text: string) => boolean) => withTimeout(lineMatching(connection, last), `${kind} login on ${port}`);
  try {
    if (kind === 'imap') {
      await answer((text) => text.startsWith('* OK'));
      connection.write(`a LOGIN "${user}" "${password}"\r\n`);
      return await answer((text) => text.startsWith('a '));
    }
    await answer((text) => text.startsWith('+OK'));
    connection.write(`USER ${user}\r\n`);
    const userReply = await answer((text) => /^[+-]/.test(text));
    if (userReply.startsWith('-ERR')) return userReply;
    connection.write(`PASS ${password}\r\n`);
    return await answer((text) => /^[+-]/.test(text));
  } finally {
    connection.write(kind === 'imap' ? 'z LOGOUT\r\n' : 'QUIT\r\n');
    connection.close();
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe.skipIf(!postgresAvailable)('a database outage seen through real Dovecot and nginx', () => {
  let pgi: PostgresInstance;
  let node: ServerProcess;
  let tenant: SeededTenant;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let dir: string;
  let known: string;
  let unseen: string;
  let mangled: string;
  let forged: string;

  const mailKey = async (name: string) => {
    const created = await call(node, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, {
      token: tenant.bearer,
      body: { name, scopes: ['imap', 'pop3'], login_id: tenant.loginId },
    });
    expect(created.status, created.text).toBe(201);
    return created.body.secret as string;
  };

  beforeAll(async () => {
    ensureMailTools();
    dir = mkdtempSync(join(tmpdir(), 'relaykey-mail-outage-'));
    pgi = await createPostgres();
    // A short cache TTL: during the outage the known key is past it, so what answers is the
    // stale-while-down path, not the ordinary cache.
    const env = nodeEnv(pgi.url, { RELAYKEY_VERIFY_CACHE_TTL_MS: '1000', RELAYKEY_TRUSTED_PROXIES: '127.0.0.1/32' });
    node = await startNode(env);
    tenant = await seed(node, env);
    dovecot = await startDovecot(join(dir, 'dovecot'), node.url, tenant.verifier);
    nginx = await startNginx(join(dir, 'nginx'), node.url, tenant.verifier);
    const patched = await call(node, 'PATCH', `/api/v1/tenants/${tenant.tenantId}`, {
      token: tenant.adminToken,
      body: { mail_backends: { imap: `127.0.0.1:${dovecot.ports.imapFromNginx}`, pop3: `127.0.0.1:${dovecot.ports.pop3FromNginx}` } },
    });
    expect(patched.status, patched.text).toBe(200);
    putMessage(dovecot.home, tenant.loginAddress, '1.outage', 'Subject: hello\r\n\r\nbody\r\n');
    known = await mailKey('used before the outage');
    unseen = await mailKey('first used during the outage');
    // Its checksum fails: wrong whatever the database holds. A well-formed key no one issued:
    // only the database can tell it is wrong.
    mangled = `${unseen.slice(0, -4)}AAAA`;
    forged = generateKey(KEY_PREFIXES.credential);
  }, 600_000);

  afterAll(async () => {
    await nginx?.stop();
    await dovecot?.stop();
    await stopServerProcess(node);
    await pgi?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('before the outage: both keys log in, a wrong one is a wrong password', async () => {
    expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, known)).toMatch(/^a OK/);
    expect(await login('imap', nginx.ports.imap, tenant.loginAddress, known)).toMatch(/^a OK/);
    expect(await login('pop3', dovecot.ports.pop3, tenant.loginAddress, known)).toMatch(/^\+OK/);
    for (const wrong of [mangled, forged]) {
      expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, wrong)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    }
  }, 120_000);

  it('PostgreSQL stopped: the known key still logs in; the unseen one gets a temporary failure from each server', async () => {
    await pgi.stop();
    await sleep(1_500); // past the cache TTL: the known key now answers from the stale-while-down path
    expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, known)).toMatch(/^a OK/);
    expect(await login('pop3', dovecot.ports.pop3, tenant.loginAddress, known)).toMatch(/^\+OK/);
    expect(await login('imap', nginx.ports.imap, tenant.loginAddress, known)).toMatch(/^a OK/);

    const dovecotImap = await login('imap', dovecot.ports.imap, tenant.loginAddress, unseen);
    expect(dovecotImap).toMatch(/^a NO \[UNAVAILABLE\]/);
    const dovecotPop3 = await login('pop3', dovecot.ports.pop3, tenant.loginAddress, unseen);
    expect(dovecotPop3).toMatch(/^-ERR \[SYS\/TEMP\]/);
    const nginxImap = await login('imap', nginx.ports.imap, tenant.loginAddress, unseen);
    expect(nginxImap).toMatch(/^a NO .*Temporary server problem/);
    const nginxPop3 = await login('pop3', nginx.ports.pop3, tenant.loginAddress, unseen);
    expect(nginxPop3).toMatch(/^-ERR .*Temporary server problem/);
    // A well-formed key the node cannot check is not a wrong password either (it may be right);
    // one whose checksum fails is wrong without asking the database.
    expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, forged)).toMatch(/^a NO \[UNAVAILABLE\]/);
    expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, mangled)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
  }, 180_000);

  it('PostgreSQL back: the key first seen during the outage logs in', async () => {
    await pgi.start();
    const deadline = Date.now() + 15_000;
    let answer = '';
    while (Date.now() < deadline) {
      answer = await login('imap', dovecot.ports.imap, tenant.loginAddress, unseen);
      if (answer.startsWith('a OK')) break;
      await sleep(250);
    }
    expect(answer).toMatch(/^a OK/);
    expect(await login('imap', nginx.ports.imap, tenant.loginAddress, unseen)).toMatch(/^a OK/);
    expect(await login('imap', dovecot.ports.imap, tenant.loginAddress, forged)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
  }, 120_000);
});
