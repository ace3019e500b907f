// The sessions (clients) seen using one credential, visible only to whoever may see the credential.
import { SessionReadRepository, type CredentialSession } from '../storage/repositories/session-reads.js';
import type { DomainContext } from './context.js';
import type { CredentialScope, CredentialService } from './credentials.js';

export type { CredentialSession };

/** Sessions per credential are bounded by the pruning job; this caps one answer regardless. */
export const MAX_SESSIONS_LISTED = 1000;

export class SessionReads {
  private readonly repository: SessionReadRepository;

  constructor(
    context: DomainContext,
    private readonly credentials: CredentialService,
  ) {
    this.repository = new SessionReadRepository(context.store.db);
  }

  /** Throws NOT_FOUND when the credential is outside the caller's scope (other tenant, login or surface). */
  async listForCredential(scope: CredentialScope, credentialId: string): Promise<CredentialSession[]> {
    const credential = await this.credentials.get(scope, credentialId);
    return this.repository.listForCredential(credential.tenantId, credential.id, MAX_SESSIONS_LISTED);
  }
}
