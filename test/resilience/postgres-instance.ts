// A private PostgreSQL for fault tests: its own data directory in a temp dir, its own free port,
// run as user `postgres` (initdb and pg_ctl refuse root). Never the shared 5432. It can be
// stopped, started, killed, made a hot standby of another (pg_basebackup) and promoted.
import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

function binDir(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql');
}

export const postgresAvailable = (() => {
  try {
    binDir();
    return true;
  } catch {
    return false;
  }
})();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** As user postgres when we are root (the tools refuse root), else as ourselves. */
async function asPostgres(command: string, args: string[]): Promise<string> {
  const full = join(binDir(), command);
  const isRoot = process.getuid?.() === 0;
  const { stdout } = isRoot ? await run('runuser', ['-u', 'postgres', '--', full, ...args], { cwd: '/tmp' }) : await run(full, args, { cwd: '/tmp' });
  return stdout;
}

function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  return dir;
}

let postgresIds: { uid: number; gid: number } | null = null;
function ids(): { uid: number; gid: number } {
  if (!postgresIds) {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line) throw new Error('no postgres user');
    const parts = line.split(':');
    postgresIds = { uid: Number(parts[2]), gid: Number(parts[3]) };
  }
  return postgresIds;
}
const uidOf = (_name: 'postgres') => ids().uid;
const gidOf = (_name: 'postgres') => ids().gid;

export interface PostgresInstance {
  port: number;
  dataDir: string;
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  start(): Promise<void>;
  /** Fast shutdown (sessions terminated, checkpoint). */
  stop(): Promise<void>;
  /** kill -9 of the postmaster (a crash). */
  kill(): Promise<void>;
  promote(): Promise<void>;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

export interface InstanceOptions {
  /** Make this a hot standby streaming from `primary` (pg_basebackup -R). */
  standbyOf?: PostgresInstance;
  /** On a primary: the standby application names that must confirm each commit (synchronous_standby_names). */
  synchronousStandbys?: string;
  /** application_name this standby connects with (for synchronous_standby_names). */
  applicationName?: string;
  extraConfig?: string;
}

export async function createPostgres(options: InstanceOptions = {}): Promise<PostgresInstance> {
  const root = ownedTempDir('relaykey-pg-');
  const dataDir = join(root, 'data');
  const port = await freePort();
  if (options.standbyOf) {
    await asPostgres('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(options.standbyOf.port),
      '-U',
      'postgres',
      '-D',
      dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    if (options.applicationName) {
      // -R wrote primary_conninfo into postgresql.auto.conf; name this standby in it.
      const conninfo = `host=127.0.0.1 port=${options.standbyOf.port} user=postgres application_name=${options.applicationName}`;
      appendConfig(dataDir, `primary_conninfo = '${conninfo}'\n`);
    }
    // Promoted, it must not wait for a synchronous standby of its own that does not exist.
    appendConfig(dataDir, "synchronous_standby_names = ''\n");
  } else {
    await asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    appendConfig(
      dataDir,
      [
        'wal_level = replica',
        'max_wal_senders = 5',
        'hot_standby = on',
        'fsync = on',
        'max_connections = 100',
        'shared_buffers = 32MB',
        options.synchronousStandbys ? `synchronous_standby_names = '${options.synchronousStandbys}'` : '',
        options.extraConfig ?? '',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    if (process.getuid?.() === 0) chownSync(join(dataDir, 'pg_hba.conf'), uidOf('postgres'), gidOf('postgres'));
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ctl = (args: string[]) => asPostgres('pg_ctl', ['-D', dataDir, ...args]);
  const instance: PostgresInstance = {
    port,
    dataDir,
    url,
    start: async () => {
      await ctl(['-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
    },
    stop: async () => {
      await ctl(['-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => undefined);
    },
    kill: async () => {
      await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    },
    promote: async () => {
      await ctl(['-w', '-t', '60', 'promote']);
    },
    query: async <T>(text: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return (await client.query(text, params)).rows as T[];
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    destroy: async () => {
      await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}

function appendConfig(dataDir: string, text: string): void {
  const file = join(dataDir, 'postgresql.auto.conf');
  appendFileSync(file, text);
  if (process.getuid?.() === 0) chownSync(file, uidOf('postgres'), gidOf('postgres'));
}

/**
 * Every process of an instance's cluster: the postmaster (first line of postmaster.pid) and
 * its children (backends, checkpointer, walwriter, ...), postmaster first.
 */
export function clusterPids(instance: PostgresInstance): number[] {
  const postmaster = Number(readFileSync(join(instance.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return [postmaster, ...children];
}

/**
 * A hung server: SIGSTOP to the postmaster and every process it has forked, so connections stay
 * open (the kernel still accepts and acknowledges) but nothing answers. Returns the resume.
 */
export function hang(instance: PostgresInstance): () => void {
  const postmaster = clusterPids(instance)[0] as number;
  // The postmaster first, so it forks nothing new while its children are stopped.
  process.kill(postmaster, 'SIGSTOP');
  const stopped = clusterPids(instance);
  for (const pid of stopped.slice(1)) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of stopped.slice(1)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    process.kill(postmaster, 'SIGCONT');
  };
}
