// The environment, parsed once at start; a bad value stops the start with one clear line.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isValidCidr } from './domain/network.js';

export interface Config {
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  host: string;
  port: number;
  masterKey: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  webhookAllowNetworks: string[];
  /** RELAYKEY_TRUSTED_PROXIES: CIDRs whose own address is never throttled or network-matched (nginx, a re-checking Dovecot). */
  trustedProxies: string[];
  /** RELAYKEY_DOVEADM_URLS + RELAYKEY_DOVEADM_API_KEY: Dovecot doveadm HTTP APIs told to kick a revoked or held key's sessions. */
  doveadm: { urls: string[]; apiKey: string } | null;
  /** Where nginx sends an authenticated client, per protocol (RELAYKEY_MAIL_BACKENDS). */
  mailBackends: MailBackendAddresses;
  /** Bound on how stale a cached verify answer may be when no invalidation arrives (ms). */
  verifyCacheTtlMs: number;
  /** Most credentials the verify cache holds (each entry is a few hundred bytes). */
  verifyCacheMaxEntries: number;
  /** Answer POST /api/v1/verify and GET /auth/nginx through the lean node:http handlers (RELAYKEY_FAST_PATH=off: through Fastify). */
  fastPath: boolean;
  /** How often batched last-used times and sessions are written (ms). */
  usageFlushMs: number;
  /** Failed-login throttling (see domain/throttle.ts for the defaults and their reasons). */
  throttle: { windowMs: number; ipLimit: number; usernameLimit: number; slowdownAfter: number; maxDelaySeconds: number };
  logLevel: string;
  /** RELAYKEY_TLS_CERT_FILE / RELAYKEY_TLS_KEY_FILE: serve HTTPS with this PEM certificate chain and key (reloaded on SIGHUP). */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Most denied-verification log lines per second (the rest are counted and summed up in the next line). */
  deniedLogPerSecond: number;
  adminSessionMinutes: number;
  reauthMinutes: number;
  /** An admin session unused this long ends. */
  adminIdleMinutes: number;
  /** Live sessions per admin; a sign-in beyond it ends the least recently used. */
  adminMaxSessions: number;
  /** Failed admin sign-ins (per account, client IP or session) before waits begin. */
  adminThrottleAfter: number;
  /** Months between scheduled rotations of a tenant's vaulted SMTP account. */
  smtpRotationMonths: number;
  /** RELAYKEY_JOBS=off: no interval timers (tests run jobs directly). */
  jobsEnabled: boolean;
  /** RELAYKEY_JOB_INTERVAL_MS: one interval for every job (multi-node tests use short ones). */
  jobIntervalMs: number | undefined;
  /** PostgreSQL connections per node (per host when several). */
  databasePoolSize: number;
  /** PostgreSQL connect, statement and lock timeouts (ms). */
  databaseTimeouts: { connectTimeoutMs: number; statementTimeoutMs: number; lockTimeoutMs: number };
  /** How long start-up waits for an unreachable database before giving up (s). */
  startupWaitSeconds: number;
  /** How long cached verify answers (and verifier tokens) keep answering while the database is down (ms). */
  verifyStaleMaxMs: number;
  /** Longest wait for any one Redis command before this node's own counters answer (ms). */
  redisTimeoutMs: number;
  /** PostgreSQL hot standbys for cold verify lookups and list reads. */
  databaseReplicaUrls: string[];
  /** How far behind the primary a standby may be and still answer (ms). */
  databaseReplicaMaxLagMs: number;
  /** Postfix policy delegation listener (RELAYKEY_POLICY_PORT; off when unset). */
  policy: { port: number | undefined; host: string; maxConnections: number; idleTimeoutMs: number; decisionTimeoutMs: number };
}

/** A configuration the service refuses to start with: one line, exit code 78 (EX_CONFIG). */
export class ConfigError extends Error {}

export const EXIT_CONFIG = 78;

export type MailProtocol = 'smtp' | 'imap' | 'pop3';
export interface MailBackendAddress {
  host: string;
  port: number;
}
export type MailBackendAddresses = Partial<Record<MailProtocol, MailBackendAddress>>;

/** Parses one `ip:port` (IPv6 as `[::1]:25`); nginx needs an IP literal in Auth-Server. */
export function parseBackendAddress(value: string): MailBackendAddress | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const host = (match[1] ?? match[2]) as string;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  if (match[2] && host.split('.').some((octet) => Number(octet) > 255)) return null;
  return { host, port };
}

/** `smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110` */
export function parseMailBackends(raw: string | undefined): MailBackendAddresses {
  const backends: MailBackendAddresses = {};
  if (!raw) return backends;
  for (const part of raw.split(',')) {
    if (!part.trim()) continue;
    const [name, address] = part.split('=', 2).map((s) => s.trim());
    if (name !== 'smtp' && name !== 'imap' && name !== 'pop3') {
      throw new ConfigError(`RELAYKEY_MAIL_BACKENDS: unknown protocol "${name}" (use smtp, imap, pop3)`);
    }
    const parsed = address ? parseBackendAddress(address) : null;
    if (!parsed) throw new ConfigError(`RELAYKEY_MAIL_BACKENDS: ${name} must be IP:PORT (got "${address ?? ''}")`);
    backends[name] = parsed;
  }
  return backends;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`${name} must be on or off (got "${raw}")`);
}

function jobsSwitch(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`RELAYKEY_JOBS must be on or off (got "${raw}")`);
}

function networks(raw: string | undefined, name = 'RELAYKEY_WEBHOOK_ALLOW_NETWORKS'): string[] {
  const list = (raw || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const cidr of list) {
    if (!isValidCidr(cidr)) throw new ConfigError(`${name} must be a comma list of CIDRs (got "${cidr}")`);
  }
  return list;
}

function doveadm(env: NodeJS.ProcessEnv): Config['doveadm'] {
  const urls = (env.RELAYKEY_DOVEADM_URLS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) return null;
  for (const url of urls) {
    if (!/^https?:\/\/[^/\s]+/.test(url))
      throw new ConfigError(`RELAYKEY_DOVEADM_URLS must be a comma list of http(s) URLs of doveadm's HTTP API (got "${url}")`);
  }
  const apiKey = secretFromEnv(env, 'RELAYKEY_DOVEADM_API_KEY');
  if (!apiKey) throw new ConfigError('RELAYKEY_DOVEADM_URLS needs RELAYKEY_DOVEADM_API_KEY (doveadm_api_key of those Dovecots)');
  return { urls: urls.map((url) => url.replace(/\/+$/, '')), apiKey };
}

/**
 * A secret from `NAME` or from the file named by `NAME_FILE` (Docker and systemd credentials,
 * Kubernetes secrets); surrounding whitespace is dropped. Both at once is a mistake.
 */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  if (!file) return direct || undefined;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!value) throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return value;
}

/** RELAYKEY_DATABASE_PASSWORD(_FILE) goes into a postgres:// URL that has none of its own. */
function withDatabasePassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('RELAYKEY_DATABASE_PASSWORD applies to a postgres:// RELAYKEY_DATABASE_URL only');
  // Several hosts (postgres://u@h1:5432,h2:5432/db) are not a WHATWG URL: edit the user part as text.
  const multiHost = /^(postgres(?:ql)?:\/\/)([^@/?#]*)@([^/?#]*,[^/?#]*)(.*)$/.exec(url);
  if (multiHost) {
    const [, scheme, userinfo = '', hosts, rest] = multiHost;
    if (userinfo.includes(':')) throw new ConfigError('RELAYKEY_DATABASE_URL already has a password; drop it or RELAYKEY_DATABASE_PASSWORD');
    return `${scheme}${userinfo}:${encodeURIComponent(password)}@${hosts}${rest}`;
  }
  const parsed = new URL(url);
  if (parsed.password) throw new ConfigError('RELAYKEY_DATABASE_URL already has a password; drop it or RELAYKEY_DATABASE_PASSWORD');
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

function replicaUrls(raw: string | undefined, dialect: Config['dialect']): string[] {
  const urls = (raw ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length > 0 && dialect !== 'postgres') throw new ConfigError('RELAYKEY_DATABASE_REPLICA_URLS needs a postgres:// RELAYKEY_DATABASE_URL');
  for (const url of urls) {
    if (!/^postgres(ql)?:\/\/[^,]+$/.test(url))
      throw new ConfigError(`RELAYKEY_DATABASE_REPLICA_URLS: each entry must be one postgres:// URL with one host (got "${url.split('@').pop()}")`);
  }
  return urls;
}

function tlsFiles(env: NodeJS.ProcessEnv): Config['tls'] {
  const certFile = env.RELAYKEY_TLS_CERT_FILE;
  const keyFile = env.RELAYKEY_TLS_KEY_FILE;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError('set both RELAYKEY_TLS_CERT_FILE and RELAYKEY_TLS_KEY_FILE, or neither');
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.RELAYKEY_DATA_DIR || './data');
  const databaseUrl = withDatabasePassword(
    secretFromEnv(env, 'RELAYKEY_DATABASE_URL') || `sqlite:${resolve(dataDir, 'relaykey.db')}`,
    secretFromEnv(env, 'RELAYKEY_DATABASE_PASSWORD'),
  );
  let dialect: Config['dialect'];
  if (databaseUrl.startsWith('sqlite:')) dialect = 'sqlite';
  else if (/^postgres(ql)?:\/\//.test(databaseUrl)) dialect = 'postgres';
  else throw new ConfigError(`RELAYKEY_DATABASE_URL must start with sqlite: or postgres:// (got "${databaseUrl.split(':')[0]}:...")`);
  const logLevel = env.RELAYKEY_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`RELAYKEY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`);
  }
  return {
    databaseUrl,
    dialect,
    host: env.RELAYKEY_HOST || '127.0.0.1',
    port: integer(env, 'RELAYKEY_PORT', 8080, 0, 65535),
    masterKey: secretFromEnv(env, 'RELAYKEY_MASTER_KEY'),
    dataDir,
    redisUrl: secretFromEnv(env, 'RELAYKEY_REDIS_URL'),
    webhookAllowNetworks: networks(env.RELAYKEY_WEBHOOK_ALLOW_NETWORKS),
    trustedProxies: networks(env.RELAYKEY_TRUSTED_PROXIES, 'RELAYKEY_TRUSTED_PROXIES'),
    doveadm: doveadm(env),
    mailBackends: parseMailBackends(env.RELAYKEY_MAIL_BACKENDS),
    verifyCacheTtlMs: integer(env, 'RELAYKEY_VERIFY_CACHE_TTL_MS', 30_000, 0, 3_600_000),
    verifyCacheMaxEntries: integer(env, 'RELAYKEY_VERIFY_CACHE_MAX_ENTRIES', 50_000, 1, 100_000_000),
    fastPath: onOff(env, 'RELAYKEY_FAST_PATH'),
    usageFlushMs: integer(env, 'RELAYKEY_USAGE_FLUSH_MS', 2_000, 100, 60_000),
    throttle: {
      windowMs: integer(env, 'RELAYKEY_THROTTLE_WINDOW_SECONDS', 900, 1, 86_400) * 1000,
      ipLimit: integer(env, 'RELAYKEY_THROTTLE_IP_LIMIT', 20, 1, 100_000),
      usernameLimit: integer(env, 'RELAYKEY_THROTTLE_USERNAME_LIMIT', 10, 1, 100_000),
      slowdownAfter: integer(env, 'RELAYKEY_THROTTLE_SLOWDOWN_AFTER', 3, 0, 100_000),
      maxDelaySeconds: integer(env, 'RELAYKEY_THROTTLE_MAX_DELAY_SECONDS', 30, 1, 300),
    },
    logLevel,
    tls: tlsFiles(env),
    deniedLogPerSecond: integer(env, 'RELAYKEY_DENIED_LOG_PER_SECOND', 20, 0, 100_000),
    adminSessionMinutes: integer(env, 'RELAYKEY_ADMIN_SESSION_MINUTES', 720, 1, 43200),
    reauthMinutes: integer(env, 'RELAYKEY_REAUTH_MINUTES', 5, 1, 60),
    adminIdleMinutes: integer(env, 'RELAYKEY_ADMIN_IDLE_MINUTES', 30, 1, 43200),
    adminMaxSessions: integer(env, 'RELAYKEY_ADMIN_MAX_SESSIONS', 10, 1, 1000),
    adminThrottleAfter: integer(env, 'RELAYKEY_ADMIN_THROTTLE_AFTER', 3, 1, 1_000_000),
    smtpRotationMonths: integer(env, 'RELAYKEY_SMTP_ROTATION_MONTHS', 6, 1, 120),
    jobsEnabled: jobsSwitch(env.RELAYKEY_JOBS),
    jobIntervalMs: env.RELAYKEY_JOB_INTERVAL_MS ? integer(env, 'RELAYKEY_JOB_INTERVAL_MS', 0, 50, 86_400_000) : undefined,
    databasePoolSize: integer(env, 'RELAYKEY_DATABASE_POOL_SIZE', 10, 1, 1_000),
    databaseTimeouts: {
      connectTimeoutMs: integer(env, 'RELAYKEY_DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
      statementTimeoutMs: integer(env, 'RELAYKEY_DATABASE_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
      lockTimeoutMs: integer(env, 'RELAYKEY_DATABASE_LOCK_TIMEOUT_MS', 5_000, 100, 3_600_000),
    },
    startupWaitSeconds: integer(env, 'RELAYKEY_STARTUP_WAIT_SECONDS', 60, 0, 86_400),
    verifyStaleMaxMs: integer(env, 'RELAYKEY_VERIFY_STALE_MAX_MS', 600_000, 0, 86_400_000),
    redisTimeoutMs: integer(env, 'RELAYKEY_REDIS_TIMEOUT_MS', 50, 5, 60_000),
    databaseReplicaUrls: replicaUrls(env.RELAYKEY_DATABASE_REPLICA_URLS, dialect),
    databaseReplicaMaxLagMs: integer(env, 'RELAYKEY_DATABASE_REPLICA_MAX_LAG_MS', 1_000, 0, 3_600_000),
    policy: {
      port: env.RELAYKEY_POLICY_PORT ? integer(env, 'RELAYKEY_POLICY_PORT', 0, 0, 65535) : undefined,
      host: env.RELAYKEY_POLICY_HOST || '127.0.0.1',
      maxConnections: integer(env, 'RELAYKEY_POLICY_MAX_CONNECTIONS', 1000, 1, 100_000),
      idleTimeoutMs: integer(env, 'RELAYKEY_POLICY_IDLE_SECONDS', 300, 1, 86_400) * 1000,
      decisionTimeoutMs: integer(env, 'RELAYKEY_POLICY_DECISION_TIMEOUT_MS', 5_000, 10, 600_000),
    },
  };
}
