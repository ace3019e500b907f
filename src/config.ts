// The environment, parsed once at start; a bad value stops the start with one clear line.
import { resolve } from 'node:path';

export interface Config {
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  host: string;
  port: number;
  masterKey: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  webhookAllowNetworks: string[];
  mailBackends: string | undefined;
  logLevel: string;
  adminSessionMinutes: number;
  reauthMinutes: number;
  /** Months between scheduled rotations of a tenant's vaulted SMTP account. */
  smtpRotationMonths: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.RELAYKEY_DATA_DIR || './data');
  const databaseUrl = env.RELAYKEY_DATABASE_URL || `sqlite:${resolve(dataDir, 'relaykey.db')}`;
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
    masterKey: env.RELAYKEY_MASTER_KEY || undefined,
    dataDir,
    redisUrl: env.RELAYKEY_REDIS_URL || undefined,
    webhookAllowNetworks: (env.RELAYKEY_WEBHOOK_ALLOW_NETWORKS || '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    mailBackends: env.RELAYKEY_MAIL_BACKENDS || undefined,
    logLevel,
    adminSessionMinutes: integer(env, 'RELAYKEY_ADMIN_SESSION_MINUTES', 720, 1, 43200),
    reauthMinutes: integer(env, 'RELAYKEY_REAUTH_MINUTES', 5, 1, 60),
    smtpRotationMonths: integer(env, 'RELAYKEY_SMTP_ROTATION_MONTHS', 6, 1, 120),
  };
}
