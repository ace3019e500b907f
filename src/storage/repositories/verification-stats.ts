// Per-node, per-minute verification counts shared through the database (migration 008b).
import type { Kysely } from 'kysely';
import type { SharedStatsStore } from '../../domain/verification-stats.js';
import type { Database } from '../schema.js';

const CHUNK = 200;

export function verificationStatsRepository(db: Kysely<Database>): SharedStatsStore {
  return {
    async save(nodeId, rows, pruneBefore) {
      const minutes = rows.map((r) => ({ node_id: nodeId, minute: r.minute, allowed: r.allowed, denied: r.denied }));
      const clients = rows.flatMap((r) => r.deniedByIp.map(([ip, denied]) => ({ node_id: nodeId, minute: r.minute, ip, denied })));
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < minutes.length; i += CHUNK) {
          await trx
            .insertInto('verification_minutes')
            .values(minutes.slice(i, i + CHUNK))
            .onConflict((c) =>
              c.columns(['node_id', 'minute']).doUpdateSet((eb) => ({ allowed: eb.ref('excluded.allowed'), denied: eb.ref('excluded.denied') })),
            )
            .execute();
        }
        for (let i = 0; i < clients.length; i += CHUNK) {
          await trx
            .insertInto('verification_denied_clients')
            .values(clients.slice(i, i + CHUNK))
            .onConflict((c) => c.columns(['node_id', 'minute', 'ip']).doUpdateSet((eb) => ({ denied: eb.ref('excluded.denied') })))
            .execute();
        }
        await trx.deleteFrom('verification_minutes').where('minute', '<', pruneBefore).execute();
        await trx.deleteFrom('verification_denied_clients').where('minute', '<', pruneBefore).execute();
      });
    },
    async series(from, to) {
      const rows = await db
        .selectFrom('verification_minutes')
        .select((eb) => ['minute', eb.fn.sum<number>('allowed').as('allowed'), eb.fn.sum<number>('denied').as('denied')])
        .where('minute', '>=', from)
        .where('minute', '<=', to)
        .groupBy('minute')
        .execute();
      return rows.map((r) => ({ minute: r.minute, allowed: Number(r.allowed), denied: Number(r.denied) }));
    },
    async topDenied(from, to, limit) {
      const rows = await db
        .selectFrom('verification_denied_clients')
        .select((eb) => ['ip', eb.fn.sum<number>('denied').as('denied')])
        .where('minute', '>=', from)
        .where('minute', '<=', to)
        .groupBy('ip')
        .orderBy('denied', 'desc')
        .orderBy('ip')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ip: r.ip, denied: Number(r.denied) }));
    },
  };
}
