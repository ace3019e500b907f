// Sending policy (issue 25): which envelope senders a credential may use. The mail server asks
// with the identity relaykey gave it at authentication (domain/verification.ts): a login's
// address, the vaulted SMTP account's username, or <credential id>@<tenant id>.relaykey.invalid.
//
// Allowed senders are addresses (`someone@example.com`) and whole domains (`@example.com`), always
// inside the tenant's own domains (checked when set and again at every decision, so a domain taken
// away from the tenant stops counting at once). A credential that names none gets the default:
// - bound to a login: the login's address and the login's aliases;
// - the tenant's vaulted SMTP account, tenant-wide and seed 001 credentials: the tenant's
//   `defaultAllowedSenders` setting when it has one, else any address in the tenant's domains.
// A login identity stands for every credential bound to that login (the mail server cannot tell
// them apart): its senders are the union of those credentials' that may still log in.
import { AppError } from '../errors.js';
import type { Repositories } from '../storage/store.js';
import type { DomainContext } from './context.js';
import { canonicalAddress, canonicalDomain, domainOf } from './domain-names.js';
import { type AbuseTrigger, autoHoldOf, CountryWatch, quotaAbuse } from './abuse-watch.js';
import { DatabaseSendingCounters, type SendingCounters, windowKey } from './sending-counters.js';
import type { Credential, SendingLimits, Tenant } from './types.js';

export const MAX_ALLOWED_SENDERS = 100;
const INVALID_SUFFIX = '.relaykey.invalid';

/**
 * Canonical allowed-sender entries (`local@domain` or `@domain`), each inside one of the tenant's
 * domains: 422 VALIDATION_FAILED for a malformed entry, 422 DOMAIN_NOT_OWNED for another domain.
 * `onlyAddresses`: a login-bound token may name only its login's own addresses (it may not widen).
 */
export async function checkAllowedSenders(
  repositories: Repositories,
  tenantId: string,
  entries: readonly string[],
  onlyAddresses?: readonly string[],
): Promise<string[]> {
  if (entries.length > MAX_ALLOWED_SENDERS) throw new AppError('VALIDATION_FAILED', `allowed_senders: at most ${MAX_ALLOWED_SENDERS} entries`);
  const owned = new Set(await repositories.sending.tenantDomains(tenantId));
  const out: string[] = [];
  for (const entry of entries) {
    const canonical = canonicalSenderEntry(entry);
    if (!canonical) {
      throw new AppError('VALIDATION_FAILED', `allowed_senders: "${entry.slice(0, 100)}" is neither an address nor @domain`);
    }
    const domain = canonical.startsWith('@') ? canonical.slice(1) : domainOf(canonical);
    if (!owned.has(domain)) {
      throw new AppError('DOMAIN_NOT_OWNED', `allowed_senders: ${canonical} is not in a domain of this tenant; a platform admin assigns domains to tenants`);
    }
    if (onlyAddresses && !onlyAddresses.includes(canonical)) {
      throw new AppError('FORBIDDEN', `allowed_senders: a login-bound token may name only its login's own addresses (${canonical} is not one)`);
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

export function canonicalSenderEntry(entry: string): string | null {
  const trimmed = entry.trim();
  if (trimmed.startsWith('@')) {
    const domain = canonicalDomain(trimmed.slice(1));
    return domain ? `@${domain}` : null;
  }
  return canonicalAddress(trimmed);
}

/** Who a mail-server identity stands for, with everything a decision needs. */
export interface SendingSubject {
  kind: 'credential' | 'login';
  /** credential:<id> or login:<id>: the key of its counters. */
  key: string;
  tenantId: string;
  tenant: Tenant;
  /** The credentials behind it that may still log in (one, or a login's several). */
  credentials: Credential[];
  /** Canonical addresses and @domains it may send as (before the ownership check). */
  senders: Set<string>;
  /** The tenant's domains now. */
  ownedDomains: Set<string>;
}

/** A credential that may still authenticate: active and not held, or rotated and still in its grace period. */
export function mayStillLogIn(credential: Credential, now: Date): boolean {
  if (credential.held) return false;
  if (credential.expiresAt && Date.parse(credential.expiresAt) <= now.getTime()) return false;
  if (credential.status === 'active') return true;
  return credential.graceUntil !== null && Date.parse(credential.graceUntil) > now.getTime();
}

function defaultSenders(credential: Credential, tenant: Tenant, ownedDomains: Set<string>, login: { address: string; aliases: string[] } | null): string[] {
  if (credential.allowedSenders) return credential.allowedSenders;
  if (login) return [login.address, ...login.aliases];
  if (tenant.settings.defaultAllowedSenders) return tenant.settings.defaultAllowedSenders;
  return [...ownedDomains].map((d) => `@${d}`);
}

/**
 * The subject behind an identity, or null when relaykey did not hand out this identity (the
 * mail server authenticated it some other way: not relaykey's to judge).
 */
export async function resolveSubject(repositories: Repositories, identityInput: string, now: Date): Promise<SendingSubject | null> {
  const identity = identityInput.trim().toLowerCase();
  if (!identity) return null;
  let credentials: Credential[] = [];
  let kind: SendingSubject['kind'] = 'credential';
  let key = '';
  let login: { id: string; tenantId: string; address: string; aliases: string[] } | null = null;
  if (identity.endsWith(INVALID_SUFFIX)) {
    const at = identity.lastIndexOf('@');
    const credentialId = identity.slice(0, at);
    const tenantId = identity.slice(at + 1, -INVALID_SUFFIX.length);
    if (at <= 0 || !tenantId) return null;
    const credential = await repositories.credentials.findById(tenantId, credentialId);
    if (!credential) return null;
    credentials = [credential];
    key = `credential:${credential.id}`;
  } else {
    const account = await repositories.sending.credentialOfAccount(identity);
    if (account) {
      credentials = [account];
      key = `credential:${account.id}`;
    } else {
      const address = canonicalAddress(identity);
      const found = address ? await repositories.sending.loginByAddress(address) : null;
      if (!found) return null;
      login = { ...found, aliases: await repositories.sending.aliasesOf(found.id) };
      credentials = await repositories.sending.credentialsOfLogin(found.tenantId, found.id);
      kind = 'login';
      key = `login:${found.id}`;
    }
  }
  const tenantId = credentials[0]?.tenantId ?? login?.tenantId;
  if (!tenantId) return null;
  const tenant = await repositories.tenants.findById(tenantId);
  if (!tenant) return null;
  const ownedDomains = new Set(await repositories.sending.tenantDomains(tenantId));
  const usable = credentials.filter((c) => mayStillLogIn(c, now));
  const senders = new Set<string>();
  for (const credential of usable) {
    const credentialLogin = login && credential.loginId === login.id ? login : null;
    for (const entry of defaultSenders(credential, tenant, ownedDomains, credentialLogin)) senders.add(entry);
  }
  return { kind, key, tenantId, tenant, credentials: usable, senders, ownedDomains };
}

export type SenderVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * May the subject use this envelope sender? The null sender (`<>`, bounces and receipts) is
 * allowed: it names nobody, and quotas still count it.
 */
export function senderVerdict(subject: SendingSubject, senderInput: string): SenderVerdict {
  if (subject.credentials.length === 0) return { allowed: false, reason: 'this login has no credential that may send (held, revoked or expired)' };
  const trimmed = senderInput.trim();
  if (trimmed === '') return { allowed: true };
  const sender = canonicalAddress(trimmed);
  if (!sender) return { allowed: false, reason: 'the sender address is malformed' };
  const domain = domainOf(sender);
  if (!subject.ownedDomains.has(domain)) return { allowed: false, reason: `sender ${sender} is not in a domain of this tenant` };
  if (subject.senders.has(sender) || subject.senders.has(`@${domain}`)) return { allowed: true };
  return { allowed: false, reason: `sender ${sender} is not an allowed sender of this login` };
}

/** What the mail server is asked about: the attributes of one policy request relaykey reads. */
export interface SendingAttempt {
  /** The identity relaykey gave the mail server at authentication (Postfix: sasl_username). */
  identity: string;
  sender: string;
  recipient: string;
  /** Postfix: non-zero in the DATA and END-OF-MESSAGE states only. */
  recipientCount: number;
  clientAddress: string | null;
  /** RCPT, DATA, END-OF-MESSAGE, ... */
  state: string;
  /** Postfix's `instance`: one value per message within a connection. */
  instance: string;
}

export type SendingDecision = { verdict: 'allow' } | { verdict: 'reject'; reason: string } | { verdict: 'defer'; reason: string };

const ALLOW: SendingDecision = { verdict: 'allow' };

export interface SendingPolicyOptions {
  /** Holds the credentials behind a subject caught by auto-hold (CredentialService.holdForAbuse); returns how many it held. */
  hold?: (subject: SendingSubject, trigger: AbuseTrigger) => Promise<number>;
  /** How long a resolved identity is reused (ms); a change made on this node clears it at once. */
  subjectTtlMs?: number;
  /** Shared quota counters (Redis or the database); the database when not given. */
  counters?: SendingCounters;
}

/** Decisions per verdict since start (metrics). */
export interface SendingPolicyStats {
  allow: number;
  reject: number;
  defer: number;
  /** Requests without an identity relaykey handed out (not relaykey's to judge: allowed). */
  foreign: number;
  /** Credentials held by auto-hold on abuse. */
  autoHolds: number;
}

const LIMIT_FIELDS = ['messagesPerHour', 'messagesPerDay', 'recipientsPerMessage', 'recipientsPerDay'] as const;

/**
 * The limits that apply: per field, the credential's own when it sets one, else the tenant's. A
 * login stands for all its usable credentials: per field the smallest any of them sets.
 */
export function effectiveLimits(subject: Pick<SendingSubject, 'credentials' | 'tenant'>): SendingLimits {
  const limits: SendingLimits = { ...(subject.tenant.settings.sendingLimits ?? {}) };
  for (const field of LIMIT_FIELDS) {
    const own = subject.credentials.map((c) => c.sendingLimits?.[field]).filter((v): v is number => v !== undefined);
    if (own.length > 0) limits[field] = Math.min(...own);
  }
  return limits;
}

/** How many recipients each message in progress has had allowed (Postfix's `instance`), bounded. */
const MAX_INSTANCES = 50_000;

export class SendingPolicy {
  private readonly subjects = new Map<string, { subject: SendingSubject | null; at: number }>();
  private readonly instances = new Map<string, number>();
  readonly counters: SendingCounters;
  readonly stats: SendingPolicyStats = { allow: 0, reject: 0, defer: 0, foreign: 0, autoHolds: 0 };
  private readonly countries: CountryWatch;

  constructor(
    private readonly context: DomainContext,
    private readonly options: SendingPolicyOptions = {},
  ) {
    this.counters = options.counters ?? new DatabaseSendingCounters(context.store, context.clock);
    this.countries = new CountryWatch(context.store);
    context.onCredentialChange.push(() => this.forget());
  }

  /** Forget every resolved identity (after a change of senders, domains or aliases). */
  forget(): void {
    this.generation += 1;
    this.subjects.clear();
  }

  /** Bumped by forget(): a subject resolved before a change is used once but not cached. */
  private generation = 0;

  private async subject(identity: string): Promise<SendingSubject | null> {
    const key = identity.trim().toLowerCase();
    const ttl = this.options.subjectTtlMs ?? 5_000;
    const cached = this.subjects.get(key);
    if (cached && Date.now() - cached.at < ttl) return cached.subject;
    const generation = this.generation;
    const subject = await resolveSubject(this.context.store, key, this.context.clock.now());
    if (generation !== this.generation) return subject;
    if (this.subjects.size >= 10_000) this.subjects.clear();
    this.subjects.set(key, { subject, at: Date.now() });
    return subject;
  }

  private keys(subject: SendingSubject) {
    const now = this.context.clock.now();
    return [windowKey(subject.key, subject.tenantId, 'hour', now), windowKey(subject.key, subject.tenantId, 'day', now)];
  }

  private defer(reason: string): SendingDecision {
    this.stats.defer += 1;
    return { verdict: 'defer', reason };
  }

  async decide(attempt: SendingAttempt): Promise<SendingDecision> {
    if (!attempt.identity.trim()) {
      this.stats.foreign += 1;
      return ALLOW;
    }
    const subject = await this.subject(attempt.identity);
    if (!subject) {
      this.stats.foreign += 1;
      return ALLOW;
    }
    const verdict = senderVerdict(subject, attempt.sender);
    if (!verdict.allowed) {
      this.stats.reject += 1;
      await this.counters.add(this.keys(subject), { rejected: 1 });
      return { verdict: 'reject', reason: verdict.reason };
    }
    if (attempt.state === 'RCPT') {
      const autoHold = autoHoldOf(subject.tenant);
      if (autoHold.enabled && autoHold.maxNewCountriesPerHour !== null) {
        const trigger = await this.countries.check(subject, attempt.clientAddress, this.context.clock.now().getTime(), autoHold.maxNewCountriesPerHour);
        if (trigger) return this.holdForAbuse(subject, trigger);
      }
      // Quotas count at RCPT: a message when its first recipient is allowed, each allowed recipient.
      const decision = await this.countRecipient(subject, attempt);
      if (decision.verdict !== 'allow') return decision;
    }
    this.stats.allow += 1;
    return ALLOW;
  }

  /** Holds the credentials behind the subject; this attempt is deferred (the next ones are refused as held). */
  private async holdForAbuse(subject: SendingSubject, trigger: AbuseTrigger): Promise<SendingDecision> {
    if (this.options.hold) {
      // Awaited first: `stats.autoHolds += await ...` would read the count before a concurrent hold added to it.
      const held = await this.options.hold(subject, trigger);
      this.stats.autoHolds += held;
    }
    return this.defer('sending held: abuse suspected');
  }

  private async countRecipient(subject: SendingSubject, attempt: SendingAttempt): Promise<SendingDecision> {
    const limits = effectiveLimits(subject);
    const instance = `${subject.key}|${attempt.instance}`;
    const before = this.instances.get(instance) ?? 0;
    const keys = this.keys(subject);
    if (limits.recipientsPerMessage !== undefined && before + 1 > limits.recipientsPerMessage) {
      await this.counters.add(keys, { deferred: 1 });
      return this.defer(`at most ${limits.recipientsPerMessage} recipients per message`);
    }
    const first = before === 0 || attempt.instance === '';
    const delta = { messages: first ? 1 : 0, recipients: 1 };
    const [hour, day] = await this.counters.add(keys, delta);
    let reason: string | null = null;
    if (first && limits.messagesPerHour !== undefined && (hour?.messages ?? 0) > limits.messagesPerHour) {
      reason = `hourly quota of ${limits.messagesPerHour} messages reached`;
    } else if (first && limits.messagesPerDay !== undefined && (day?.messages ?? 0) > limits.messagesPerDay) {
      reason = `daily quota of ${limits.messagesPerDay} messages reached`;
    } else if (limits.recipientsPerDay !== undefined && (day?.recipients ?? 0) > limits.recipientsPerDay) {
      reason = `daily quota of ${limits.recipientsPerDay} recipients reached`;
    }
    if (reason) {
      // Undo what this attempt counted: only what was sent counts.
      const [hourNow, dayNow] = await this.counters.add(keys, { messages: -delta.messages, recipients: -delta.recipients, deferred: 1 });
      const autoHold = autoHoldOf(subject.tenant);
      const trigger = autoHold.enabled ? quotaAbuse(limits, autoHold, hourNow, dayNow) : null;
      if (trigger) return this.holdForAbuse(subject, trigger);
      return this.defer(reason);
    }
    if (this.instances.size >= MAX_INSTANCES) this.instances.clear();
    this.instances.set(instance, before + 1);
    return ALLOW;
  }
}

export interface CredentialUsage {
  /** Whose counters: the credential's own, or (bound to a login) the login's, shared by its credentials. */
  subject: 'credential' | 'login';
  limits: SendingLimits;
  hour: { windowStart: string; messages: number; recipients: number; rejected: number; deferred: number };
  day: { windowStart: string; messages: number; recipients: number; rejected: number; deferred: number };
}

/** What a credential sent in the current hour and day (the counters the policy enforces). */
export async function credentialUsage(policy: SendingPolicy, context: DomainContext, credential: Credential, tenant: Tenant): Promise<CredentialUsage> {
  const login = credential.loginId !== null;
  const key = login ? `login:${credential.loginId}` : `credential:${credential.id}`;
  const now = context.clock.now();
  const keys = [windowKey(key, credential.tenantId, 'hour', now), windowKey(key, credential.tenantId, 'day', now)];
  const [hour, day] = await policy.counters.read(keys);
  const zero = { messages: 0, recipients: 0, rejected: 0, deferred: 0 };
  return {
    subject: login ? 'login' : 'credential',
    limits: effectiveLimits({ credentials: [credential], tenant }),
    hour: { windowStart: keys[0]?.windowStart as string, ...(hour ?? zero) },
    day: { windowStart: keys[1]?.windowStart as string, ...(day ?? zero) },
  };
}
