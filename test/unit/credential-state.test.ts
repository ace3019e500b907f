// "Is this credential usable now" has one answer (src/domain/credential-state.ts); verification,
// the native status and the seeds' is_active read it.
import { describe, expect, it } from 'vitest';
import { type CredentialStateFields, credentialState, isUsable, stateOf } from '../../src/domain/credential-state.js';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const base: CredentialStateFields = { status: 'active', held: false, graceUntilMs: null, expiresAtMs: null };

describe('credential state', () => {
  it.each([
    ['active', {}],
    ['held', { held: true }],
    ['expired', { expiresAtMs: NOW }],
    ['active', { expiresAtMs: NOW + 1 }],
    ['expired', { expiresAtMs: Number.NaN }],
    ['revoked', { status: 'revoked' }],
    ['revoked', { status: 'revoked', graceUntilMs: NOW }],
    ['grace', { status: 'revoked', graceUntilMs: NOW + 1 }],
    ['revoked', { status: 'revoked', graceUntilMs: Number.NaN }],
    ['revoked', { status: 'revoked', held: true }],
    ['revoked', { status: 'revoked', expiresAtMs: NOW - 1 }],
    ['expired', { held: true, expiresAtMs: NOW - 1 }],
    ['expired', { status: 'revoked', graceUntilMs: NOW + 1, expiresAtMs: NOW - 1 }],
    ['held', { status: 'revoked', graceUntilMs: NOW + 1, held: true }],
  ] as const)('%s for %j', (state, fields) => {
    expect(credentialState({ ...base, ...fields }, NOW)).toBe(state);
  });

  it('is usable when active or inside a grace period, and only then', () => {
    expect(['active', 'grace', 'held', 'expired', 'revoked'].filter((state) => isUsable(state as never))).toEqual(['active', 'grace']);
  });

  it('reads stored ISO timestamps', () => {
    const stored = { status: 'revoked' as const, held: false, graceUntil: '2026-06-01T12:00:00.001Z', expiresAt: null };
    expect(stateOf(stored, '2026-06-01T12:00:00.000Z')).toBe('grace');
    expect(stateOf(stored, new Date('2026-06-01T12:00:00.001Z'))).toBe('revoked');
    expect(stateOf({ ...stored, status: 'active', graceUntil: null, expiresAt: 'garbage' }, new Date(NOW))).toBe('expired');
  });
});
