// "Is this credential usable now?", answered once: verification, the native status and the
// seeds' is_active/isActive all read it, so they cannot disagree.
import type { CredentialStatus } from './types.js';

/**
 * - `revoked`: revoked and not (or no longer) inside a rotation's grace period;
 * - `expired`: past its expiry;
 * - `held`: on hold;
 * - `grace`: revoked by a rotation whose grace period still runs (it still verifies);
 * - `active`: none of these.
 * Checked in that order: a revoked key that is also held reads `revoked`.
 */
export type CredentialState = 'active' | 'grace' | 'held' | 'expired' | 'revoked';

/** What the state is computed from; times as epoch ms (null: no grace period, no expiry). */
export interface CredentialStateFields {
  readonly status: CredentialStatus;
  readonly held: boolean;
  readonly graceUntilMs: number | null;
  readonly expiresAtMs: number | null;
}

/** An ISO timestamp as epoch ms; null stays null. Text that does not parse is NaN, which counts as past. */
export function epochMs(iso: string | null): number | null {
  return iso ? Date.parse(iso) : null;
}

export function credentialState(credential: CredentialStateFields, nowMs: number): CredentialState {
  // Written as 'not after now' so that an unreadable timestamp (NaN) ends rather than extends.
  const inGrace = credential.graceUntilMs !== null && credential.graceUntilMs > nowMs;
  if (credential.status === 'revoked' && !inGrace) return 'revoked';
  if (credential.expiresAtMs !== null && !(credential.expiresAtMs > nowMs)) return 'expired';
  if (credential.held) return 'held';
  return credential.status === 'revoked' ? 'grace' : 'active';
}

/** Whether the credential verifies at `nowMs` (active, or inside a rotation's grace period). */
export function isUsable(state: CredentialState): boolean {
  return state === 'active' || state === 'grace';
}

/** The state of a stored credential (ISO timestamps) at `now`. */
export function stateOf(
  credential: { status: CredentialStatus; held: boolean; graceUntil: string | null; expiresAt: string | null },
  now: Date | string,
): CredentialState {
  return credentialState(
    { status: credential.status, held: credential.held, graceUntilMs: epochMs(credential.graceUntil), expiresAtMs: epochMs(credential.expiresAt) },
    typeof now === 'string' ? Date.parse(now) : now.getTime(),
  );
}
