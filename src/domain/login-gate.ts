// A login attempt from a mail server or gateway: the one verification path, then the throttle
// check in the scope of the key's tenant, then the bookkeeping (failure counters, per-minute
// stats, batched usage). Every protocol adapter (JSON verify, nginx auth_http, Dovecot through
// the JSON verify) goes through here.
// The throttle is asked after the lookup because its counters are kept per tenant (one tenant's
// failures never throttle another's users); a throttled client still gets no answer that tells
// a right key from a wrong one.
import type { Clock } from '../clock.js';
import { ipInNetworks } from './network.js';
import type { LoginThrottle } from './throttle.js';
import type { UsageRecorder } from './usage.js';
import type { AttemptSubject, VerificationStats } from './verification-stats.js';
import type { VerifiedCredential, Verifier, VerifyRequest } from './verification.js';
import type { VerificationEvent, VerificationObserver, VerificationOutcome } from './verification-outcomes.js';

export type LoginResult =
  | { status: 'allowed'; credential: VerifiedCredential; login: string | null }
  /** `delaySeconds`: how long the client should wait before its next try (slow down early). */
  | { status: 'denied'; delaySeconds: number }
  | { status: 'throttled'; retryAfterSeconds: number };

export interface LoginGateHooks {
  /** The throttle store failed (e.g. Redis down): the attempt goes on unthrottled. */
  onThrottleError?(error: unknown): void;
}

export interface LoginGateOptions {
  /**
   * RELAYKEY_TRUSTED_PROXIES: CIDRs of proxies (nginx, a Dovecot that checks passwords again)
   * whose own address may arrive as the client's. Such an address is never throttled and never
   * matches a key's allowed networks: it says nothing about the real client.
   */
  trustedProxies?: readonly string[];
}

export class LoginGate {
  constructor(
    private readonly verifier: Verifier,
    private readonly throttle: LoginThrottle,
    private readonly usage: UsageRecorder,
    private readonly stats: VerificationStats,
    private readonly clock: Clock,
    private readonly hooks: LoginGateHooks = {},
    private readonly options: LoginGateOptions = {},
  ) {}

  /** Attempts whose client address was a trusted proxy's (metrics). */
  trustedProxyVerifications = 0;

  /** Hear every attempt's outcome (metrics, the denied-login log); called after the answer is decided. */
  readonly observers: VerificationObserver[] = [];
  /** Attempts that went on unthrottled because the throttle store failed (metrics). */
  throttleErrors = 0;

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

  private observe(request: VerifyRequest, outcome: VerificationOutcome, startedAt: number): void {
    const event: VerificationEvent = {
      outcome,
      protocol: request.protocol,
      surface: request.surface ?? 'verify_api',
      durationSeconds: (performance.now() - startedAt) / 1000,
      username: request.username,
      clientIp: request.clientIp ?? null,
    };
    for (const observer of this.observers) observer(event);
  }

  private subjectOf(credential: VerifiedCredential | null, request: VerifyRequest): AttemptSubject {
    return credential ? { tenantId: credential.tenantId, credentialId: credential.id } : { tenantId: null, credentialId: null, username: request.username };
  }

  private fromTrustedProxy(clientIp: string | null | undefined): boolean {
    const proxies = this.options.trustedProxies;
    return !!clientIp && !!proxies && proxies.length > 0 && ipInNetworks(clientIp, proxies);
  }

  async attempt(original: VerifyRequest): Promise<LoginResult> {
    const startedAt = this.observers.length > 0 ? performance.now() : 0;
    let request = original;
    if (this.fromTrustedProxy(request.clientIp)) {
      this.trustedProxyVerifications += 1;
      request = { ...request, clientIp: null };
    }
    // No client address to hold the failures against (only a trusted proxy's): not throttled.
    const ip = request.clientIp || (request === original ? 'unknown' : null);
    const outcome = await this.verifier.verify(request);
    const scope = outcome.credential?.tenantId ?? null;
    if (ip !== null) {
      try {
        const decision = await this.throttle.check(ip, request.username, scope);
        if (decision.throttled) {
          this.stats.denied(request.clientIp, 'throttled', this.subjectOf(outcome.credential, request));
          if (startedAt) this.observe(request, 'throttled', startedAt);
          return { status: 'throttled', retryAfterSeconds: decision.retryAfterSeconds };
        }
      } catch (error) {
        // Keys are 160-bit random: failing open on a broken counter store costs little safety
        // and keeps mail flowing.
        this.throttleErrors += 1;
        this.hooks.onThrottleError?.(error);
      }
    }
    if (outcome.valid) {
      this.stats.allowed(this.subjectOf(outcome.credential, request));
      this.usage.recordLogin({
        credentialId: outcome.credential.id,
        tenantId: outcome.credential.tenantId,
        clientIp: request.clientIp,
        userAgent: request.userAgent,
        protocol: request.protocol,
        at: this.nowIso(),
      });
      if (startedAt) this.observe(request, 'valid', startedAt);
      return { status: 'allowed', credential: outcome.credential, login: outcome.login };
    }
    this.stats.denied(request.clientIp, outcome.reason, this.subjectOf(outcome.credential, request));
    let delaySeconds = 1;
    if (ip !== null) {
      try {
        delaySeconds = await this.throttle.recordFailure(ip, request.username, scope);
      } catch (error) {
        this.throttleErrors += 1;
        this.hooks.onThrottleError?.(error);
      }
    }
    if (startedAt) this.observe(request, outcome.reason, startedAt);
    return { status: 'denied', delaySeconds };
  }
}
