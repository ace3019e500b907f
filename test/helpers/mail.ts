// Real mail software on loopback for the protocol tests: the Debian tools (installed when
// missing), templates rendered from docs/integrations/templates, nginx and Dovecot as child
// processes, and small SMTP/IMAP/POP3 sink backends that record what reached them.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { ROOT } from './server.js';

const execFileAsync = promisify(execFile);

let installed = false;
/** scripts/install-mail-tools.sh: a no-op when everything is there. */
export function ensureMailTools(): void {
  if (installed) return;
  execFileSync(join(ROOT, 'scripts/install-mail-tools.sh'), { stdio: 'inherit', timeout: 600_000 });
  installed = true;
}

export function renderTemplate(name: string, values: Record<string, string | number>): string {
  const text = readFileSync(join(ROOT, 'docs/integrations/templates', name), 'utf8');
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${name}: no value for {{${key}}}`);
    return String(values[key]);
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(command: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface ChildService {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function startChild(command: string, args: string[]): ChildService {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface NginxPorts {
  smtp: number;
  imap: number;
  pop3: number;
}

/** nginx -c FILE -p DIR with the rendered docs template; its own pid file, no daemon. */
export async function startNginx(dir: string, relaykeyUrl: string, verifierToken: string): Promise<ChildService & { ports: NginxPorts; dir: string }> {
  const ports = { smtp: await freePort(), imap: await freePort(), pop3: await freePort() };
  mkdirSync(dir, { recursive: true });
  const config = renderTemplate('nginx-mail.conf', {
    PREFIX: dir,
    LISTEN_ADDRESS: '127.0.0.1',
    RELAYKEY_ADDRESS: relaykeyUrl.replace(/^http:\/\//, ''),
    VERIFIER_TOKEN: verifierToken,
    SMTP_PORT: ports.smtp,
    IMAP_PORT: ports.imap,
    POP3_PORT: ports.pop3,
  });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config);
  const child = startChild('nginx', ['-c', file, '-p', dir, '-e', join(dir, 'error.log')]);
  try {
    await Promise.all([waitForPort(ports.smtp), waitForPort(ports.imap), waitForPort(ports.pop3)]);
  } catch (error) {
    await child.stop();
    throw new Error(`nginx did not start: ${child.output()} ${readFileSync(join(dir, 'error.log'), 'utf8')} (${error})`);
  }
  return { ...child, ports, dir };
}

/** dovecot -F -c FILE with the rendered docs templates (config + Lua passdb). */
export async function startDovecot(
  dir: string,
  relaykeyUrl: string,
  verifierToken: string,
  doveadm: { port: number; apiKey: string } = { port: 0, apiKey: 'unused' },
): Promise<ChildService & { ports: DovecotPorts; log: () => string; authSocket: string; home: string }> {
  const ports = { imap: await freePort(), pop3: await freePort(), imapFromNginx: await freePort(), pop3FromNginx: await freePort() };
  for (const sub of ['run', 'state', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  // Dovecot's auth worker runs as the `dovecot` user: it must reach the files (not their siblings).
  for (let path = dir; path !== dirname(path) && path.startsWith(tmpdir()) && path !== tmpdir(); path = dirname(path)) chmodSync(path, 0o755);
  chmodSync(join(dir, 'home'), 0o777);
  const tokenFile = join(dir, 'relaykey-verifier-token');
  writeFileSync(tokenFile, `${verifierToken}\n`, { mode: 0o400 });
  const dovecotUser = execFileSync('id', ['-u', 'dovecot']).toString().trim();
  const dovecotGroup = execFileSync('id', ['-g', 'dovecot']).toString().trim();
  chownSync(tokenFile, Number(dovecotUser), Number(dovecotGroup));
  writeFileSync(join(dir, 'relaykey-passdb.lua'), renderTemplate('relaykey-passdb.lua', { VERIFY_URL: `${relaykeyUrl}/api/v1/verify`, TOKEN_FILE: tokenFile }));
  const config = join(dir, 'dovecot.conf');
  writeFileSync(
    config,
    renderTemplate('dovecot.conf', {
      DIR: dir,
      INSTANCE: ports.imap,
      IMAP_PORT: ports.imap,
      POP3_PORT: ports.pop3,
      IMAP_PROXY_PORT: ports.imapFromNginx,
      POP3_PROXY_PORT: ports.pop3FromNginx,
      PROXY_NETWORK: '127.0.0.1/32',
      DOVEADM_PORT: doveadm.port,
      DOVEADM_API_KEY: doveadm.apiKey,
      AUTH_SOCKET: join(dir, 'run', 'sasl-auth'),
      MAIL_UID: 65534,
      MAIL_GID: 65534,
    }),
  );
  const child = startChild('dovecot', ['-F', '-c', config]);
  const log = () => {
    try {
      return readFileSync(join(dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await Promise.all([waitForPort(ports.imap), waitForPort(ports.pop3), waitForPort(ports.imapFromNginx), waitForPort(ports.pop3FromNginx)]);
  } catch (error) {
    await child.stop();
    throw new Error(`dovecot did not start: ${child.output()} ${log()} (${error})`);
  }
  return { ...child, ports, log, authSocket: join(dir, 'run', 'sasl-auth'), home: join(dir, 'home') };
}

export interface DovecotPorts {
  imap: number;
  pop3: number;
  /** The `haproxy = yes` listeners nginx connects to. */
  imapFromNginx: number;
  pop3FromNginx: number;
}

/** One message in a Dovecot user's Maildir (as delivery would leave it), owned by the mail user. */
export function putMessage(home: string, user: string, name: string, text: string): void {
  const maildir = join(home, user.toLowerCase(), 'Maildir');
  for (const sub of ['', 'new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  writeFileSync(join(maildir, 'new', name), text);
  for (const path of [join(home, user.toLowerCase()), maildir, ...['new', 'cur', 'tmp'].map((sub) => join(maildir, sub)), join(maildir, 'new', name)]) {
    chownSync(path, 65534, 65534);
  }
}

/**
 * A private Postfix (docs templates postfix-main.cf / postfix-master.cf) from its own config
 * directory on loopback ports: `master -c DIR -d`, no /etc/postfix needed, never port 25.
 */
export async function startPostfix(
  dir: string,
  /** extraMainCf: lines appended to main.cf (a later setting of a parameter wins). */
  options: { relayPort: number; saslSocket: string; nginxAddress: string; extraMainCf?: string },
): Promise<ChildService & { ports: { submission: number; fromNginx: number }; log: () => string }> {
  const ports = { submission: await freePort(), fromNginx: await freePort() };
  const etc = join(dir, 'etc');
  const queue = join(dir, 'queue');
  mkdirSync(etc, { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  for (let path = dir; path !== dirname(path) && path.startsWith(tmpdir()) && path !== tmpdir(); path = dirname(path)) chmodSync(path, 0o755);
  const postfixUid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  const postdropGid = Number(execFileSync('getent', ['group', 'postdrop']).toString().split(':')[2]);
  chownSync(join(dir, 'data'), postfixUid, 0);
  // The queue layout `postfix start` would create (post-install create-missing).
  const owned = ['incoming', 'active', 'deferred', 'defer', 'bounce', 'flush', 'hold', 'private', 'saved', 'trace', 'corrupt'];
  for (const sub of ['pid', ...owned, 'maildrop', 'public']) mkdirSync(join(queue, sub), { recursive: true });
  for (const sub of owned) {
    chownSync(join(queue, sub), postfixUid, 0);
    chmodSync(join(queue, sub), 0o700);
  }
  chownSync(join(queue, 'maildrop'), postfixUid, postdropGid);
  chmodSync(join(queue, 'maildrop'), 0o730);
  chownSync(join(queue, 'public'), postfixUid, postdropGid);
  chmodSync(join(queue, 'public'), 0o710);
  const values = {
    DIR: dir,
    RELAY_PORT: options.relayPort,
    SASL_SOCKET: options.saslSocket,
    SUBMISSION_PORT: ports.submission,
    NGINX_PORT: ports.fromNginx,
    NGINX_ADDRESS: options.nginxAddress,
  };
  writeFileSync(join(etc, 'main.cf'), renderTemplate('postfix-main.cf', values) + (options.extraMainCf ? `\n${options.extraMainCf}\n` : ''));
  writeFileSync(join(etc, 'master.cf'), renderTemplate('postfix-master.cf', values));
  const child = startChild('/usr/lib/postfix/sbin/master', ['-c', etc, '-d']);
  const log = () => {
    try {
      return readFileSync(join(dir, 'postfix.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await Promise.all([waitForPort(ports.submission), waitForPort(ports.fromNginx)]);
  } catch (error) {
    await child.stop();
    throw new Error(`postfix did not start: ${child.output()} ${log()} (${error})`);
  }
  return { ...child, ports, log };
}

/**
 * One PLAIN login over Dovecot's SASL auth socket, spoken exactly as Postfix's smtpd does
 * (smtpd_sasl_type = dovecot): service=smtp, the client's IP, the initial response.
 */
export async function dovecotSaslLogin(socketPath: string, user: string, password: string, clientIp = '127.0.0.1'): Promise<'OK' | 'FAIL'> {
  const socket = createConnection(socketPath);
  let received = '';
  const reply = new Promise<'OK' | 'FAIL'>((resolve, reject) => {
    socket.on('data', (chunk) => {
      received += String(chunk);
      const match = /^(OK|FAIL)\t1(\t|$)/m.exec(received);
      if (match) resolve(match[1] as 'OK' | 'FAIL');
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`auth socket closed: ${received}`)));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const initial = Buffer.from(`\u0000${user}\u0000${password}`, 'utf8').toString('base64');
  socket.write(`VERSION\t1\t1\nCPID\t${process.pid}\n`);
  socket.write(`AUTH\t1\tPLAIN\tservice=smtp\trip=${clientIp}\tlip=127.0.0.1\tnologin\tresp=${initial}\n`);
  try {
    return await reply;
  } finally {
    socket.destroy();
  }
}

export interface SinkMessage {
  from: string;
  to: string[];
  body: string;
}

/** An SMTP backend that accepts every message (nginx has already authenticated the client). */
export async function startSmtpSink(): Promise<{ port: number; messages: SinkMessage[]; close(): Promise<void> }> {
  const messages: SinkMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let body = '';
      stream.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          body,
        });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A line-based backend: IMAP (with literals, as nginx sends LOGIN) or POP3; records logins. */
export async function startLineSink(kind: 'imap' | 'pop3'): Promise<{ port: number; logins: { user: string; password: string }[]; close(): Promise<void> }> {
  const logins: { user: string; password: string }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    let pending: { line: string; need: number; parts: string[] } | null = null;
    const send = (text: string) => socket.write(`${text}\r\n`);
    send(kind === 'imap' ? '* OK [CAPABILITY IMAP4rev1] sink ready' : '+OK sink ready');
    let popUser = '';
    const handle = (line: string, literals: string[]) => {
      if (kind === 'pop3') {
        const [command = '', ...rest] = line.split(' ');
        const arg = rest.join(' ');
        switch (command.toUpperCase()) {
          case 'USER':
            popUser = arg;
            return send('+OK');
          case 'PASS':
            logins.push({ user: popUser, password: arg });
            return send('+OK logged in');
          case 'STAT':
            return send('+OK 0 0');
          case 'LIST':
          case 'UIDL':
            send('+OK 0 messages');
            return send('.');
          case 'QUIT':
            send('+OK bye');
            return socket.end();
          case 'CAPA':
            send('+OK');
            send('USER');
            return send('.');
          default:
            return send('+OK');
        }
      }
      const [tag = '*', command = ''] = line.split(' ');
      switch (command.toUpperCase()) {
        case 'LOGIN': {
          const inline = line.split(' ').slice(2);
          const values = [...literals];
          for (const word of inline) if (!/^\{\d+\}$/.test(word) && word) values.push(word.replace(/^"|"$/g, ''));
          logins.push({ user: values[0] ?? '', password: values[1] ?? '' });
          return send(`${tag} OK LOGIN completed`);
        }
        case 'CAPABILITY':
          send('* CAPABILITY IMAP4rev1');
          return send(`${tag} OK CAPABILITY completed`);
        case 'LIST':
          send('* LIST () "/" INBOX');
          return send(`${tag} OK LIST completed`);
        case 'LOGOUT':
          send('* BYE');
          send(`${tag} OK LOGOUT completed`);
          return socket.end();
        default:
          return send(`${tag} OK done`);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (pending && pending.need > 0) {
          if (buffer.length < pending.need) return;
          pending.parts.push(buffer.subarray(0, pending.need).toString('utf8'));
          buffer = buffer.subarray(pending.need);
          pending.need = 0;
        }
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.subarray(0, end).toString('utf8');
        buffer = buffer.subarray(end + 2);
        const literal = kind === 'imap' ? /\{(\d+)\}$/.exec(line) : null;
        if (literal) {
          pending ??= { line: '', need: 0, parts: [] };
          pending.line += `${line} `;
          pending.need = Number(literal[1]);
          send('+ go ahead');
          continue;
        }
        if (pending) {
          const { line: start, parts } = pending;
          pending = null;
          handle(`${start}${line}`.trim(), parts);
        } else handle(line, []);
      }
    });
    socket.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    logins,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
