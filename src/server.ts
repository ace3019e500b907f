// Listens on the configured address (HTTPS with RELAYKEY_TLS_*), shuts down gracefully on
// SIGTERM/SIGINT and reloads the TLS certificate on SIGHUP.
import type { Server as HttpsServer } from 'node:https';
import type { App } from './app.js';
import type { Config } from './config.js';
import { CAPABILITIES } from './extensions.js';
import { readTls } from './tls.js';
import { buildRuntimeApp, createRuntime, type Runtime, type RuntimeOptions, startBackground } from './runtime.js';

export interface RunningServer {
  runtime: Runtime;
  app: App;
  url: string;
  stop(): Promise<void>;
  /** Re-reads RELAYKEY_TLS_CERT_FILE / _KEY_FILE for new connections; false without TLS. Throws (keeping the old pair) when unusable. */
  reloadTls(): boolean;
}

export async function startServer(config: Config, options: RuntimeOptions = {}): Promise<RunningServer> {
  const runtime = await createRuntime(config, CAPABILITIES, options);
  let app: App;
  try {
    app = await buildRuntimeApp(runtime);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  await app.listen({ host: config.host, port: config.port });
  await startBackground(runtime);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await runtime.close();
    })();
    return stopping;
  };
  const reloadTls = () => {
    if (!config.tls) return false;
    (app.server as HttpsServer).setSecureContext(readTls(config.tls));
    return true;
  };
  return { runtime, app, url, stop, reloadTls };
}

export function stopOnSignals(server: RunningServer): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.runtime.logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 10_000);
    forced.unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        server.runtime.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    try {
      if (server.reloadTls()) server.runtime.logger.info('TLS certificate reloaded');
    } catch (error) {
      server.runtime.logger.error({ error: (error as Error).message }, 'TLS certificate NOT reloaded; the previous one stays in use');
    }
  });
}
