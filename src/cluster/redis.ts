// The optional Redis connections (RELAYKEY_REDIS_URL): one for commands, one for subscriptions.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisConnections {
  client: Redis;
  subscriber: Redis;
  close(): Promise<void>;
}

/** ioredis is loaded here, only when Redis is configured (it is ~10% of start-up otherwise). */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnections> {
  const { Redis: RedisClient } = await import('ioredis');
  // Fail fast instead of queueing forever: the throttle fails open and the cache TTL backs up pub/sub.
  const options = { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2_000 };
  const client = new RedisClient(url, options);
  const subscriber = new RedisClient(url, options);
  let lastLog = 0;
  const onError = (error: Error) => {
    if (Date.now() - lastLog < 60_000) return;
    lastLog = Date.now();
    logger.warn({ err: error }, 'Redis connection error');
  };
  client.on('error', onError);
  subscriber.on('error', onError);
  return {
    client,
    subscriber,
    close: async () => {
      await Promise.allSettled([client.quit(), subscriber.quit()]);
    },
  };
}
