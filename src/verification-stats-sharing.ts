// Shares this node's per-minute verification counts through the database (every few seconds,
// and before a stats read), so that the console's stats cover every node.
import { randomUUID } from 'node:crypto';
import { SharedVerificationStats } from './domain/verification-stats.js';
import type { RuntimeExtension } from './runtime-types.js';
import { verificationStatsRepository } from './storage/repositories/verification-stats.js';

export const STATS_FLUSH_MS = 10_000;

export function verificationStatsSharing(): RuntimeExtension {
  let timer: NodeJS.Timeout | null = null;
  let lastErrorAt = 0;
  return {
    name: 'verification-stats',
    install(runtime) {
      const { services } = runtime;
      services.sharedStats = new SharedVerificationStats(services.stats, verificationStatsRepository(runtime.store.db), randomUUID(), services.context.clock);
    },
    start(runtime) {
      const shared = runtime.services.sharedStats;
      if (!shared) return;
      timer = setInterval(() => {
        shared.flush().catch((error: unknown) => {
          // At most one line a minute while the database is away; the counts are kept and sent later.
          if (Date.now() - lastErrorAt < 60_000) return;
          lastErrorAt = Date.now();
          runtime.logger.warn({ error: (error as Error).message }, 'verification stats not shared yet; retrying');
        });
      }, STATS_FLUSH_MS);
      timer.unref();
    },
    async stop(runtime) {
      if (timer) clearInterval(timer);
      timer = null;
      await runtime.services.sharedStats?.flush().catch(() => undefined);
    },
  };
}
