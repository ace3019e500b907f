// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerCredentialCommands } from './cli/credential-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  cliCommandRegistrars.push(registerCredentialCommands);
}
