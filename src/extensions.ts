// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerKeysCommands } from './cli/keys-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';
import { registerWebhookCommands } from './cli/webhook-commands.js';
import { jobsExtension } from './jobs/extension.js';
import { lifecycleJobs } from './jobs/lifecycle-jobs.js';
import { jobRegistry } from './jobs/registry.js';
import { vaultJobs } from './jobs/vault-jobs.js';
import { runtimeExtensions } from './runtime.js';
import { vaultExtension } from './vault-extension.js';
import { webhooksExtension } from './webhooks/extension.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  // Webhooks before jobs: the delivery job needs the webhook service installed.
  runtimeExtensions.push(vaultExtension, webhooksExtension, jobsExtension);
  jobRegistry.push(...vaultJobs, ...lifecycleJobs);
  cliCommandRegistrars.push(registerKeysCommands, registerWebhookCommands);
}
