// Shares this node's per-minute verification counts through the database (every few seconds,
// and before a stats read), so that the console's stats cover every node.
import { randomUUID } from 'node:crypto';
import { SharedVerificationStats } from './domain/verification-stats.js';
import type { RuntimeExtension } from './runtime-types.js';

export const STATS_FLUSH_MS = 10_000;

export function verificationStatsSharing(): RuntimeExtension {
  return {
    name: 'verification-stats',
    install(runtime) {
      const { services } = runtime;
      services.sharedStats = new SharedVerificationStats(services.stats, runtime.store.verificationStats, randomUUID(), services.context.clock);
    },
    start(runtime) {
      // The timer belongs to this runtime's shared stats: the extension object is shared by every
      // runtime of the process (tests start several).
      let lastErrorAt = 0;
      runtime.services.sharedStats?.startSharing(STATS_FLUSH_MS, (error) => {
        // At most one line a minute while the database is away; the counts are kept and sent later.
        if (Date.now() - lastErrorAt < 60_000) return;
        lastErrorAt = Date.now();
        runtime.logger.warn({ error: (error as Error).message }, 'verification stats not shared yet; retrying');
      });
    },
    async stop(runtime) {
      runtime.services.sharedStats?.stopSharing();
      await runtime.services.sharedStats?.flush().catch(() => undefined);
    },
  };
}
