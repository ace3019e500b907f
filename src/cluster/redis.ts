// The optional Redis connections (RELAYKEY_REDIS_URL): one for commands, one for subscriptions.
// Redis is optional at run time: commands fail at once while it is away (no offline queue) and
// within RELAYKEY_REDIS_TIMEOUT_MS when it hangs, and callers fall back (local throttle counters,
// PostgreSQL NOTIFY); both connections reconnect by themselves and a node starts without it.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RedisState = 'ready' | 'down';

export interface RedisConnections {
  client: Redis;
  subscriber: Redis;
  /** The command connection's state now. */
  state(): RedisState;
  close(): Promise<void>;
}

export interface RedisOptions {
  /** Longest wait for one command (ms). */
  commandTimeoutMs: number;
  /** Hears each change of state (after the log line). */
  onStateChange?: (state: RedisState) => void;
}

/** ioredis is loaded here, only when Redis is configured (it is ~10% of start-up otherwise). */
export async function connectRedis(url: string, logger: Logger, options: RedisOptions): Promise<RedisConnections> {
  const { Redis: RedisClient } = await import('ioredis');
  const retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy,
  });
  // Subscriptions are queued until connected and restored after each reconnect.
  const subscriber = new RedisClient(url, { enableOfflineQueue: true, maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy });
  let state: RedisState = 'down';
  let announcedDown = false;
  const set = (next: RedisState, error?: Error) => {
    if (next === state && (next === 'ready' || announcedDown)) return;
    state = next;
    if (next === 'ready') {
      announcedDown = false;
      logger.info('Redis connected: shared throttle counters and pub/sub in use');
    } else {
      announcedDown = true;
      logger.warn(
        { cause: error?.message },
        'Redis unreachable: login throttling uses this node only, credential changes travel by PostgreSQL NOTIFY; reconnecting',
      );
    }
    options.onStateChange?.(next);
  };
  client.on('ready', () => set('ready'));
  client.on('error', (error: Error) => set('down', error));
  client.on('close', () => {
    if (state === 'ready') set('down');
  });
  subscriber.on('error', () => undefined);
  return {
    client,
    subscriber,
    state: () => state,
    close: async () => {
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
