import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hashAuditEvent } from '../../src/domain/audit.js';
import { canonicalIp, ipInNetworks, isValidCidr } from '../../src/domain/network.js';
import { grantedProtocols, ROLES, scopesForRole } from '../../src/domain/scopes.js';

describe('scopes and roles', () => {
  it('app grants the mail protocols and the REST API (full application access)', () => {
    expect([...grantedProtocols(['app'])].sort()).toEqual(['api:read', 'api:write', 'imap', 'pop3', 'smtp']);
    expect(grantedProtocols(['internal']).size).toBe(0);
    // Protocol scopes grant themselves.
    expect([...grantedProtocols(['smtp', 'imap'])].sort()).toEqual(['imap', 'smtp']);
    expect([...grantedProtocols([])]).toEqual([]);
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
  it('tells valid CIDRs from text that is not one', () => {
    expect(isValidCidr('10.0.0.0/8')).toBe(true);
    expect(isValidCidr('10.0.0.0/33')).toBe(false);
    expect(isValidCidr('nope')).toBe(false);
  });
  it('refuses address text that is not canonical (octal, hex, integer forms) before parsing it', () => {
    expect(ipInNetworks('0x0a.1.2.3', ['10.0.0.0/8'])).toBe(false);
    expect(ipInNetworks('167837955', ['10.0.0.0/8'])).toBe(false);
    expect(ipInNetworks('012.1.2.3', ['10.0.0.0/8'])).toBe(false);
  });
  it('gives one text per address for counters: lower case, IPv4 for mapped IPv6, unparsable text kept', () => {
    expect(canonicalIp('2001:DB8::1')).toBe('2001:db8::1');
    expect(canonicalIp(' ::FFFF:10.1.2.3 ')).toBe('10.1.2.3');
    expect(canonicalIp('Not An IP')).toBe('not an ip');
    expect(canonicalIp(null)).toBe('');
  });
  it('reads every CIDR of the list, not only the first', () => {
    const networks = ['10.1.0.0/16', '192.0.2.0/24', '2001:db8::/32', '198.51.100.7/32'];
    expect(ipInNetworks('10.1.9.9', networks)).toBe(true);
    expect(ipInNetworks('192.0.2.200', networks)).toBe(true);
    expect(ipInNetworks('2001:db8:1::5', networks)).toBe(true);
    expect(ipInNetworks('198.51.100.7', networks)).toBe(true);
    expect(ipInNetworks('::ffff:198.51.100.7', networks)).toBe(true);
    expect(ipInNetworks('198.51.100.8', networks)).toBe(false);
    expect(ipInNetworks('203.0.113.1', networks)).toBe(false);
    // An unparsable entry does not stop the entries after it from matching.
    expect(ipInNetworks('192.0.2.1', ['not a cidr', '192.0.2.0/24'])).toBe(true);
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
  // Every one of the 13 chained fields, changed alone, changes the hash: dropping any field from
  // the hashed material would let that field be edited without breaking the chain.
  const changed: Parameters<typeof hashAuditEvent>[0] = {
    prevHash: 'x',
    id: 'e2',
    chain: 't2',
    tenantId: 't2',
    event: 'credential.revoked',
    actorType: 'token',
    actorId: 'a2',
    occurredAt: '2026-01-01T00:00:00.001Z',
    clientIp: '192.0.2.1',
    severity: 'critical',
    targetType: 'login',
    targetId: 'c2',
    detailsText: '{}',
  };
  it('covers 13 fields', () => expect(Object.keys(changed)).toHaveLength(13));
  it.each(Object.keys(changed))('changes when %s alone changes', (field) => {
    const hash = hashAuditEvent(base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAuditEvent({ ...base, [field]: changed[field as keyof typeof changed] })).not.toBe(hash);
  });
  it('changes when a nullable field becomes null', () => {
    const hash = hashAuditEvent(base);
    for (const field of ['tenantId', 'targetType', 'targetId'] as const) expect(hashAuditEvent({ ...base, [field]: null })).not.toBe(hash);
  });
  it('tells a value in one field from the same value in the next', () => {
    expect(hashAuditEvent({ ...base, targetType: 'c1', targetId: 'credential' })).not.toBe(hashAuditEvent(base));
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
