import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hashAuditEvent } from '../../src/domain/audit.js';
import { ipInNetworks } from '../../src/domain/network.js';
import { grantedProtocols, ROLES, scopesForRole } from '../../src/domain/scopes.js';

describe('scopes and roles', () => {
  it('app grants the mail protocols and the REST API (full application access)', () => {
    expect([...grantedProtocols(['app'])].sort()).toEqual(['api:read', 'api:write', 'imap', 'pop3', 'smtp']);
    expect(grantedProtocols(['internal']).size).toBe(0);
  });

  it('roles grant the documented scope sets', () => {
    expect(scopesForRole('send_only')).toEqual(['smtp', 'api:write']);
    expect(scopesForRole('read_only')).toEqual(['imap', 'pop3', 'api:read']);
    expect(scopesForRole('standard')).toEqual(['smtp', 'imap', 'pop3', 'api:read', 'api:write']);
    expect(scopesForRole('iac')).toEqual(['api:read', 'api:write']);
    expect(Object.keys(ROLES).sort()).toEqual(['iac', 'read_only', 'send_only', 'standard']);
  });
});

describe('networks', () => {
  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    expect(ipInNetworks('10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(ipInNetworks('10.2.2.3', ['10.1.0.0/16'])).toBe(false);
    expect(ipInNetworks('::ffff:10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(ipInNetworks('2001:db8::1', ['2001:db8::/32'])).toBe(true);
    expect(ipInNetworks('not an ip', ['0.0.0.0/0'])).toBe(false);
  });
});

describe('audit chain hashing', () => {
  const base = {
    prevHash: '',
    id: 'e1',
    chain: 't1',
    tenantId: 't1',
    event: 'credential.created',
    actorType: 'admin',
    actorId: 'a1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    clientIp: null,
    severity: 'info' as const,
    targetType: 'credential',
    targetId: 'c1',
    detailsText: '{"name":"k"}',
  };
  it('changes when any field or the previous hash changes', () => {
    const hash = hashAuditEvent(base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    for (const [field, value] of Object.entries({ prevHash: 'x', event: 'credential.revoked', actorId: 'a2', detailsText: '{}', severity: 'critical' })) {
      expect(hashAuditEvent({ ...base, [field]: value })).not.toBe(hash);
    }
  });
});

describe('config', () => {
  it('defaults to embedded SQLite on 127.0.0.1:8080', () => {
    const config = loadConfig({});
    expect(config.dialect).toBe('sqlite');
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toMatch(/^sqlite:.*data\/relaykey\.db$/);
  });
  it('stops on a bad value with one clear line', () => {
    expect(() => loadConfig({ RELAYKEY_PORT: 'eighty' })).toThrow('RELAYKEY_PORT must be a whole number (got "eighty")');
    expect(() => loadConfig({ RELAYKEY_DATABASE_URL: 'mysql://x' })).toThrow(/must start with sqlite: or postgres/);
  });
});
