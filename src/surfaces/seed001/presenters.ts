// Domain credentials -> seed 001 shapes (`id` is the credential's number in its tenant, `uuid` the public id).
import type { Credential } from '../../domain/types.js';
import { isoSeconds } from '../compat.js';

export function presentCredential(credential: Credential) {
  return {
    id: credential.tenantNum,
    uuid: credential.id,
    name: credential.name,
    type: credential.kind,
    hold: credential.held,
    last_used_at: isoSeconds(credential.lastUsedAt),
  };
}

export function presentCreated(credential: Credential, key: string) {
  return { id: credential.tenantNum, uuid: credential.id, name: credential.name, type: credential.kind, hold: credential.held, key };
}
