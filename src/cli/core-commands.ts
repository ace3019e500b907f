// CLI: admins, tenants, logins, tokens and the audit check.
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { headIsAuthentic, verifyAuditChains } from '../domain/audit.js';
import { type AuditCheckpoint, checkAgainstCheckpoint, latestStoredCheckpoint, parseCheckpoint, signCheckpoint } from '../domain/audit-checkpoint.js';
import { canonicalAddress, canonicalDomain } from '../domain/domain-names.js';
import type { TokenKind } from '../domain/types.js';
import { AppError } from '../errors.js';
import { cliActor, output, withRuntime } from './context.js';

/** RFC 4648 base32 without padding, as authenticator apps take it (80 bits at least). */
function isBase32Secret(value: string): boolean {
  return /^[A-Z2-7]{16,}=*$/.test(value.replace(/\s/g, '').toUpperCase());
}

export function registerCoreCommands(program: Command): void {
  const admin = program.command('admin').description('platform admins');
  admin
    .command('create')
    .description('create a platform admin')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption('--password <password>', 'password (at least 12 characters)')
    .option('--totp-secret <base32>', 'enable TOTP with this base32 secret')
    .option('--role <role>', 'owner (may manage admins; the default) or admin')
    .option('--json', 'print one JSON object')
    .action(async (options: { email: string; password: string; totpSecret?: string; role?: string; json?: boolean }) => {
      if (options.role !== undefined && options.role !== 'owner' && options.role !== 'admin') {
        throw new AppError('VALIDATION_FAILED', `--role must be owner or admin, not "${options.role.slice(0, 40)}"`);
      }
      const role = options.role as 'owner' | 'admin' | undefined;
      if (!canonicalAddress(options.email)) throw new AppError('VALIDATION_FAILED', `--email "${options.email.slice(0, 100)}" is not an email address`);
      if (options.totpSecret !== undefined && !isBase32Secret(options.totpSecret)) {
        throw new AppError('VALIDATION_FAILED', '--totp-secret must be base32 (letters A-Z and digits 2-7, at least 16 characters)');
      }
      const created = await withRuntime((runtime) =>
        runtime.services.access.createAdmin(
          { email: options.email, password: options.password, totpSecret: options.totpSecret ?? null, ...(role ? { role } : {}) },
          cliActor,
        ),
      );
      output(options.json, { id: created.id, email: created.email, role: created.role }, `admin ${created.email} created (${created.id}, ${created.role})`);
    });

  const tenant = program.command('tenant').description('tenants');
  tenant
    .command('create')
    .description('create a tenant and provision its vaulted SMTP account')
    .requiredOption('--name <name>', 'tenant name')
    .option('--domain <domain>', 'mail domain')
    .option('--webmail-url <url>', 'webmail URL')
    .option('--smtp-username <username>', 'username of the vaulted SMTP account (default admin@<domain>)')
    .option('--json', 'print one JSON object')
    .action(async (options: { name: string; domain?: string; webmailUrl?: string; smtpUsername?: string; json?: boolean }) => {
      if (!options.name.trim()) throw new AppError('VALIDATION_FAILED', '--name must not be empty');
      if (options.domain !== undefined && !canonicalDomain(options.domain))
        throw new AppError('VALIDATION_FAILED', `--domain "${options.domain.slice(0, 100)}" is not a domain name`);
      if (options.webmailUrl && !/^https?:\/\//.test(options.webmailUrl)) throw new AppError('VALIDATION_FAILED', '--webmail-url must be an http(s) URL');
      const { tenant: created, smtpUsername } = await withRuntime((runtime) =>
        runtime.services.provisioning.createTenant(
          {
            name: options.name.trim(),
            domain: options.domain ?? null,
            webmailUrl: options.webmailUrl ?? null,
            ...(options.smtpUsername ? { smtpUsername: options.smtpUsername } : {}),
          },
          cliActor,
        ),
      );
      output(
        options.json,
        { id: created.id, name: created.name, smtp_username: smtpUsername },
        `tenant ${created.name} created (${created.id}); SMTP account ${smtpUsername}`,
      );
    });

  const login = program.command('login').description('mailbox logins');
  login
    .command('create')
    .description('create a mailbox login in a tenant')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--address <address>', 'mailbox address, e.g. alice@example.com')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant: string; address: string; json?: boolean }) => {
      const created = await withRuntime((runtime) => runtime.services.tenants.createLogin(options.tenant, options.address, cliActor));
      output(options.json, { id: created.id, address: created.address, tenant_id: created.tenantId }, `login ${created.address} created (${created.id})`);
    });

  const token = program.command('token').description('management tokens');
  token
    .command('create')
    .description('create a bearer token, server API key or verifier token; the token is printed once')
    .requiredOption('--kind <kind>', 'bearer | server | verifier')
    .option('--tenant <id>', 'tenant id (bearer and server)')
    .option('--login <login>', 'bind a bearer token to this mailbox login (id or address)')
    .option('--name <name>', 'a name to recognise the token by')
    .option('--json', 'print one JSON object')
    .action(async (options: { kind: string; tenant?: string; login?: string; name?: string; json?: boolean }) => {
      if (!['bearer', 'server', 'verifier'].includes(options.kind)) throw new AppError('VALIDATION_FAILED', '--kind must be bearer, server or verifier');
      const result = await withRuntime(async (runtime) => {
        const loginId = options.login && options.tenant ? (await runtime.services.tenants.resolveLogin(options.tenant, options.login)).id : null;
        return runtime.services.access.createToken(
          { kind: options.kind as TokenKind, tenantId: options.tenant ?? null, loginId, ...(options.name ? { name: options.name } : {}) },
          cliActor,
        );
      });
      output(
        options.json,
        { id: result.token.id, kind: result.token.kind, tenant_id: result.token.tenantId, login_id: result.token.loginId, token: result.secret },
        `${result.token.kind} token ${result.token.id}:\n${result.secret}\n(shown once: store it now)`,
      );
    });

  token
    .command('list')
    .description("list tokens with their last use: the platform's verifier tokens, or a tenant's tokens with --tenant")
    .option('--kind <kind>', 'bearer | server | verifier (default: verifier, or every kind with --tenant)')
    .option('--tenant <id>', "a tenant's bearer tokens and server API keys")
    .option('--json', 'print one JSON object')
    .action(async (options: { kind?: string; tenant?: string; json?: boolean }) => {
      if (options.kind && !['bearer', 'server', 'verifier'].includes(options.kind))
        throw new AppError('VALIDATION_FAILED', '--kind must be bearer, server or verifier');
      const tokens = await withRuntime(async (runtime) =>
        options.tenant
          ? (await runtime.services.access.listTokens(options.tenant)).filter((t) => !options.kind || t.kind === options.kind)
          : runtime.services.access.listPlatformTokens((options.kind ?? 'verifier') as TokenKind),
      );
      const data = tokens.map((t) => ({
        id: t.id,
        kind: t.kind,
        tenant_id: t.tenantId,
        name: t.name,
        key_hint: t.keyHint,
        created_at: t.createdAt,
        last_used_at: t.lastUsedAt ?? null,
        revoked_at: t.revokedAt,
      }));
      const lines = data.map(
        (t) =>
          `${t.id}  ${t.kind}  ${t.name}  created ${t.created_at}  last used ${t.last_used_at ?? 'never'}${t.revoked_at ? `  REVOKED ${t.revoked_at}` : ''}`,
      );
      output(options.json, { data }, lines.length > 0 ? lines.join('\n') : 'no tokens');
    });
  token
    .command('revoke')
    .description('revoke a token (any kind) by id: every node refuses it within a second')
    .argument('<id>', 'the token id')
    .option('--json', 'print one JSON object')
    .action(async (id: string, options: { json?: boolean }) => {
      const revoked = await withRuntime(async (runtime) => {
        const found = await runtime.store.access.findTokenById(id);
        if (!found) throw new AppError('NOT_FOUND', `token ${id} not found`);
        await runtime.services.access.revokeToken(found.tenantId, found.id, cliActor);
        return found;
      });
      output(options.json, { id: revoked.id, kind: revoked.kind, revoked: true }, `${revoked.kind} token ${revoked.id} revoked`);
    });

  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check every hash chain (and, with --checkpoint, that none is shorter or other than a kept checkpoint); exits non-zero naming the problem')
    .option('--tenant <id>', 'only this tenant')
    .option('--checkpoint <file>', 'a checkpoint kept off the database: its log line, its audit.checkpoint webhook body or the object itself')
    .option('--json', 'print one JSON object')
    .action(async (options: { tenant?: string; checkpoint?: string; json?: boolean }) => {
      let kept: AuditCheckpoint | null = null;
      if (options.checkpoint !== undefined) {
        let text: string;
        try {
          text = readFileSync(options.checkpoint, 'utf8');
        } catch {
          throw new AppError('VALIDATION_FAILED', `--checkpoint ${options.checkpoint.slice(0, 200)}: cannot read the file`);
        }
        kept = parseCheckpoint(text);
      }
      const result = await withRuntime(async (runtime) => {
        if (options.tenant !== undefined && !(await runtime.store.tenants.findById(options.tenant)))
          throw new AppError('NOT_FOUND', `tenant ${options.tenant.slice(0, 100)} not found`);
        const chains = await verifyAuditChains(runtime.store, options.tenant, runtime.services.context.auditKeys);
        const signer = runtime.services.checkpointSigner;
        const covered = (checkpoint: AuditCheckpoint) => checkpoint.heads.filter((h) => options.tenant === undefined || h.chain === options.tenant).length;
        // The newest checkpoint still in the database catches a truncation that left it there;
        // one kept elsewhere (--checkpoint) catches the rest.
        const stored = await latestStoredCheckpoint(runtime.store);
        const checks: { source: string; checkpoint: AuditCheckpoint }[] = [];
        if (stored) checks.push({ source: 'stored', checkpoint: stored });
        if (kept) checks.push({ source: 'file', checkpoint: kept });
        const checkpoints = [];
        for (const { source, checkpoint } of checks) {
          const problems = await checkAgainstCheckpoint(runtime.store, checkpoint, signer, options.tenant);
          chains.problems.push(...problems.map((p) => ({ ...p, problem: `${p.problem} (${source} checkpoint ${checkpoint.id})` })));
          checkpoints.push({ source, id: checkpoint.id, created_at: checkpoint.created_at, chains: covered(checkpoint), ok: problems.length === 0 });
        }
        return { ...chains, checkpoints };
      });
      const ok = result.problems.length === 0;
      const lines = result.problems.map((p) => `chain ${p.chain}: ${p.eventId ? `event ${p.eventId} (seq ${p.seq})` : 'end of chain'}: ${p.problem}`);
      const against = result.checkpoints.map((c) => `, ${c.source} checkpoint of ${c.created_at} (${c.chains} chain(s))`).join('');
      output(
        options.json,
        { ok, chains: result.chains, events: result.events, checkpoints: result.checkpoints, problems: result.problems },
        ok ? `audit ok: ${result.chains} chain(s), ${result.events} event(s)${against}` : `audit FAILED\n${lines.join('\n')}`,
      );
      if (!ok) process.exitCode = 3;
    });

  audit
    .command('checkpoint')
    .description('sign the heads of every audit chain now and print the checkpoint (JSON; keep it off the database, e.g. with a backup)')
    .action(async () => {
      const checkpoint = await withRuntime(async (runtime) => {
        const keys = runtime.services.context.auditKeys;
        if (!keys) throw new AppError('INTERNAL', 'the audit key is not loaded');
        const heads = (await runtime.store.audit.listChains())
          .filter((head) => headIsAuthentic(head, keys))
          .map((head) => ({ chain: head.chain, count: head.count, last_hash: head.lastHash }));
        const now = runtime.services.context.clock.now().toISOString();
        return signCheckpoint(runtime.services.checkpointSigner, { id: randomUUID(), createdAt: now, heads });
      });
      process.stdout.write(`${JSON.stringify(checkpoint)}\n`);
    });

  audit
    .command('public-key')
    .description('the Ed25519 public keys that sign audit checkpoints, one per loaded root key version')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const keys = await withRuntime(async (runtime) => {
        const signer = runtime.services.checkpointSigner;
        return [...runtime.rootKeys.keys.keys()]
          .sort((a, b) => a - b)
          .map((version) => ({ key_version: version, ed25519_public_key: signer.publicKey(version) }));
      });
      output(options.json, { keys }, keys.map((k) => `v${k.key_version} ed25519 ${k.ed25519_public_key} (raw, base64url)`).join('\n'));
    });
}
