// Listens on the configured address and shuts down gracefully on SIGTERM/SIGINT.
import type { App } from './app.js';
import type { Config } from './config.js';
import { buildRuntimeApp, createRuntime, type Runtime, type RuntimeOptions, startBackground } from './runtime.js';

export interface RunningServer {
  runtime: Runtime;
  app: App;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: RuntimeOptions = {}): Promise<RunningServer> {
  const runtime = await createRuntime(config, options);
  const app = await buildRuntimeApp(runtime);
  await app.listen({ host: config.host, port: config.port });
  await startBackground(runtime);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await runtime.close();
    })();
    return stopping;
  };
  return { runtime, app, url, stop };
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
}
