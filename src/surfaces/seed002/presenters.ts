// Domain credentials and tenant settings -> seed 002 camelCase shapes.
import type { ConnectionInfo, Credential, ProtocolConnection } from '../../domain/types.js';
import { isoSeconds, isActive } from '../compat.js';

export function presentKey(credential: Credential, now: Date) {
  return {
    id: credential.id,
    name: credential.name,
    createdAt: isoSeconds(credential.createdAt),
    lastUsedAt: isoSeconds(credential.lastUsedAt),
    isActive: isActive(credential, now),
    scopes: credential.scopes,
  };
}

export function presentIssued(credential: Credential, apiKey: string, now: Date) {
  return { ...presentKey(credential, now), apiKey };
}

function presentConnection(connection: ProtocolConnection) {
  return { serverName: connection.serverName, port: connection.port, securePort: connection.securePort, enabled: connection.enabled };
}

export function presentConnectionInfo(info: ConnectionInfo) {
  return { smtp: presentConnection(info.smtp), pop3: presentConnection(info.pop3), imap: presentConnection(info.imap) };
}
