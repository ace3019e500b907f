// Domain credentials and sessions -> seed 003 shapes (snake_case, unix seconds).
import type { CredentialSession } from '../../domain/session-reads.js';
import type { Credential } from '../../domain/types.js';
import { isActive, unixSeconds } from '../compat.js';
import { presentSessionClient } from '../session-client.js';

export function presentCreated(credential: Credential, secret: string) {
  return { ID: credential.id, Name: credential.name, Key: credential.publicKey ?? '', Secret: secret };
}

export function presentKey(credential: Credential, now: Date) {
  return {
    id: credential.id,
    account_id: credential.tenantId,
    name: credential.name,
    key: credential.publicKey ?? '',
    is_active: isActive(credential, now),
    // Never used: 0 rather than null, so the field keeps the integer type the seed shows.
    last_accessed_at_utc: credential.lastUsedAt ? unixSeconds(credential.lastUsedAt) : 0,
    created_at_utc: unixSeconds(credential.createdAt),
    modified_at_utc: unixSeconds(credential.updatedAt),
  };
}

export function presentSession(session: CredentialSession) {
  return {
    id: session.id,
    account_id: session.tenantId,
    ...presentSessionClient(session),
    is_active: session.isActive,
    created_at_utc: unixSeconds(session.createdAt),
    modified_at_utc: unixSeconds(session.modifiedAt),
  };
}
