// What a usage session says about its client (IP, parsed user agent, country): the same fields,
// in the same order, on the native sessions route and on seed 003's.
import type { CredentialSession } from '../domain/session-reads.js';

export { SessionClientFields } from './native/replies.js';

export function presentSessionClient(session: CredentialSession) {
  return {
    ip_address: session.ipAddress,
    raw_user_agent: session.rawUserAgent,
    user_agent_family: session.userAgentFamily,
    user_agent_version: session.userAgentVersion,
    user_agent_major_version: session.userAgentMajorVersion,
    os_family: session.osFamily,
    os_version: session.osVersion,
    device_family: session.deviceFamily,
    device_brand: session.deviceBrand,
    device_type: session.deviceType,
    country: session.country,
    country_iso_code: session.countryIsoCode,
  };
}
