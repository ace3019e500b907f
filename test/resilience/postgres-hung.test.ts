// A hung PostgreSQL (issue 21): every process of a private cluster SIGSTOPped for 10 s while
// verify and write traffic run. Connections stay open and the kernel still accepts new ones,
// but nothing answers, so only relaykey's own timeouts end a wait. Hot verifications keep
// answering; writes answer 503 + Retry-After with a code naming the cause within the configured
// connect/statement timeouts (not after the whole stop); the log has a line per change of
// state, not a stack per request; after SIGCONT writes succeed again within 2 s; no acknowledged
// write is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, percentile, seed, sleep, startNode, verifyOnce, hotCredentials } from './helpers.js';
import { createPostgres, hang, type PostgresInstance, postgresAvailable } from './postgres-instance.js';

const HANG_MS = 10_000;
const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 1_000;
// A write acquires a connection (at most the connect timeout) and runs statements, each given up
// on by the client a second after the statement timeout; plus scheduling slack on a loaded machine.
const WRITE_ANSWER_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 1_000 + 1_500;

interface Answer {
  at: number;
  ms: number;
  status: number;
  code?: string;
  retryAfter?: string | null;
}

describe.skipIf(!postgresAvailable)('a hung PostgreSQL (SIGSTOP) under traffic', () => {
  let pgi: PostgresInstance;
  let node: ServerProcess;
  let tenant: SeededTenant;
  let resume: (() => void) | null = null;
  const hot: string[] = [];
  const acknowledged: string[] = [];
  const verifies: Answer[] = [];
  const writes: Answer[] = [];
  let running = false;
  let loops: Promise<void>[] = [];
  let written = 0;

  async function writeLoop(name: string) {
    while (running) {
      const at = Date.now();
      const response = await createCredential(node.url, tenant, `${name}-${written++}`).catch(() => null);
      const ms = Date.now() - at;
      if (!response) writes.push({ at, ms, status: 0 });
      else {
        writes.push({ at, ms, status: response.status, code: response.body?.error?.code, retryAfter: response.headers.get('retry-after') });
        if (response.status === 201) acknowledged.push(response.body.id);
      }
      await sleep(50);
    }
  }

  async function verifyLoop(offset: number) {
    let i = offset;
    while (running) {
      const at = Date.now();
      const response = await verifyOnce(node.url, tenant, hot[i++ % hot.length] as string).catch(() => null);
      verifies.push({ at, ms: Date.now() - at, status: response?.status ?? 0 });
      await sleep(5);
    }
  }

  beforeAll(async () => {
    pgi = await createPostgres();
    const env = nodeEnv(pgi.url, {
      // A short cache TTL: while the server hangs every hot entry is past it, so what answers is
      // the stale-while-down path, not the ordinary cache.
      RELAYKEY_VERIFY_CACHE_TTL_MS: '1000',
      RELAYKEY_DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      RELAYKEY_DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    node = await startNode(env);
    tenant = await seed(node, env);
    hot.push(...(await hotCredentials(node.url, tenant, 8)));
  }, 180_000);

  afterAll(async () => {
    running = false;
    resume?.();
    node?.child.kill('SIGKILL');
    await pgi?.destroy();
  });

  it('verify keeps answering, writes answer 503 within the timeouts, and writes come back within 2 s of SIGCONT', async () => {
    running = true;
    loops = [writeLoop('a'), writeLoop('b'), verifyLoop(0), verifyLoop(3)];
    await sleep(2_000);
    const logBefore = node.output.join('').length;

    resume = hang(pgi);
    const stoppedAt = Date.now();
    await sleep(HANG_MS);
    const resumedAt = Date.now();
    resume();
    resume = null;
    // A statement the client gave up on must not run later on a pooled connection: a BEGIN that
    // timed out and then ran after SIGCONT would leave the connection inside a transaction that
    // the next user's writes join (and lose, when idle_in_transaction_session_timeout ends it).
    await sleep(700);
    const idleInTransaction = await pgi.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and state_change < now() - interval '300 milliseconds' and pid <> pg_backend_pid()`,
    );
    await sleep(3_300);
    running = false;
    await Promise.all(loops);

    expect(node.child.exitCode).toBeNull();
    // Requests that began while the server was stopped.
    const hungVerifies = verifies.filter((a) => a.at >= stoppedAt && a.at < resumedAt);
    const hungWrites = writes.filter((a) => a.at >= stoppedAt && a.at < resumedAt);
    const tally = (answers: Answer[]) => {
      const counts: Record<string, number> = {};
      for (const a of answers) counts[a.code ?? a.status] = (counts[a.code ?? a.status] ?? 0) + 1;
      return counts;
    };
    const verifyMs = hungVerifies.map((a) => a.ms);
    const writeMs = hungWrites.map((a) => a.ms);
    const firstWrite = writes.find((a) => a.at >= resumedAt && a.status === 201) ?? writes.find((a) => a.at + a.ms >= resumedAt && a.status === 201);
    const firstWriteAfter = firstWrite ? firstWrite.at + firstWrite.ms - resumedAt : Number.NaN;
    console.log(
      `hung ${resumedAt - stoppedAt} ms: verify ${JSON.stringify(tally(hungVerifies))} p50 ${percentile(verifyMs, 50)} p99 ${percentile(verifyMs, 99)} max ${Math.max(...verifyMs)} ms;` +
        ` write ${JSON.stringify(tally(hungWrites))} p50 ${percentile(writeMs, 50)} max ${Math.max(...writeMs)} ms; first acknowledged write ${firstWriteAfter} ms after SIGCONT`,
    );

    // Hot verifications kept answering, all of them allowed.
    expect(hungVerifies.length).toBeGreaterThan(100);
    expect(hungVerifies.filter((a) => a.status !== 200)).toEqual([]);
    // Writes answered 503 with Retry-After and the cause, each within the configured timeouts.
    const refused = hungWrites.filter((a) => a.status !== 201);
    expect(refused.length).toBeGreaterThan(5);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(['DATABASE_TIMEOUT', 'DATABASE_UNAVAILABLE']).toContain(answer.code);
      expect(answer.retryAfter).toMatch(/^\d+$/);
    }
    expect(Math.max(...writeMs)).toBeLessThan(WRITE_ANSWER_BOUND_MS);
    // Back within 2 s of SIGCONT.
    expect(firstWriteAfter).toBeLessThan(2_000);
    expect(writes.filter((a) => a.status === 500)).toEqual([]);
    expect(idleInTransaction[0]?.n).toBe(0);
    expect(writes.filter((a) => a.at >= resumedAt + 2_000 && a.status !== 201)).toEqual([]);

    // Nothing acknowledged was lost (a write answered 503 may still have committed: that is allowed).
    const rows = await pgi.query<{ id: string }>('select id from credentials where id = any($1::text[])', [acknowledged]);
    expect(rows.length).toBe(acknowledged.length);

    // One log line per change of state, not one per request, and no stacks.
    const log = node.output.join('').slice(logBefore);
    const faultLines = log.split('\n').filter((l) => l.includes('database fault'));
    const backLines = log.split('\n').filter((l) => l.includes('database answers again'));
    console.log(`log during the hang: ${log.split('\n').length} lines, ${faultLines.length} fault, ${backLines.length} recovered`);
    expect(faultLines.length).toBeGreaterThanOrEqual(1);
    expect(faultLines.length).toBeLessThanOrEqual(3);
    expect(backLines.length).toBeGreaterThanOrEqual(1);
    expect(log).not.toContain('request failed');
    expect(log).not.toMatch(/\n\s+at /);
    // Request logs aside (info), what the hang logged: warnings and errors.
    const loud = log.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    console.log(loud.join('\n'));
    expect(loud.length).toBeLessThanOrEqual(6);
  }, 120_000);
});
