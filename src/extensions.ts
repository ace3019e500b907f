// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerWebhookCommands } from './cli/webhook-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';
import { jobsExtension } from './jobs/extension.js';
import { lifecycleJobs } from './jobs/lifecycle-jobs.js';
import { jobRegistry } from './jobs/registry.js';
import { runtimeExtensions } from './runtime.js';
import { webhooksExtension } from './webhooks/extension.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  // Webhooks before jobs: the delivery job needs the webhook service installed.
  runtimeExtensions.push(webhooksExtension, jobsExtension);
  jobRegistry.push(...lifecycleJobs);
  cliCommandRegistrars.push(registerWebhookCommands);
}
