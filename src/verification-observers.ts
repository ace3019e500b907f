// What every verification leaves behind: Prometheus counters and latencies by outcome, protocol
// and surface, and one log line per denied attempt (reason, user name, client address; never the
// secret), at most RELAYKEY_DENIED_LOG_PER_SECOND a second so an attack cannot flood the log.
import type { Logger } from 'pino';
import type { VerificationEvent, VerificationObserver } from './domain/verification-outcomes.js';
import { redactUrl } from './logging.js';
import type { Runtime } from './runtime-types.js';

/** A user name that carries a key (a client that swapped the fields) is logged redacted. */
function safeUsername(username: string): string {
  return redactUrl(username.slice(0, 320));
}

/**
 * One line per denial up to `perSecond` in each second; the first line of a later second says
 * how many were left out before it (and the suppressed counter in /metrics keeps the total).
 */
export function deniedLogObserver(logger: Logger, perSecond: number, onSuppressed: () => void, now: () => number = Date.now): VerificationObserver {
  let second = 0;
  let written = 0;
  let suppressed = 0;
  return (event: VerificationEvent) => {
    if (event.outcome === 'valid') {
      if (logger.isLevelEnabled('debug')) {
        logger.debug(
          { outcome: 'valid', protocol: event.protocol, surface: event.surface, user: safeUsername(event.username), client_ip: event.clientIp },
          'verification allowed',
        );
      }
      return;
    }
    const current = Math.floor(now() / 1000);
    if (current !== second) {
      second = current;
      written = 0;
    }
    if (written >= perSecond) {
      suppressed += 1;
      onSuppressed();
      return;
    }
    written += 1;
    const fields: Record<string, unknown> = {
      reason: event.outcome,
      protocol: event.protocol,
      surface: event.surface,
      user: safeUsername(event.username),
      client_ip: event.clientIp,
    };
    if (suppressed > 0) {
      fields.suppressed_before = suppressed;
      suppressed = 0;
    }
    logger.info(fields, 'verification denied');
  };
}

/** Hooks the metrics and the denied log onto the runtime's login gate. */
export function installVerificationObservers(runtime: Runtime): void {
  const { services, config, logger } = runtime;
  const metrics = services.metrics;
  const verifier = services.verifier;
  metrics.verifyCache.collect(verifier, {
    redis: config.redisUrl !== undefined,
    postgres: config.dialect === 'postgres',
    throttleBackend: config.redisUrl ? 'redis' : 'memory',
    throttleErrors: () => services.logins.throttleErrors,
    trustedProxyVerifications: () => services.logins.trustedProxyVerifications,
  });
  services.logins.observers.push((event) => {
    metrics.verifications.inc({ outcome: event.outcome, protocol: event.protocol, surface: event.surface });
    metrics.verificationDuration.observe({ surface: event.surface, result: event.outcome === 'valid' ? 'allowed' : 'denied' }, event.durationSeconds);
  });
  if (config.deniedLogPerSecond > 0) {
    services.logins.observers.push(deniedLogObserver(logger, config.deniedLogPerSecond, () => metrics.deniedLogSuppressed.inc()));
  }
}
