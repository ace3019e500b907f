// When a key is revoked or held, new logins fail at once, but an IMAP/POP3 session that logged
// in before stays open. With RELAYKEY_DOVEADM_URLS set, relaykey asks each Dovecot's doveadm
// HTTP API to `kick` the key's identity (the user Dovecot knows, set by the relaykey passdb)
// after the change commits. Dovecot kicks by user: every session of that identity ends; clients
// with other valid keys simply log in again. Failures are logged, never retried: the key is
// refused anyway, only the open session outlives it.
import type { Logger } from 'pino';
import { canonicalCredentialIdentity } from '../../domain/domain-names.js';
import type { Runtime, RuntimeExtension } from '../../runtime-types.js';

const KICKED_EVENTS = new Set(['credential.revoked', 'credential.held']);

export async function doveadmKick(urls: readonly string[], apiKey: string, identity: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  const body = JSON.stringify([['kick', { mask: identity }, 'relaykey']]);
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(`${url}/doveadm/v1`, {
          method: 'POST',
          headers: { authorization: `X-Dovecot-API ${Buffer.from(apiKey).toString('base64')}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        if (!response.ok) logger.warn({ doveadm: url, status: response.status }, 'doveadm kick refused');
        await response.body?.cancel();
      } catch (error) {
        logger.warn({ doveadm: url, err: error }, 'doveadm kick failed; open sessions of the key end when the client logs out');
      }
    }),
  );
}

export const doveadmKickExtension: RuntimeExtension = {
  name: 'doveadm-kick',
  install(runtime: Runtime) {
    const settings = runtime.config.doveadm;
    if (!settings) return;
    // Identities found inside the change's transaction, kicked once it has committed (the
    // change announcement comes after the commit).
    const pending = new Map<string, string[]>();
    runtime.services.context.onRecordedEvent.push(async (repositories, event) => {
      if (!KICKED_EVENTS.has(event.event) || event.targetType !== 'credential' || !event.targetId || !event.tenantId) return;
      const credential = await repositories.credentials.findById(event.tenantId, event.targetId);
      if (!credential) return;
      let identity = canonicalCredentialIdentity(credential.id, credential.tenantId);
      if (credential.loginId) identity = (await repositories.tenants.findLogin(credential.tenantId, credential.loginId))?.address ?? identity;
      else if (credential.surface === 'smtp_account' && credential.metadata.username) identity = credential.metadata.username.toLowerCase();
      pending.set(event.tenantId, [...(pending.get(event.tenantId) ?? []), identity]);
    });
    runtime.services.context.onCredentialChange.push(({ tenantId }) => {
      const identities = pending.get(tenantId);
      if (!identities) return;
      pending.delete(tenantId);
      for (const identity of new Set(identities)) void doveadmKick(settings.urls, settings.apiKey, identity, runtime.logger);
    });
  },
};
