// Per-node, per-minute verification counts shared through the database (migration 008b).
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { AnalyticsScope, SharedStatsStore } from '../../domain/verification-stats.js';
import type { Database } from '../schema.js';

type SubjectTable = 'verification_outcomes' | 'verification_refusals';

/** One credential's rows; or a tenant's: its keys, and unknown keys tried on its domains. */
function inScope<T extends SubjectTable>(scope: AnalyticsScope) {
  return (eb: ExpressionBuilder<Database, T>) => {
    const e = eb as unknown as ExpressionBuilder<Database, SubjectTable>;
    if (scope.credentialId) return e.and([e('tenant_id', '=', scope.tenantId), e('credential_id', '=', scope.credentialId)]);
    const mine = e('tenant_id', '=', scope.tenantId);
    if (scope.domains.length === 0) return mine;
    return e.or([mine, e.and([e('tenant_id', '=', ''), e('domain', 'in', [...scope.domains])])]);
  };
}

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
        const outcomes = rows.flatMap((r) =>
          r.outcomes.map((o) => ({
            node_id: nodeId,
            minute: r.minute,
            outcome: o.outcome,
            tenant_id: o.tenantId,
            credential_id: o.credentialId,
            domain: o.domain,
            count: o.count,
          })),
        );
        for (let i = 0; i < outcomes.length; i += CHUNK) {
          await trx
            .insertInto('verification_outcomes')
            .values(outcomes.slice(i, i + CHUNK))
            .onConflict((c) =>
              c.columns(['node_id', 'minute', 'outcome', 'tenant_id', 'credential_id', 'domain']).doUpdateSet((eb) => ({ count: eb.ref('excluded.count') })),
            )
            .execute();
        }
        const refusals = rows.flatMap((r) =>
          r.refusals.map((o) => ({
            node_id: nodeId,
            minute: r.minute,
            outcome: o.outcome,
            tenant_id: o.tenantId,
            credential_id: o.credentialId,
            domain: o.domain,
            ip: o.ip,
            count: o.count,
          })),
        );
        for (let i = 0; i < refusals.length; i += CHUNK) {
          await trx
            .insertInto('verification_refusals')
            .values(refusals.slice(i, i + CHUNK))
            .onConflict((c) =>
              c
                .columns(['node_id', 'minute', 'outcome', 'tenant_id', 'credential_id', 'domain', 'ip'])
                .doUpdateSet((eb) => ({ count: eb.ref('excluded.count') })),
            )
            .execute();
        }
        await trx.deleteFrom('verification_outcomes').where('minute', '<', pruneBefore).execute();
        await trx.deleteFrom('verification_refusals').where('minute', '<', pruneBefore).execute();
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
    async outcomeCounts(from, to, scope) {
      const rows = await db
        .selectFrom('verification_outcomes')
        .select((eb) => ['minute', 'outcome', eb.fn.sum<number>('count').as('count')])
        .where('minute', '>=', from)
        .where('minute', '<=', to)
        .where(inScope<'verification_outcomes'>(scope))
        .groupBy(['minute', 'outcome'])
        .execute();
      return rows.map((r) => ({ minute: r.minute, outcome: r.outcome, count: Number(r.count) }));
    },
    async refusalCounts(from, to, scope, limit) {
      const rows = await db
        .selectFrom('verification_refusals')
        .select((eb) => ['ip', 'outcome', eb.fn.sum<number>('count').as('count')])
        .where('minute', '>=', from)
        .where('minute', '<=', to)
        .where(inScope<'verification_refusals'>(scope))
        .groupBy(['ip', 'outcome'])
        .orderBy('count', 'desc')
        .orderBy('ip')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ip: r.ip, outcome: r.outcome, count: Number(r.count) }));
    },
  };
}
