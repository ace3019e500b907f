// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerKeysCommands } from './cli/keys-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';
import { runtimeExtensions } from './runtime.js';
import { seedSurfacesExtension } from './surfaces/seed-surfaces.js';
import { vaultExtension } from './vault-extension.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  runtimeExtensions.push(vaultExtension);
  runtimeExtensions.push(seedSurfacesExtension);
  cliCommandRegistrars.push(registerKeysCommands);
}
