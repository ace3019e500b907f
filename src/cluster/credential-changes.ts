// Carries "these secrets changed" (hold, revoke, rotate...) from the node that made the change
// to the verify caches of every node on the same database: PostgreSQL LISTEN/NOTIFY on a
// dedicated connection, and Redis pub/sub when RELAYKEY_REDIS_URL is set. The verify cache TTL
// stays the backstop; after a lost listener connection the whole cache is dropped. Tenant
// changes that decide where logins go (mail_backends) travel the same way to the mail routers.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DomainContext } from '../domain/context.js';
import type { MailRouter } from '../domain/mail-routing.js';
import type { Verifier } from '../domain/verification.js';

interface ChangeMessage {
  node: string;
  keyHashes: string[];
  /** Tenants whose mail_backends changed. */
  tenantIds?: string[];
  /** `access`: a token or admin session was revoked; every node forgets its cached principals. */
  kind?: 'access';
}

/** NOTIFY payloads must stay under 8000 bytes: key hashes go out in chunks. */
const HASHES_PER_MESSAGE = 60;

export type FeedChannel = 'postgres' | 'redis';

/** One channel of the feed as this node sees it now (for /metrics and the log). */
export interface FeedChannelStatus {
  channel: FeedChannel;
  /** Subscribed and connected: changes made on other nodes arrive at once. */
  listening: boolean;
  /** Epoch ms of the last message received on it (this node's own included), null before the first. */
  lastEventAt: number | null;
}

export interface CredentialChangeFeed {
  readonly node: string;
  /** The configured channels (none on a single SQLite node without Redis). */
  status(): FeedChannelStatus[];
  close(): Promise<void>;
}

export interface FeedOptions {
  context: DomainContext;
  verifier: Verifier;
  /** Drops cached tenant backends when another node changes them. */
  mailRouter?: MailRouter | undefined;
  logger: Logger;
  namespace: string;
  /** On PostgreSQL: opens a connection of its own to the primary (same database and search_path as the store). */
  postgresClient?: (() => Promise<pg.Client>) | undefined;
  /** A Redis connection to publish on and one to subscribe with (pub/sub needs its own). */
  redis?: { publisher: Redis; subscriber: Redis } | undefined;
  /** Another node changed credentials (or messages may have been missed): e.g. the sending policy forgets its subjects. */
  onRemoteCredentialChange?: (() => void) | undefined;
  /** Another node revoked a token or session (or messages may have been missed): drop cached principals. */
  onAccessChange?: (() => void) | undefined;
}

function chunks(hashes: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < hashes.length; i += HASHES_PER_MESSAGE) out.push(hashes.slice(i, i + HASHES_PER_MESSAGE));
  return out;
}

export async function startCredentialChangeFeed(options: FeedOptions): Promise<CredentialChangeFeed> {
  const node = randomUUID();
  const { verifier, logger, mailRouter } = options;
  const dropAll = () => {
    verifier.invalidateAll();
    mailRouter?.invalidateAll();
    options.onAccessChange?.();
    options.onRemoteCredentialChange?.();
  };
  const channel = `${options.namespace}_credential_changes`;
  const closers: (() => Promise<void>)[] = [];
  const statuses: (() => FeedChannelStatus)[] = [];
  const publishers: ((message: string) => Promise<void>)[] = [];

  const receive = (payload: string) => {
    try {
      const message = JSON.parse(payload) as ChangeMessage;
      if (message.node === node) return;
      if (message.kind === 'access') {
        options.onAccessChange?.();
        return;
      }
      for (const keyHash of message.keyHashes) verifier.invalidate(keyHash);
      if (message.keyHashes.length > 0) options.onRemoteCredentialChange?.();
      for (const tenantId of message.tenantIds ?? []) mailRouter?.invalidateTenant(tenantId);
    } catch {
      dropAll();
    }
  };

  if (options.postgresClient) {
    const pgFeed = await listenOnPostgres(options.postgresClient, channel, receive, dropAll, logger);
    closers.push(pgFeed.close);
    publishers.push(pgFeed.publish);
    statuses.push(pgFeed.status);
  }
  if (options.redis) {
    const { publisher, subscriber } = options.redis;
    let lastEventAt: number | null = null;
    subscriber.on('message', (from: string, payload: string) => {
      if (from !== channel) return;
      lastEventAt = Date.now();
      receive(payload);
    });
    // ioredis is 'ready' once connected with its subscriptions restored.
    statuses.push(() => ({ channel: 'redis', listening: subscriber.status === 'ready', lastEventAt }));
    // A reconnect may have missed messages: start from an empty cache.
    subscriber.on('ready', dropAll);
    // Not awaited: a node starts while Redis is away; ioredis subscribes once it connects and
    // again after every reconnect.
    subscriber.subscribe(channel).catch((error: unknown) => logger.warn({ err: error }, 'Redis subscribe failed; PostgreSQL NOTIFY still carries changes'));
    publishers.push(async (message) => {
      await publisher.publish(channel, message);
    });
  }

  // One warning a minute at most: while Redis is away every change would log one.
  let warnedAt = 0;
  const warn = (error: unknown) => {
    if (Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    logger.warn({ err: error }, 'could not announce a credential change on one channel; the other channel or the cache TTL applies');
  };
  options.context.onCredentialChange.push(({ keyHashes }) => {
    for (const part of chunks(keyHashes)) {
      const message = JSON.stringify({ node, keyHashes: part } satisfies ChangeMessage);
      for (const publish of publishers) publish(message).catch(warn);
    }
  });

  options.context.onTenantChange.push(({ tenantId }) => {
    const message = JSON.stringify({ node, keyHashes: [], tenantIds: [tenantId] } satisfies ChangeMessage);
    for (const publish of publishers) publish(message).catch(warn);
  });
  const publishAll = (message: string, what: string) => {
    for (const publish of publishers) {
      publish(message).catch((error: unknown) => logger.warn({ err: error }, `could not announce ${what} to other nodes; their cache TTL applies`));
    }
  };
  options.context.onAccessChange ??= [];
  options.context.onAccessChange.push(() => publishAll(JSON.stringify({ node, keyHashes: [], kind: 'access' } satisfies ChangeMessage), 'a token revocation'));

  return {
    node,
    status: () => statuses.map((read) => read()),
    close: async () => {
      for (const close of closers) await close();
    },
  };
}

async function listenOnPostgres(
  newClient: () => Promise<pg.Client>,
  channel: string,
  receive: (payload: string) => void,
  onGap: () => void,
  logger: Logger,
): Promise<{ publish(message: string): Promise<void>; status(): FeedChannelStatus; close(): Promise<void> }> {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let lastEventAt: number | null = null;

  const connect = async (): Promise<void> => {
    // On the host that accepts writes (NOTIFY is sent there; a standby cannot LISTEN).
    const next = await newClient();
    next.on('notification', (message) => {
      if (message.channel !== channel || !message.payload) return;
      lastEventAt = Date.now();
      receive(message.payload);
    });
    let lost = false;
    const onLost = (error: Error | null) => {
      if (closed || lost) return;
      lost = true;
      logger.warn({ err: error ?? undefined }, 'credential change listener lost its PostgreSQL connection; reconnecting');
      if (client === next) client = null;
      next.end().catch(() => undefined);
      scheduleReconnect();
    };
    next.on('error', onLost);
    // A connection closed without an error event (the server went away cleanly) is lost too.
    next.on('end', () => onLost(null));
    try {
      await next.query(`LISTEN "${channel}"`);
    } catch (error) {
      lost = true; // the caller retries and logs
      next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
  };
  const scheduleReconnect = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      connect().then(onGap, () => scheduleReconnect());
    }, 1_000);
    retry.unref();
  };

  // The database answered a moment ago (start-up waits for it); if it has gone again, keep trying.
  await connect().catch((error: unknown) => {
    logger.warn({ err: error }, 'credential change listener could not connect to PostgreSQL; retrying');
    scheduleReconnect();
  });
  return {
    publish: async (message) => {
      // A dedicated publish connection is not needed: NOTIFY on the listener's connection is fine.
      if (!client) throw new Error('listener connection is down');
      await client.query('SELECT pg_notify($1, $2)', [channel, message]);
    },
    status: () => ({ channel: 'postgres', listening: client !== null, lastEventAt }),
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end();
    },
  };
}
