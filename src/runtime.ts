// Wires configuration, storage, secrets and services together; used by the server, the CLI and tests.
import { rmSync } from 'node:fs';
import { type App, buildApp } from './app.js';
import { systemClock } from './clock.js';
import { type CredentialChangeFeed, startCredentialChangeFeed } from './cluster/credential-changes.js';
import { clusterNamespace } from './cluster/namespace.js';
import { connectRedis } from './cluster/redis.js';
import { type Config, ConfigError } from './config.js';
import { createSecretHasher } from './crypto/hashing.js';
import { Envelope } from './crypto/envelope.js';
import { derivePepper, loadRootSecret, readKeyFile } from './crypto/root-secret.js';
import { connectionLossLogger, waitForDatabase, watchDatabase } from './database-watch.js';
import { installDependencyMetrics } from './dependency-metrics.js';
import { createAuditKeys } from './crypto/audit-keys.js';
import { createTotpBox } from './crypto/totp-box.js';
import { sealAuditHeads } from './domain/audit.js';
import { DEFAULT_ADMIN_THROTTLE } from './domain/admin-throttle.js';
import { createServices } from './domain/services.js';
import { FallbackThrottle } from './domain/fallback-throttle.js';
import { DatabaseSendingCounters, FallbackSendingCounters } from './domain/sending-counters.js';
import { RedisSendingCounters } from './cluster/sending-counters-redis.js';
import { RedisThrottle } from './cluster/throttle-redis.js';
import { MemoryThrottle } from './domain/throttle.js';
import { Scheduler } from './jobs/scheduler.js';
import { createLogger } from './logging.js';
import { migrateToLatest, openDatabase } from './storage/connect.js';
import { createStore } from './storage/store.js';
import { enforceMasterKey, recordSchemaWriter, refuseNewerSchema } from './startup-checks.js';
import { readTls } from './tls.js';
import { installVerificationObservers } from './verification-observers.js';

import type { Capabilities, Runtime, RuntimeExtension, RuntimeOptions } from './runtime-types.js';

export type { Capabilities, Runtime, RuntimeExtension, RuntimeOptions };

export async function createRuntime(config: Config, capabilities: Capabilities, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  let loaded: ReturnType<typeof loadRootSecret>;
  try {
    loaded = loadRootSecret({ masterKey: config.masterKey, dataDir: config.dataDir, allowKeyFile: config.dialect === 'sqlite' });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const { ring, createdKeyFile } = loaded;
  const handle = openDatabase(config.databaseUrl, {
    schema: options.schema,
    poolSize: config.databasePoolSize,
    timeouts: config.databaseTimeouts,
    onConnectionLost: connectionLossLogger(logger),
    replicaUrls: config.databaseReplicaUrls,
    replicaMaxLagMs: config.databaseReplicaMaxLagMs,
  });
  const watch = watchDatabase(handle, logger);
  let namespace: string;
  try {
    // The database may come up after relaykey (a restart of both, a failover): wait for it.
    namespace = await waitForDatabase(
      async () => {
        if (options.migrate !== false) {
          await refuseNewerSchema(handle);
          if ((await migrateToLatest(handle)).length > 0) await recordSchemaWriter(handle);
        }
        if (options.migrate !== false && options.enforceMasterKey !== false) await enforceMasterKey(handle, ring);
        return clusterNamespace(handle, config.databaseUrl);
      },
      config.startupWaitSeconds,
      logger,
    );
  } catch (error) {
    watch.stop();
    await handle.close();
    // A key file made a moment ago for a database sealed with another key is only confusing.
    if (createdKeyFile) rmSync(createdKeyFile, { force: true });
    throw error;
  }
  if (createdKeyFile) {
    logger.warn(
      { keyFile: createdKeyFile },
      `!!! RELAYKEY_MASTER_KEY is not set: created a new root key file at ${createdKeyFile} (mode 0600). Back it up: without it every stored secret is lost. Set RELAYKEY_MASTER_KEY in production. !!!`,
    );
  }
  const store = createStore(handle);
  const clock = options.clock ?? systemClock;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger, { commandTimeoutMs: config.redisTimeoutMs }) : undefined;
  let throttleErrorLoggedAt = 0;
  const onThrottleError = (error: unknown) => {
    // At most one line a minute: the hot path must not flood the log.
    if (Date.now() - throttleErrorLoggedAt < 60_000) return;
    throttleErrorLoggedAt = Date.now();
    logger.error({ err: error }, 'login throttle store failed; logins go on unthrottled');
  };
  let sharedThrottleErrors = 0;
  // With Redis: shared counters, and this node's own behind them when Redis fails or is slow.
  const throttle = redis
    ? new FallbackThrottle(new RedisThrottle(redis.client, clock, namespace, config.throttle), new MemoryThrottle(clock, config.throttle), () => {
        sharedThrottleErrors += 1;
      })
    : undefined;
  // Quota counters: Redis when configured (the database's behind it when it fails), else the database's.
  const sendingCounters = redis
    ? new FallbackSendingCounters(new RedisSendingCounters(redis.client, namespace), new DatabaseSendingCounters(store, clock))
    : undefined;
  // Jobs run with the runtime, which is built from the services the scheduler is part of.
  let built: Runtime | undefined;
  const scheduler = new Scheduler(config, capabilities.jobs, () => {
    if (!built) throw new Error('a job ran before the runtime was built');
    return built;
  });
  const services = createServices({
    jobs: scheduler,
    store,
    clock,
    hashSecret: createSecretHasher(derivePepper(ring)),
    sessionMinutes: config.adminSessionMinutes,
    reauthMinutes: config.reauthMinutes,
    adminIdleMinutes: config.adminIdleMinutes,
    adminMaxSessions: config.adminMaxSessions,
    adminThrottle: { ...DEFAULT_ADMIN_THROTTLE, freeFailures: config.adminThrottleAfter },
    totpBox: createTotpBox(ring),
    auditKeys: createAuditKeys(ring),
    verifierOptions: {
      cacheTtlMs: config.verifyCacheTtlMs,
      cacheMaxEntries: config.verifyCacheMaxEntries,
      // With standbys: a key changed within the staleness bound is read from the primary.
      freshReadWindowMs: config.databaseReplicaUrls.length > 0 ? config.databaseReplicaMaxLagMs + 1_000 : 0,
    },
    usageFlushMs: config.usageFlushMs,
    verifyStaleMaxMs: config.verifyStaleMaxMs,
    databaseDown: () => !handle.health.ok,
    mailBackends: config.mailBackends,
    trustedProxies: config.trustedProxies,
    throttlePolicy: config.throttle,
    ...(throttle ? { throttle } : {}),
    ...(sendingCounters ? { sendingCounters } : {}),
    loginHooks: { onThrottleError },
    // Embedded mode may gain root key versions while running (`relaykey keys rotate` appends to
    // the key file); with RELAYKEY_MASTER_KEY the ring changes only on restart.
    envelope: new Envelope(ring, { reloadRing: config.masterKey ? null : () => readKeyFile(config.dataDir) }),
    rootKeys: ring,
    smtpRotationMonths: config.smtpRotationMonths,
    webhookAllowNetworks: config.webhookAllowNetworks,
  });
  // TOTP secrets stored in plain base32 before they were sealed are sealed now.
  if (options.migrate !== false) {
    await services.access.sealLegacyTotpSecrets();
    // Chain heads written before the audit key existed get their MAC now.
    await sealAuditHeads(store, createAuditKeys(ring));
  }
  let feed: CredentialChangeFeed | undefined;
  const postgresPool = handle.postgresPool;
  try {
    feed = await startCredentialChangeFeed({
      context: services.context,
      verifier: services.verifier,
      mailRouter: services.mailRouter,
      logger,
      namespace,
      postgresClient: postgresPool ? async () => (await postgresPool()).dedicatedClient() : undefined,
      redis: redis ? { publisher: redis.client, subscriber: redis.subscriber } : undefined,
      onAccessChange: () => services.access.clearTokenCache(),
      onRemoteCredentialChange: () => services.sendingPolicy.forget(),
    });
  } catch (error) {
    await redis?.close();
    await store.close();
    throw error;
  }
  const { extensions } = capabilities;
  const runtime: Runtime = {
    config,
    handle,
    store,
    services,
    scheduler: services.jobs,
    extensions,
    listeners: {},
    rootKeys: ring,
    logger,
    clusterNamespace: namespace,
    redisState: () => redis?.state() ?? 'off',
    throttleFallbacks: () => sharedThrottleErrors,
    changeFeedStatus: () => feed?.status() ?? [],
    close: async () => {
      for (const extension of [...extensions].reverse()) await extension.stop?.(runtime);
      await services.usage.stop();
      await feed?.close();
      await services.throttle.close();
      await redis?.close();
      watch.stop();
      await store.close();
    },
  };
  built = runtime;
  installVerificationObservers(runtime);
  installDependencyMetrics(runtime);
  for (const extension of extensions) await extension.install?.(runtime);
  return runtime;
}

export async function buildRuntimeApp(runtime: Runtime): Promise<App> {
  return buildApp({
    services: runtime.services,
    logger: runtime.logger,
    fastPath: runtime.config.fastPath,
    trustedProxies: runtime.config.trustedProxies,
    ...(runtime.config.tls ? { tls: readTls(runtime.config.tls) } : {}),
    ready: async () => {
      const { health } = runtime.handle;
      await runtime.handle.probe().catch(() => undefined);
      const pool = await runtime.handle.postgresPool?.();
      const database: Record<string, unknown> = { status: health.ok ? 'ok' : health.state, since: new Date(health.since).toISOString() };
      if (pool) database.primary = pool.primaryHost;
      const replicas = runtime.handle.replicaReads?.();
      if (replicas) database.replicas = replicas.report();
      // Redis is optional: its absence is reported, never a reason to be unready.
      return { ready: health.ok, checks: { database, redis: { status: runtime.redisState() } } };
    },
    extraSurfaces: runtime.extensions.flatMap((e) => e.surfaces ?? []),
  });
}

/** Starts background work (usage flushing, jobs) once the app is serving. */
export async function startBackground(runtime: Runtime): Promise<void> {
  runtime.handle.startSqliteBackground?.((message) => {
    runtime.logger.error({ error: message }, 'SQLite background worker failed; commits checkpoint the WAL themselves again');
  });
  runtime.handle.startSqliteLookups?.((message) => {
    runtime.logger.error({ error: message }, 'SQLite lookup worker failed; verify lookups run on the event loop again');
  });
  runtime.services.usage.start();
  for (const extension of runtime.extensions) await extension.start?.(runtime);
}
