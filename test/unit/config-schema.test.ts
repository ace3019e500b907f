// Configuration is one schema: loadConfig parses by it, its defaults are the defaults, and the
// README's configuration table is generated from it (a table edited by hand, or a variable added
// without `npm run docs:config`, fails here). Root-secret problems are configuration errors too.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigSchema, configurationTable, loadConfig, readEnvironment } from '../../src/config.js';
import { withConfigurationTable } from '../../src/config-table.js';
import { loadRootSecret, parseMasterKey } from '../../src/crypto/root-secret.js';

const ROOT = join(import.meta.dirname, '../..');
const defaultOf = (name: keyof typeof ConfigSchema.properties) => (ConfigSchema.properties[name] as unknown as { default: number }).default;

describe('configuration schema', () => {
  it('the README table is the one generated from the schema', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(configurationTable());
    expect(withConfigurationTable(readme)).toBe(readme);
  });

  it('a README table that differs from the schema is caught', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const edited = readme.replace('| `RELAYKEY_PORT` | `8080` |', '| `RELAYKEY_PORT` | `8081` |');
    expect(edited).not.toBe(readme);
    expect(withConfigurationTable(edited)).not.toBe(edited);
  });

  it('documents every variable with a meaning', () => {
    for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
      expect(name).toMatch(/^RELAYKEY_[A-Z0-9_]+$/);
      expect((schema as { description?: string }).description, name).toBeTruthy();
    }
  });

  it('every RELAYKEY_ variable the source code names is in the schema', () => {
    const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const named = new Set(files.flatMap((file) => readFileSync(join(ROOT, 'src', file), 'utf8').match(/RELAYKEY_[A-Z0-9_]*[A-Z0-9]\b/g) ?? []));
    const known = new Set(Object.keys(ConfigSchema.properties).flatMap((name) => [name, `${name}_FILE`]));
    expect(named.size).toBeGreaterThan(40);
    for (const name of named) expect(known.has(name), name).toBe(true);
  });

  it('applies the schema defaults and types', () => {
    const environment = readEnvironment({});
    expect(environment.RELAYKEY_PORT).toBe(8080);
    expect(environment.RELAYKEY_FAST_PATH).toBe('on');
    expect(environment.RELAYKEY_JOB_INTERVAL_MS).toBeUndefined();
    const config = loadConfig({});
    expect(config.throttle.windowMs).toBe(defaultOf('RELAYKEY_THROTTLE_WINDOW_SECONDS') * 1000);
    expect(config.verifyCacheMaxEntries).toBe(defaultOf('RELAYKEY_VERIFY_CACHE_MAX_ENTRIES'));
    expect(config.policy).toMatchObject({ port: undefined, host: '127.0.0.1', idleTimeoutMs: 300_000 });
  });

  it('refuses out-of-range numbers, unknown choices and bad CIDRs in one line naming the variable', () => {
    expect(() => loadConfig({ RELAYKEY_PORT: '70000' })).toThrow('RELAYKEY_PORT must be between 0 and 65535 (got 70000)');
    expect(() => loadConfig({ RELAYKEY_JOBS: 'maybe' })).toThrow('RELAYKEY_JOBS must be on or off (got "maybe")');
    expect(() => loadConfig({ RELAYKEY_LOG_LEVEL: 'loud' })).toThrow(
      'RELAYKEY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
    expect(() => loadConfig({ RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '10.0.0.0/8, nope' })).toThrow(
      'RELAYKEY_WEBHOOK_ALLOW_NETWORKS must be a comma list of CIDRs (got "nope")',
    );
    expect(() => loadConfig({ RELAYKEY_POLICY_IDLE_SECONDS: '0' })).toThrow(ConfigError);
  });
});

describe('root secret errors', () => {
  it('are ConfigError (exit 78), never a plain Error', () => {
    expect(() => parseMasterKey('dG9vIHNob3J0')).toThrow(ConfigError);
    expect(() => parseMasterKey(' , ')).toThrow(ConfigError);
    expect(() => loadRootSecret({ masterKey: undefined, dataDir: '/nonexistent', allowKeyFile: false })).toThrow(ConfigError);
  });
});
