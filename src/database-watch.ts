// What the runtime does about the database's state: logs each change once with its cause,
// probes while it is down (so readiness and cold verifications come back without waiting for a
// request), and waits for it at start-up instead of exiting at once.
import type { Logger } from 'pino';
import { isDatabaseFault } from './errors.js';
import type { DatabaseHandle } from './storage/connect.js';
import { classifyDatabaseError, describeDatabaseError } from './storage/faults.js';

/** How often a node whose database is down checks it again (ms). */
export const PROBE_INTERVAL_MS = 500;

export interface DatabaseWatch {
  stop(): void;
}

export function watchDatabase(handle: DatabaseHandle, logger: Logger): DatabaseWatch {
  let probe: NodeJS.Timeout | null = null;
  let probing = false;
  let stopped = false;
  const stopProbe = () => {
    if (probe) clearInterval(probe);
    probe = null;
  };
  handle.health.onChange(({ state, previous, error, lastedMs }) => {
    if (state === 'ok') {
      logger.info({ previous, lastedMs }, `database answers again after ${lastedMs} ms (${previous})`);
      stopProbe();
      return;
    }
    logger.error(
      { state, previous, cause: describeDatabaseError(error) },
      `database fault ${state}: writes answer 503 until it clears (${describeDatabaseError(error)})`,
    );
    if (probe || stopped) return;
    probe = setInterval(() => {
      if (probing) return;
      probing = true;
      handle
        .probe()
        .catch(() => undefined)
        .finally(() => {
          probing = false;
        });
    }, PROBE_INTERVAL_MS);
    probe.unref();
  });
  return {
    stop: () => {
      stopped = true;
      stopProbe();
    },
  };
}

/** Logs a lost pooled connection at most once per interval (the pool replaces it). */
export function connectionLossLogger(logger: Logger, intervalMs = 10_000): (error: Error) => void {
  let last = 0;
  let suppressed = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed += 1;
      return;
    }
    logger.warn({ cause: describeDatabaseError(error), suppressed }, 'a pooled PostgreSQL connection was lost; the pool opens a new one when needed');
    last = now;
    suppressed = 0;
  };
}

/**
 * Runs `attempt` until it succeeds, retrying database faults for up to `waitSeconds` (other
 * errors end the start at once). Logs the first failure and then every ten seconds.
 */
export async function waitForDatabase<T>(attempt: () => Promise<T>, waitSeconds: number, logger: Logger): Promise<T> {
  const deadline = Date.now() + waitSeconds * 1000;
  let delay = 250;
  let lastLog = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isDatabaseFault(error) && !classifyDatabaseError(error)) throw error;
      const cause = describeDatabaseError(error);
      if (Date.now() + delay > deadline) {
        throw new Error(`the database did not answer within ${waitSeconds} s (RELAYKEY_STARTUP_WAIT_SECONDS): ${cause}`);
      }
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        logger.warn({ cause, waitSeconds }, `waiting for the database to start relaykey (${cause})`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
