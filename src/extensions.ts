// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerKeysCommands } from './cli/keys-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';
import { registerNginxAuthRoute } from './protocol/nginx/auth-http-route.js';
import { runtimeExtensions } from './runtime.js';
import { registerSessionRoutes } from './surfaces/native/session-routes.js';
import { registerStatsRoutes } from './surfaces/native/stats-routes.js';
import { vaultExtension } from './vault-extension.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  runtimeExtensions.push(vaultExtension);
  cliCommandRegistrars.push(registerKeysCommands);
  // Mail-server logins: nginx auth_http, credential sessions and verification stats.
  runtimeExtensions.push({ name: 'protocol', surfaces: [registerNginxAuthRoute, registerSessionRoutes, registerStatsRoutes] });
}
