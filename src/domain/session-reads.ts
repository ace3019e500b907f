// The sessions (clients) seen using one credential, visible only to whoever may see the credential.
import type { CredentialSession, SessionRepository } from '../storage/repositories/sessions.js';
import type { DomainContext } from './context.js';
import type { CredentialScope, CredentialService } from './credentials.js';

export type { CredentialSession };

/** Sessions per credential are bounded by the pruning job; this caps one answer regardless. */
export const MAX_SESSIONS_LISTED = 1000;

export class SessionReads {
  private readonly repository: SessionRepository;

  constructor(
    context: DomainContext,
    private readonly credentials: CredentialService,
  ) {
    this.repository = context.store.sessions;
  }

  /** Throws NOT_FOUND when the credential is outside the caller's scope (other tenant, login or surface). */
  async listForCredential(
    scope: CredentialScope,
    credentialId: string,
    order: 'newest_seen' | 'oldest_created' = 'oldest_created',
  ): Promise<CredentialSession[]> {
    const credential = await this.credentials.get(scope, credentialId);
    const sessions = await this.repository.listForCredential(credential.tenantId, credential.id, { limit: MAX_SESSIONS_LISTED, order });
    // A revoked key's sessions are over at once, not only after the next pruning run marks them.
    if (credential.status === 'revoked') return sessions.map((session) => ({ ...session, isActive: false }));
    return sessions;
  }
}
