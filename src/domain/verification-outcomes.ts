// Why a verification ended as it did: metrics and the denied-login log say it; the client never
// learns it (every denial looks the same from outside).
import type { Protocol } from './scopes.js';

export const DENIAL_REASONS = ['unknown_key', 'wrong_user', 'scope', 'network', 'held', 'revoked', 'expired', 'throttled'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];
export type VerificationOutcome = 'valid' | DenialReason;
export const VERIFICATION_OUTCOMES: readonly VerificationOutcome[] = ['valid', ...DENIAL_REASONS];

/** Which door the attempt came through: POST /api/v1/verify or nginx's GET /auth/nginx. */
export type VerificationSurface = 'verify_api' | 'auth_http';

export interface VerificationEvent {
  outcome: VerificationOutcome;
  protocol: Protocol;
  surface: VerificationSurface;
  /** Time from the start of the attempt to its answer (throttle check included). */
  durationSeconds: number;
  /** The user name as the client gave it (never the secret). */
  username: string;
  clientIp: string | null;
}

export type VerificationObserver = (event: VerificationEvent) => void;
