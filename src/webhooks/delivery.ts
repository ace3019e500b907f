// Sends due outbox rows with Standard Webhooks signatures: a 10 s timeout, no redirects,
// retries with jitter (5 s, 5 min, 30 min, 2 h, 5 h, 10 h), then dead-lettered.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Runtime } from '../runtime-types.js';
import type { WebhookDelivery, WebhookRepository } from '../storage/repositories/webhooks.js';
import type { WebhookService } from './service.js';
import { guardedLookup, UnsafeTargetError, urlProblem } from './target-safety.js';

export const DELIVERY_TIMEOUT_MS = 10_000;
/** Wait after the 1st, 2nd, ... failed attempt; after the last one the delivery is dead. */
export const RETRY_SCHEDULE_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000];
/** A sending node's lease on a row; longer than the timeout so two nodes never send at once. */
export const LEASE_MS = 60_000;
const PARALLEL = 8;
/** Rows leased per run: at most four timeouts' worth per worker fit well inside one lease. */
const BATCH = PARALLEL * 4;
/** A send may only start while the rest of the lease still covers a whole timeout. */
const LAST_START_MS = LEASE_MS - DELIVERY_TIMEOUT_MS - 5_000;

/** The delay before the next attempt after `failedAttempts` failures, or null when it is dead. */
export function retryDelay(failedAttempts: number, random: () => number = Math.random): number | null {
  const base = RETRY_SCHEDULE_MS[failedAttempts - 1];
  if (base === undefined) return null;
  // Up to +20% jitter so that endpoints coming back are not hit by every node at once.
  return Math.round(base * (1 + 0.2 * random()));
}

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

/** One HTTP POST; never throws. */
export function send(url: string, headers: Record<string, string>, body: string, allowNetworks: readonly string[]): Promise<SendResult> {
  const problem = urlProblem(url, allowNetworks);
  if (problem) return Promise.resolve({ ok: false, statusCode: null, error: problem });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'relaykey-webhooks/1' },
        // A fresh connection each time: every attempt goes through the guarded lookup, and no
        // stale keep-alive socket turns a healthy receiver into a failure.
        agent: false,
        lookup: guardedLookup(allowNetworks) as never,
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        response.resume();
        response.on('end', () =>
          finish({ ok: statusCode >= 200 && statusCode < 300, statusCode, error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}` }),
        );
        response.on('error', (error) => finish({ ok: false, statusCode, error: error.message }));
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish({ ok: false, statusCode: null, error: `timed out after ${DELIVERY_TIMEOUT_MS / 1000} s` });
    }, DELIVERY_TIMEOUT_MS);
    request.on('error', (error: NodeJS.ErrnoException) => {
      const message = error instanceof UnsafeTargetError ? error.message : `${error.code ?? 'error'}: ${error.message}`;
      finish({ ok: false, statusCode: null, error: message.slice(0, 300) });
    });
    request.end(body);
  });
}

async function deliverOne(runtime: Runtime, webhooks: WebhookService, repo: WebhookRepository, delivery: WebhookDelivery, lease: string): Promise<void> {
  const clock = runtime.services.context.clock;
  const metrics = runtime.services.metrics;
  const endpoint = await repo.findEndpointById(delivery.endpointId);
  const attempts = delivery.attempts + 1;
  let result: SendResult;
  if (!endpoint?.enabled) {
    result = { ok: false, statusCode: null, error: endpoint ? 'endpoint disabled' : 'endpoint deleted' };
  } else {
    // The signature timestamp is the wall clock: receivers compare it with theirs.
    const headers = {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': '',
    };
    // During a secret rotation's overlap, one signature per live secret (space-separated, as
    // Standard Webhooks allows): a receiver holding either secret verifies the delivery.
    const signedAt = new Date(Number(headers['webhook-timestamp']) * 1000);
    headers['webhook-signature'] = webhooks
      .signingSecrets(endpoint, clock.now())
      .map((secret) => new Webhook(secret).sign(delivery.id, signedAt, delivery.payload))
      .join(' ');
    result = await send(endpoint.url, headers, delivery.payload, runtime.config.webhookAllowNetworks);
  }
  const attemptedAt = clock.now();
  const delay = result.ok || !endpoint?.enabled ? null : retryDelay(attempts);
  const status = result.ok ? 'delivered' : delay === null ? 'dead' : 'pending';
  const recorded = await repo.recordAttempt(delivery.id, lease, {
    status,
    attempts,
    attemptedAt: attemptedAt.toISOString(),
    nextAttemptAt: new Date(attemptedAt.getTime() + (delay ?? 0)).toISOString(),
    statusCode: result.statusCode,
    error: result.error,
  });
  // Only a real attempt counts towards the endpoint's health (not a disabled or deleted endpoint).
  if (recorded && endpoint?.enabled) await repo.recordEndpointOutcome(endpoint.id, result.ok, attemptedAt.toISOString(), result.error);
  metrics.webhookDeliveries.inc({ outcome: status === 'pending' ? 'retrying' : status });
  if (!result.ok) runtime.logger.info({ deliveryId: delivery.id, attempts, status, error: result.error }, 'webhook delivery failed');
}

/** Claim-and-send rounds per run at most: a subject's next event is claimable once the one before it is delivered. */
const MAX_ROUNDS = 20;

/**
 * The webhook-delivery job: lease a batch of due rows and send them, in rounds. Only the earliest
 * pending delivery of each (endpoint, subject) is claimable (claimDue), so one credential's events
 * reach an endpoint in order; the next round sends the ones that were waiting behind a delivered
 * one, and a failed one holds the rest of its subject until its retry.
 */
export async function deliverDueWebhooks(runtime: Runtime, webhooks: WebhookService): Promise<number> {
  const started = performance.now();
  let sent = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { claimed, delivered } = await deliverRound(runtime, webhooks);
    sent += delivered;
    if (claimed === 0 || performance.now() - started > LAST_START_MS / 2) break;
  }
  return sent;
}

async function deliverRound(runtime: Runtime, webhooks: WebhookService): Promise<{ claimed: number; delivered: number }> {
  const store = runtime.store;
  const repo = store.webhooks;
  const now = runtime.services.context.clock.now();
  // ISO time first (so "lease < now" compares by time), then a token that makes the lease ours alone.
  const lease = `${new Date(now.getTime() + LEASE_MS).toISOString()}#${randomBytes(6).toString('hex')}`;
  const claimed = await store.transaction((repositories) => repositories.webhooks.claimDue(now.toISOString(), lease, BATCH));
  const leasedAt = performance.now();
  const queue = [...claimed];
  let sent = 0;
  const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      // Past this point another node may take the row once our lease runs out: leave it to them.
      if (performance.now() - leasedAt > LAST_START_MS) return;
      await deliverOne(runtime, webhooks, repo, next, lease);
      sent += 1;
    }
  });
  await Promise.all(workers);
  return { claimed: claimed.length, delivered: sent };
}
