// The environment, parsed once at start by one schema; a bad value stops the start with one clear line.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, type TLiteral, Type } from 'typebox';
import { isValidCidr } from './domain/network.js';
import { ConfigError } from './errors.js';

export { ConfigError };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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
  logLevel: LogLevel;
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
  /** Minutes between signed checkpoints of the audit chain heads (log line + `audit.checkpoint` webhook); 0: none. */
  auditCheckpointMinutes: number;
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

export const EXIT_CONFIG = 78;

/** `on` (the default) or `off`. */
function OnOff(description: string) {
  return Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on', description });
}

/**
 * Every environment variable relaykey reads: its type, bounds, default and meaning, once.
 * loadConfig parses by it, and the README's configuration table is generated from it
 * (`npm run docs:config`; test/unit/config-schema.test.ts fails when they differ).
 * `x-file`: the value may come from the file named by `<NAME>_FILE` instead.
 * `x-default`: how the README shows a default that is computed, or what unset means.
 */
export const ConfigSchema = Type.Object({
  RELAYKEY_DATABASE_URL: Type.Optional(
    Type.String({
      'x-file': true,
      'x-default': '`sqlite:./data/relaykey.db`',
      description:
        'or `postgres://user@host:5432/db`; several hosts (`postgres://user@h1:5432,h2:5432/db`): writes go to the one that accepts them, found again after a failover (see [docs/scale-out.md](docs/scale-out.md)). The SQLite default lives in `RELAYKEY_DATA_DIR`',
    }),
  ),
  RELAYKEY_DATABASE_PASSWORD: Type.Optional(Type.String({ 'x-file': true, description: 'the password for a `postgres://` URL that carries none' })),
  RELAYKEY_DATABASE_POOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1_000,
    default: 10,
    description: 'PostgreSQL connections per node (per host when several)',
  }),
  RELAYKEY_DATABASE_REPLICA_URLS: Type.Optional(
    Type.String({
      description:
        'PostgreSQL hot standbys (comma list, one host each) for cold verify lookups and credential lists, used only while within the lag bound of the primary; a key changed within the bound is read from the primary (see [docs/scale-out.md](docs/scale-out.md))',
    }),
  ),
  RELAYKEY_DATABASE_REPLICA_MAX_LAG_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 1_000,
    description: 'how far behind the primary a standby may be and still answer',
  }),
  RELAYKEY_DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5_000,
    description: 'PostgreSQL connect timeout; also the longest a request waits for a free pooled connection. Past it: `503 DATABASE_TIMEOUT`',
  }),
  RELAYKEY_DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 15_000,
    description:
      'PostgreSQL `statement_timeout`; the client also stops waiting 1 s after it (a hung server) and closes that connection; `idle_in_transaction_session_timeout` is twice it. Past it a request answers `503 DATABASE_TIMEOUT`',
  }),
  RELAYKEY_DATABASE_LOCK_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 5_000,
    description: 'PostgreSQL `lock_timeout`; past it a request answers `503 DATABASE_TIMEOUT`. SQLite waits up to 5 s for its write lock',
  }),
  RELAYKEY_STARTUP_WAIT_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 60,
    description: 'start-up with the database unreachable waits and retries this long before exiting',
  }),
  RELAYKEY_VERIFY_STALE_MAX_MS: Type.Integer({
    minimum: 0,
    maximum: 86_400_000,
    default: 600_000,
    description:
      'while the database is down, cached credentials and verifier tokens keep answering until they are this old (no revocation can be written meanwhile); keys not cached answer `503` / nginx temporary error / Dovecot tempfail. `0`: fail closed at once',
  }),
  RELAYKEY_HOST: Type.String({ default: '127.0.0.1', description: 'listen address' }),
  RELAYKEY_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'listen port (`0`: any free port)' }),
  RELAYKEY_MASTER_KEY: Type.Optional(
    Type.String({
      'x-file': true,
      description:
        'base64 of 32 random bytes, or `v1:<b64>,v2:<b64>` during root-key rotation. Unset in embedded (SQLite) mode: a 0600 key file `master.key` is created in the data directory with a loud warning; required with PostgreSQL',
    }),
  ),
  RELAYKEY_DATA_DIR: Type.String({ default: './data', description: 'the SQLite file and the key file' }),
  RELAYKEY_TLS_CERT_FILE: Type.Optional(
    Type.String({
      description: 'serve HTTPS with this PEM certificate chain (with `RELAYKEY_TLS_KEY_FILE`: both or neither; SIGHUP reloads them; docs/operations.md)',
    }),
  ),
  RELAYKEY_TLS_KEY_FILE: Type.Optional(Type.String({ description: 'the PEM private key of `RELAYKEY_TLS_CERT_FILE`' })),
  RELAYKEY_REDIS_URL: Type.Optional(Type.String({ 'x-file': true, description: 'shared rate-limit counters and cache invalidation across nodes' })),
  RELAYKEY_REDIS_TIMEOUT_MS: Type.Integer({
    minimum: 5,
    maximum: 60_000,
    default: 50,
    description:
      "longest wait for one Redis command; Redis is optional at run time: while it is away or slow, this node's own throttle counters answer and PostgreSQL NOTIFY carries credential changes; a node starts without it and joins it when it returns (`relaykey_redis_up` in `/metrics`, `redis` in `/readyz`)",
  }),
  RELAYKEY_WEBHOOK_ALLOW_NETWORKS: Type.Optional(Type.String({ 'x-list': 'cidr', description: 'CIDRs webhooks may target although private' })),
  RELAYKEY_DOVEADM_URLS: Type.Optional(
    Type.String({
      description:
        "Dovecot doveadm HTTP APIs (`http://host:port`, comma list): after a revoke or hold, relaykey asks each to `kick` the key's identity so open IMAP/POP3 sessions end ([dovecot.md](docs/integrations/dovecot.md))",
    }),
  ),
  RELAYKEY_DOVEADM_API_KEY: Type.Optional(
    Type.String({ 'x-file': true, description: '`doveadm_api_key` of the Dovecots in `RELAYKEY_DOVEADM_URLS` (required with them)' }),
  ),
  RELAYKEY_TRUSTED_PROXIES: Type.Optional(
    Type.String({
      'x-list': 'cidr',
      description:
        "CIDRs of proxies (nginx, a Dovecot that checks passwords again) whose own address may reach relaykey as the client's: a verification from such an address is never throttled and never matches a key's allowed networks (counted in `relaykey_trusted_proxy_verifications_total`); only these may set `X-Forwarded-For` for relaykey's own HTTP API. Pass the real client address on instead (nginx `Client-IP`, PROXY protocol to Dovecot and Postfix)",
    }),
  ),
  RELAYKEY_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)) as [TLiteral<LogLevel>, ...TLiteral<LogLevel>[]],
    { default: 'info', description: 'pino level' },
  ),
  RELAYKEY_DENIED_LOG_PER_SECOND: Type.Integer({
    minimum: 0,
    maximum: 100_000,
    default: 20,
    description:
      "most `verification denied` log lines a second (reason, user name, client address; never the secret); the rest are counted in `relaykey_denied_log_suppressed_total` and the next line's `suppressed_before`; `0` turns the line off. Allowed verifications log at `debug`",
  }),
  RELAYKEY_ADMIN_SESSION_MINUTES: Type.Integer({ minimum: 1, maximum: 43_200, default: 720, description: 'admin session lifetime' }),
  RELAYKEY_REAUTH_MINUTES: Type.Integer({ minimum: 1, maximum: 60, default: 5, description: 're-auth token lifetime' }),
  RELAYKEY_ADMIN_IDLE_MINUTES: Type.Integer({ minimum: 1, maximum: 43_200, default: 30, description: 'an admin session unused this long ends' }),
  RELAYKEY_ADMIN_MAX_SESSIONS: Type.Integer({
    minimum: 1,
    maximum: 1_000,
    default: 10,
    description: 'live sessions per admin; a sign-in beyond it ends the least recently used',
  }),
  RELAYKEY_ADMIN_THROTTLE_AFTER: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 3,
    description: 'failed admin sign-ins / re-auths (per account, client IP, session) before waits begin (doubling, 60 s cap, 429 + `Retry-After`)',
  }),
  RELAYKEY_MAIL_BACKENDS: Type.Optional(
    Type.String({
      description: "`smtp=IP:PORT,imap=IP:PORT,pop3=IP:PORT`: where nginx sends an authenticated client (a tenant's `mail_backends` overrides it)",
    }),
  ),
  RELAYKEY_THROTTLE_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 900,
    description: 'failed-login throttle: the sliding window (slows down early, never locks for good)',
  }),
  RELAYKEY_THROTTLE_IP_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 20,
    description: 'failed-login throttle: failures per client IP and window',
  }),
  RELAYKEY_THROTTLE_USERNAME_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 10,
    description: 'failed-login throttle: failures per username and window',
  }),
  RELAYKEY_THROTTLE_SLOWDOWN_AFTER: Type.Integer({
    minimum: 0,
    maximum: 100_000,
    default: 3,
    description: 'failed-login throttle: failures before answers slow down',
  }),
  RELAYKEY_THROTTLE_MAX_DELAY_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 30,
    description: 'failed-login throttle: the longest wait asked for',
  }),
  RELAYKEY_VERIFY_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 30_000,
    description: 'verify cache backstop TTL (changes reach every node at once via PostgreSQL NOTIFY or Redis)',
  }),
  RELAYKEY_VERIFY_CACHE_MAX_ENTRIES: Type.Integer({
    minimum: 1,
    maximum: 100_000_000,
    default: 50_000,
    description: 'verify cache size: about 0.5 KB per entry, the least recently used key goes first when full',
  }),
  RELAYKEY_USAGE_FLUSH_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 2_000,
    description: 'how often last-used times and sessions are written, in batches',
  }),
  RELAYKEY_SMTP_ROTATION_MONTHS: Type.Integer({
    minimum: 1,
    maximum: 120,
    default: 6,
    description: "scheduled rotation of each tenant's vaulted SMTP account",
  }),
  RELAYKEY_AUDIT_CHECKPOINT_MINUTES: Type.Integer({
    minimum: 0,
    maximum: 10_080,
    default: 15,
    description:
      'minutes between signed checkpoints of every audit chain head (a log line `audit checkpoint` and `audit.checkpoint` webhooks); `0` turns them off. See [docs/security.md](docs/security.md)',
  }),
  RELAYKEY_JOBS: OnOff('background jobs on this node'),
  RELAYKEY_JOB_INTERVAL_MS: Type.Optional(
    Type.Integer({ minimum: 50, maximum: 86_400_000, 'x-default': 'per job', description: 'one interval for all jobs (tests)' }),
  ),
  RELAYKEY_POLICY_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      'x-default': 'unset (off)',
      description:
        'Postfix policy delegation listener (`check_policy_service inet:HOST:PORT`): allowed senders and quotas per credential, see [docs/integrations/postfix.md](docs/integrations/postfix.md)',
    }),
  ),
  RELAYKEY_POLICY_HOST: Type.String({ default: '127.0.0.1', description: 'address of the policy listener' }),
  RELAYKEY_POLICY_MAX_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'policy listener: open connections' }),
  RELAYKEY_POLICY_IDLE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 300,
    description: 'policy listener: idle time before a connection is closed',
  }),
  RELAYKEY_POLICY_DECISION_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600_000,
    default: 5_000,
    description: 'policy listener: longest decision before `DEFER_IF_PERMIT 4.3.0`',
  }),
  RELAYKEY_FAST_PATH: OnOff('answer `POST /api/v1/verify` and `GET /auth/nginx` on a lean `node:http` path (same answers as the Fastify routes)'),
});

/** The environment as the schema types it, defaults applied. */
export type Environment = Static<typeof ConfigSchema>;
type VariableName = keyof Environment & string;

interface VariableSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  anyOf?: { const: string }[];
  'x-file'?: boolean;
  'x-list'?: 'cidr';
  'x-default'?: string;
}

function variables(): [VariableName, VariableSchema][] {
  return Object.entries(ConfigSchema.properties) as unknown as [VariableName, VariableSchema][];
}

function choiceText(choices: string[]): string {
  return choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
}

/** One variable's value from its text, by its schema; an empty or unset variable takes the default. */
function parseVariable(name: VariableName, schema: VariableSchema, env: NodeJS.ProcessEnv): unknown {
  const raw = schema['x-file'] ? secretFromEnv(env, name) : env[name];
  if (raw === undefined || raw === '') return schema.default;
  if (schema.type === 'integer') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
    const value = Number(raw);
    const minimum = schema.minimum ?? 0;
    const maximum = schema.maximum ?? Number.MAX_SAFE_INTEGER;
    if (value < minimum || value > maximum) throw new ConfigError(`${name} must be between ${minimum} and ${maximum} (got ${value})`);
    return value;
  }
  if (schema.anyOf) {
    const choices = schema.anyOf.map((choice) => choice.const);
    if (!choices.includes(raw)) throw new ConfigError(`${name} must be ${choiceText(choices)} (got "${raw}")`);
    return raw;
  }
  if (schema['x-list'] === 'cidr') {
    for (const cidr of commaList(raw)) {
      if (!isValidCidr(cidr)) throw new ConfigError(`${name} must be a comma list of CIDRs (got "${cidr}")`);
    }
  }
  return raw;
}

/** Reads every variable of the schema from `env`: checked, typed, defaults applied. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const values: Record<string, unknown> = {};
  for (const [name, schema] of variables()) {
    const value = parseVariable(name, schema, env);
    if (value !== undefined) values[name] = value;
  }
  return values as Environment;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The README's configuration table, one row per variable, from the schema. */
export function configurationTable(): string {
  const rows = variables().map(([name, schema]) => {
    const variable = schema['x-file'] ? `\`${name}\` (or \`${name}_FILE\`)` : `\`${name}\``;
    const fallback = schema['x-default'] ?? (schema.default === undefined ? 'unset' : `\`${String(schema.default)}\``);
    return `| ${variable} | ${fallback} | ${escapeCell(schema.description ?? '')} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const README_TABLE_START = '<!-- configuration table: generated from ConfigSchema in src/config.ts by `npm run docs:config` -->';
export const README_TABLE_END = '<!-- end of configuration table -->';

function commaList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

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

function doveadm(environment: Environment): Config['doveadm'] {
  const urls = commaList(environment.RELAYKEY_DOVEADM_URLS);
  if (urls.length === 0) return null;
  for (const url of urls) {
    if (!/^https?:\/\/[^/\s]+/.test(url))
      throw new ConfigError(`RELAYKEY_DOVEADM_URLS must be a comma list of http(s) URLs of doveadm's HTTP API (got "${url}")`);
  }
  const apiKey = environment.RELAYKEY_DOVEADM_API_KEY;
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

function tlsFiles(environment: Environment): Config['tls'] {
  const certFile = environment.RELAYKEY_TLS_CERT_FILE;
  const keyFile = environment.RELAYKEY_TLS_KEY_FILE;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError('set both RELAYKEY_TLS_CERT_FILE and RELAYKEY_TLS_KEY_FILE, or neither');
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = readEnvironment(env);
  const dataDir = resolve(e.RELAYKEY_DATA_DIR);
  const databaseUrl = withDatabasePassword(e.RELAYKEY_DATABASE_URL || `sqlite:${resolve(dataDir, 'relaykey.db')}`, e.RELAYKEY_DATABASE_PASSWORD);
  let dialect: Config['dialect'];
  if (databaseUrl.startsWith('sqlite:')) dialect = 'sqlite';
  else if (/^postgres(ql)?:\/\//.test(databaseUrl)) dialect = 'postgres';
  else throw new ConfigError(`RELAYKEY_DATABASE_URL must start with sqlite: or postgres:// (got "${databaseUrl.split(':')[0]}:...")`);
  return {
    databaseUrl,
    dialect,
    host: e.RELAYKEY_HOST,
    port: e.RELAYKEY_PORT,
    masterKey: e.RELAYKEY_MASTER_KEY,
    dataDir,
    redisUrl: e.RELAYKEY_REDIS_URL,
    webhookAllowNetworks: commaList(e.RELAYKEY_WEBHOOK_ALLOW_NETWORKS),
    trustedProxies: commaList(e.RELAYKEY_TRUSTED_PROXIES),
    doveadm: doveadm(e),
    mailBackends: parseMailBackends(e.RELAYKEY_MAIL_BACKENDS),
    verifyCacheTtlMs: e.RELAYKEY_VERIFY_CACHE_TTL_MS,
    verifyCacheMaxEntries: e.RELAYKEY_VERIFY_CACHE_MAX_ENTRIES,
    fastPath: e.RELAYKEY_FAST_PATH === 'on',
    usageFlushMs: e.RELAYKEY_USAGE_FLUSH_MS,
    throttle: {
      windowMs: e.RELAYKEY_THROTTLE_WINDOW_SECONDS * 1000,
      ipLimit: e.RELAYKEY_THROTTLE_IP_LIMIT,
      usernameLimit: e.RELAYKEY_THROTTLE_USERNAME_LIMIT,
      slowdownAfter: e.RELAYKEY_THROTTLE_SLOWDOWN_AFTER,
      maxDelaySeconds: e.RELAYKEY_THROTTLE_MAX_DELAY_SECONDS,
    },
    logLevel: e.RELAYKEY_LOG_LEVEL,
    tls: tlsFiles(e),
    deniedLogPerSecond: e.RELAYKEY_DENIED_LOG_PER_SECOND,
    adminSessionMinutes: e.RELAYKEY_ADMIN_SESSION_MINUTES,
    reauthMinutes: e.RELAYKEY_REAUTH_MINUTES,
    adminIdleMinutes: e.RELAYKEY_ADMIN_IDLE_MINUTES,
    adminMaxSessions: e.RELAYKEY_ADMIN_MAX_SESSIONS,
    adminThrottleAfter: e.RELAYKEY_ADMIN_THROTTLE_AFTER,
    smtpRotationMonths: e.RELAYKEY_SMTP_ROTATION_MONTHS,
    auditCheckpointMinutes: e.RELAYKEY_AUDIT_CHECKPOINT_MINUTES,
    jobsEnabled: e.RELAYKEY_JOBS === 'on',
    jobIntervalMs: e.RELAYKEY_JOB_INTERVAL_MS,
    databasePoolSize: e.RELAYKEY_DATABASE_POOL_SIZE,
    databaseTimeouts: {
      connectTimeoutMs: e.RELAYKEY_DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.RELAYKEY_DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: e.RELAYKEY_DATABASE_LOCK_TIMEOUT_MS,
    },
    startupWaitSeconds: e.RELAYKEY_STARTUP_WAIT_SECONDS,
    verifyStaleMaxMs: e.RELAYKEY_VERIFY_STALE_MAX_MS,
    redisTimeoutMs: e.RELAYKEY_REDIS_TIMEOUT_MS,
    databaseReplicaUrls: replicaUrls(e.RELAYKEY_DATABASE_REPLICA_URLS, dialect),
    databaseReplicaMaxLagMs: e.RELAYKEY_DATABASE_REPLICA_MAX_LAG_MS,
    policy: {
      port: e.RELAYKEY_POLICY_PORT,
      host: e.RELAYKEY_POLICY_HOST,
      maxConnections: e.RELAYKEY_POLICY_MAX_CONNECTIONS,
      idleTimeoutMs: e.RELAYKEY_POLICY_IDLE_SECONDS * 1000,
      decisionTimeoutMs: e.RELAYKEY_POLICY_DECISION_TIMEOUT_MS,
    },
  };
}
