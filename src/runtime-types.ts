// The runtime as the rest of the service sees it: the typed container of configuration, storage,
// secrets and services. Types only (runtime.ts builds it), so that jobs, extensions and adapters
// can name it without an import circle.
import type { Logger } from 'pino';
import type { FeedChannelStatus } from './cluster/credential-changes.js';
import type { SurfaceRegistrar } from './surfaces/registrar.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { RootKeyRing } from './crypto/root-secret.js';
import type { Services } from './domain/services.js';
import type { JobSchedule } from './jobs/schedule.js';
import type { DatabaseHandle } from './storage/connect.js';
import type { Store } from './storage/store.js';

export interface Runtime {
  config: Config;
  handle: DatabaseHandle;
  store: Store;
  services: Services;
  /** The background jobs of this node. */
  scheduler: JobSchedule;
  /** The extensions this runtime was built with (their routes, start and stop hooks). */
  extensions: readonly RuntimeExtension[];
  /** Sockets this node listens on besides HTTP, opened and closed by the extension that owns each. */
  listeners: RuntimeListeners;
  rootKeys: RootKeyRing;
  logger: Logger;
  /** Shared by every node on this database: prefixes Redis keys, names the NOTIFY channel. */
  clusterNamespace: string;
  /** Redis now: connected, down (this node falls back), or not configured. */
  redisState(): 'ready' | 'down' | 'off';
  /** Throttle calls this node's own counters answered because Redis failed. */
  throttleFallbacks(): number;
  /** The change feed's channels now (PostgreSQL NOTIFY, Redis pub/sub); empty when none is configured. */
  changeFeedStatus(): FeedChannelStatus[];
  close(): Promise<void>;
}

export interface RuntimeListeners {
  /** Postfix policy delegation (RELAYKEY_POLICY_PORT), while started. */
  policy?: { readonly port: number; close(): Promise<void> };
}

export interface RuntimeOptions {
  clock?: Clock;
  logger?: Logger;
  schema?: string;
  migrate?: boolean;
  /** false: open even with a master key other than the stored one (`keys status`, `doctor` report it instead). */
  enforceMasterKey?: boolean;
}

/** Modules that extend the runtime (vault, jobs, webhooks, protocol endpoints) register here. */
export type RuntimeExtension = {
  name: string;
  install?(runtime: Runtime): void | Promise<void>;
  surfaces?: SurfaceRegistrar[];
  start?(runtime: Runtime): void | Promise<void>;
  stop?(runtime: Runtime): void | Promise<void>;
};

/**
 * What a runtime is built with beyond the core: the extensions (routes, start/stop hooks) and
 * the background jobs. Listed once, in extensions.ts, and handed to createRuntime: nothing is
 * registered at import time, so a runtime without them does not compile.
 */
export interface Capabilities {
  extensions: readonly RuntimeExtension[];
  jobs: readonly JobDefinition[];
}

/** A background job: runs on an interval; returns how many items it handled. */
export interface JobDefinition {
  name: string;
  intervalMs: number;
  /** The interval when the configuration sets it (RELAYKEY_JOB_INTERVAL_MS still wins). */
  intervalFor?(config: Config): number;
  /** False: the job is switched off by the configuration and never scheduled. */
  enabled?(config: Config): boolean;
  run(runtime: Runtime): Promise<number>;
}
