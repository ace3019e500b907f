// CLI: webhook endpoints (the signing secret is printed once).
import type { Command } from 'commander';
import { cliActor, output, withRuntime } from './context.js';

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('webhook endpoints');
  webhook
    .command('create')
    .description('create a webhook endpoint for a tenant; prints its whsec_ signing secret once')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--url <url>', 'http(s) URL that receives signed POSTs')
    .option('--events <types>', 'comma list of event types (default: all)')
    .option('--description <text>', 'what the endpoint is for')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; url: string; events?: string; description?: string; json?: boolean }) => {
      const events = options.events
        ?.split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const { endpoint, secret } = await withRuntime((runtime) =>
        runtime.services.webhooks.create(
          {
            tenantId: options.tenant,
            url: options.url,
            ...(events ? { events } : {}),
            ...(options.description ? { description: options.description } : {}),
          },
          cliActor,
        ),
      );
      output(
        options.json,
        { id: endpoint.id, tenant_id: endpoint.tenantId, url: endpoint.url, events: endpoint.events, enabled: endpoint.enabled, secret },
        `webhook ${endpoint.id} created for ${endpoint.url}\nsigning secret: ${secret}\n(shown once: store it now)`,
      );
    });
}
