// A login attempt from a mail server or gateway: throttle check, the one verification path,
// then the bookkeeping (failure counters, per-minute stats, batched usage). Every protocol
// adapter (JSON verify, nginx auth_http, Dovecot through the JSON verify) goes through here.
import type { Clock } from '../clock.js';
import type { LoginThrottle } from './throttle.js';
import type { UsageRecorder } from './usage.js';
import type { VerificationStats } from './verification-stats.js';
import type { VerifiedCredential, Verifier, VerifyRequest } from './verification.js';

export type LoginResult =
  | { status: 'allowed'; credential: VerifiedCredential; login: string | null }
  /** `delaySeconds`: how long the client should wait before its next try (slow down early). */
  | { status: 'denied'; delaySeconds: number }
  | { status: 'throttled'; retryAfterSeconds: number };

export interface LoginGateHooks {
  /** The throttle store failed (e.g. Redis down): the attempt goes on unthrottled. */
  onThrottleError?(error: unknown): void;
}

export class LoginGate {
  constructor(
    private readonly verifier: Verifier,
    private readonly throttle: LoginThrottle,
    private readonly usage: UsageRecorder,
    private readonly stats: VerificationStats,
    private readonly clock: Clock,
    private readonly hooks: LoginGateHooks = {},
  ) {}

  private lastNowMs = Number.NaN;
  private lastNowIso = '';

  /** The current time as ISO text, formatted once per millisecond however many logins share it. */
  private nowIso(): string {
    const ms = this.clock.now().getTime();
    if (ms !== this.lastNowMs) {
      this.lastNowMs = ms;
      this.lastNowIso = new Date(ms).toISOString();
    }
    return this.lastNowIso;
  }

  async attempt(request: VerifyRequest): Promise<LoginResult> {
    const ip = request.clientIp || 'unknown';
    try {
      const decision = await this.throttle.check(ip, request.username);
      if (decision.throttled) {
        this.stats.denied(request.clientIp);
        return { status: 'throttled', retryAfterSeconds: decision.retryAfterSeconds };
      }
    } catch (error) {
      // Keys are 160-bit random: failing open on a broken counter store costs little safety
      // and keeps mail flowing.
      this.hooks.onThrottleError?.(error);
    }
    const outcome = await this.verifier.verify(request);
    if (outcome.valid) {
      this.stats.allowed();
      this.usage.recordLogin({
        credentialId: outcome.credential.id,
        tenantId: outcome.credential.tenantId,
        clientIp: request.clientIp,
        userAgent: request.userAgent,
        protocol: request.protocol,
        at: this.nowIso(),
      });
      return { status: 'allowed', credential: outcome.credential, login: outcome.login };
    }
    this.stats.denied(request.clientIp);
    let delaySeconds = 1;
    try {
      delaySeconds = await this.throttle.recordFailure(ip, request.username);
    } catch (error) {
      this.hooks.onThrottleError?.(error);
    }
    return { status: 'denied', delaySeconds };
  }
}
