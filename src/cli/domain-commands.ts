// CLI: a tenant's mail domains, login aliases and the domain ownership check.
import type { Command } from 'commander';
import { cliActor, output, withRuntime } from './context.js';

export function registerDomainCommands(program: Command): void {
  const domain = program.command('domain').description("tenants' mail domains (one owner per domain)");
  domain
    .command('add')
    .description('assign a mail domain to a tenant (fails with DOMAIN_TAKEN if another tenant owns it)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--domain <domain>', 'domain (IDNA names are stored in A-label form)')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; domain: string; json?: boolean }) => {
      const { domain: owned } = await withRuntime((runtime) => runtime.services.domains.assign(options.tenant, options.domain, cliActor));
      output(options.json, { domain: owned.domain, tenant_id: owned.tenantId }, `domain ${owned.domain} belongs to tenant ${owned.tenantId}`);
    });
  domain
    .command('list')
    .description("list a tenant's domains")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; json?: boolean }) => {
      const domains = await withRuntime(async (runtime) => {
        await runtime.services.tenants.get(options.tenant);
        return runtime.services.domains.list(options.tenant);
      });
      output(options.json, { domains: domains.map((d) => d.domain) }, domains.map((d) => d.domain).join('\n') || '(no domains)');
    });
  domain
    .command('remove')
    .description('take a domain from a tenant (fails with DOMAIN_IN_USE while addresses use it)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--domain <domain>', 'domain')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; domain: string; json?: boolean }) => {
      await withRuntime((runtime) => runtime.services.domains.remove(options.tenant, options.domain, cliActor));
      output(options.json, { removed: options.domain }, `domain ${options.domain} removed`);
    });
  domain
    .command('check')
    .description('list logins, aliases, SMTP usernames and tenant domains that break domain ownership; exits 3 if any')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const report = await withRuntime((runtime) => runtime.services.domains.report());
      const ok = report.total === 0;
      const lines = report.problems.map((p) => `${p.kind} ${p.id} (tenant ${p.tenantId}): ${p.address}: ${p.problem}`);
      output(
        options.json,
        {
          ok,
          checked: report.checked,
          total: report.total,
          problems: report.problems.map((p) => ({ kind: p.kind, id: p.id, tenant_id: p.tenantId, address: p.address, problem: p.problem })),
        },
        ok ? `domains ok: ${report.checked} address(es) checked` : `domain check FAILED: ${report.total} problem(s)\n${lines.join('\n')}`,
      );
      if (!ok) process.exitCode = 3;
    });

  const alias = program.commands.find((c) => c.name() === 'login')?.command('alias') ?? program.command('alias');
  alias
    .description('add an alias address to a mailbox login')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--login <login>', 'login id or address')
    .requiredOption('--address <address>', "alias address inside one of the tenant's domains")
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; login: string; address: string; json?: boolean }) => {
      const created = await withRuntime(async (runtime) => {
        const login = await runtime.services.tenants.resolveLogin(options.tenant, options.login);
        return runtime.services.domains.addAlias(options.tenant, login.id, options.address, cliActor);
      });
      output(options.json, { address: created.address, login_id: created.loginId, tenant_id: created.tenantId }, `alias ${created.address} added`);
    });
}
