// RELAYKEY_DOVEADM_URLS / RELAYKEY_DOVEADM_API_KEY and RELAYKEY_TRUSTED_PROXIES are parsed once
// at start; a bad value stops the start with one clear line.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { RELAYKEY_DATABASE_URL: 'sqlite::memory:' };

describe('doveadm and trusted proxy settings', () => {
  it('are off unless set, and parsed when set', () => {
    expect(loadConfig(base).doveadm).toBeNull();
    expect(loadConfig(base).trustedProxies).toEqual([]);
    const config = loadConfig({
      ...base,
      RELAYKEY_DOVEADM_URLS: 'http://10.0.0.5:8080/, https://imap2.example:8443',
      RELAYKEY_DOVEADM_API_KEY: 'k',
      RELAYKEY_TRUSTED_PROXIES: '10.0.0.0/24',
    });
    expect(config.doveadm).toEqual({ urls: ['http://10.0.0.5:8080', 'https://imap2.example:8443'], apiKey: 'k' });
    expect(config.trustedProxies).toEqual(['10.0.0.0/24']);
  });

  it('refuse a URL without its API key, a URL that is not http(s), and a proxy that is not a CIDR', () => {
    expect(() => loadConfig({ ...base, RELAYKEY_DOVEADM_URLS: 'http://10.0.0.5:8080' })).toThrow(/RELAYKEY_DOVEADM_API_KEY/);
    expect(() => loadConfig({ ...base, RELAYKEY_DOVEADM_URLS: 'ftp://x', RELAYKEY_DOVEADM_API_KEY: 'k' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RELAYKEY_TRUSTED_PROXIES: 'nginx' })).toThrow(/RELAYKEY_TRUSTED_PROXIES/);
  });
});
