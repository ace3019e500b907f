// Last-used times and usage sessions, gathered on the hot path in memory and written in
// batches off it (every flush interval and on shutdown): never one write per login.
import { yieldToEventLoop } from '../event-loop.js';
import type { SessionRow } from '../storage/repositories/sessions.js';
import type { DomainContext } from './context.js';
import { clientDetails } from './session-details.js';
import { timeOrderedId } from './time-ordered-ids.js';

export interface LoginUse {
  credentialId: string;
  tenantId: string;
  clientIp: string | null | undefined;
  userAgent: string | null | undefined;
  protocol: string;
  at: string;
}

interface PendingSession {
  credentialId: string;
  tenantId: string;
  ip: string;
  userAgent: string;
  protocol: string;
  firstSeen: string;
  lastSeen: string;
}

/** Distinct sessions held between flushes; beyond it new ones wait for the next sighting. */
const MAX_PENDING_SESSIONS = 50_000;
const MAX_USER_AGENT = 512;

export class UsageRecorder {
  private pending = new Map<string, string>();
  private sessions = new Map<string, PendingSession>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Number of batches written so far (tests count database writes through it). */
  batchesWritten = 0;
  /** Write statements issued so far (UPDATEs of last-used plus session upserts). */
  statementsWritten = 0;

  constructor(
    private readonly context: DomainContext,
    private readonly flushIntervalMs = 2_000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch(() => {
        // The batch is put back by flush(); the next tick retries.
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  record(credentialId: string, at: string): void {
    const known = this.pending.get(credentialId);
    if (known === undefined || known < at) this.pending.set(credentialId, at);
  }

  /** A successful login: last-used time plus the (credential, IP, user agent) session. */
  recordLogin(use: LoginUse): void {
    this.record(use.credentialId, use.at);
    if (!use.clientIp) return;
    const userAgent = (use.userAgent ?? '').slice(0, MAX_USER_AGENT);
    const key = `${use.credentialId}\u0000${use.clientIp}\u0000${userAgent}`;
    const known = this.sessions.get(key);
    if (known) {
      if (known.lastSeen < use.at) known.lastSeen = use.at;
      known.protocol = use.protocol;
      return;
    }
    if (this.sessions.size >= MAX_PENDING_SESSIONS) return;
    this.sessions.set(key, {
      credentialId: use.credentialId,
      tenantId: use.tenantId,
      ip: use.clientIp,
      userAgent,
      protocol: use.protocol,
      firstSeen: use.at,
      lastSeen: use.at,
    });
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0 && this.sessions.size === 0) return;
    const lastUsed = this.pending;
    const sessions = this.sessions;
    this.pending = new Map();
    this.sessions = new Map();
    this.flushing = this.write(lastUsed, [...sessions.values()])
      .then(() => {
        this.batchesWritten += 1;
      })
      .catch((error: unknown) => {
        // Keep what was not written for the next flush (newer sightings win).
        for (const [id, at] of lastUsed) this.record(id, at);
        for (const [key, session] of sessions) if (!this.sessions.has(key)) this.sessions.set(key, session);
        throw error;
      })
      .finally(() => {
        this.flushing = null;
      });
    await this.flushing;
  }

  private async write(lastUsed: Map<string, string>, sessions: PendingSession[]): Promise<void> {
    // Small transactions, a turn of the event loop between them: a flush after a burst of new
    // clients holds 15k+ rows, and building session rows (user agent parsed, country looked up)
    // and, without the background worker, SQLite's synchronous writes would otherwise hold
    // verifications up for 100-500 ms. What a failed flush puts back is written again next
    // time: both writes are idempotent upserts.
    const writes = this.context.store.usageWrites;
    const chunkRows = writes.chunkRows;
    const lastUsedEntries = [...lastUsed];
    for (let i = 0; i < lastUsedEntries.length; i += chunkRows) {
      if (i > 0) await yieldToEventLoop();
      this.statementsWritten += await writes.lastUsed(new Map(lastUsedEntries.slice(i, i + chunkRows)));
    }
    for (let i = 0; i < sessions.length; i += chunkRows) {
      if (i > 0 || lastUsedEntries.length > 0) await yieldToEventLoop();
      this.statementsWritten += await writes.sessions(sessions.slice(i, i + chunkRows).map((session) => this.toRow(session)));
    }
  }

  private toRow(session: PendingSession): SessionRow {
    const details = clientDetails(session.ip, session.userAgent);
    return {
      // Time-ordered: new sessions append to the primary-key index instead of dirtying a
      // random page of it each (a random UUID cost one more page write per new session).
      id: timeOrderedId(),
      credential_id: session.credentialId,
      tenant_id: session.tenantId,
      ip_address: session.ip,
      raw_user_agent: session.userAgent,
      user_agent_family: details.userAgentFamily,
      user_agent_version: details.userAgentVersion,
      user_agent_major_version: details.userAgentMajorVersion,
      os_family: details.osFamily,
      os_version: details.osVersion,
      device_family: details.deviceFamily,
      device_brand: details.deviceBrand,
      device_type: details.deviceType,
      country: details.country,
      country_iso_code: details.countryIsoCode,
      protocol: session.protocol,
      is_active: 1,
      created_at: session.firstSeen,
      modified_at: session.lastSeen,
      last_seen_at: session.lastSeen,
    };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
