// What a usage session says about its client (IP, parsed user agent, country): the same fields,
// in the same order, on the native sessions route and on seed 003's.
import { Type } from 'typebox';
import type { CredentialSession } from '../domain/session-reads.js';

export const SessionClientFields = {
  ip_address: Type.String(),
  raw_user_agent: Type.String(),
  user_agent_family: Type.String(),
  user_agent_version: Type.String(),
  user_agent_major_version: Type.String(),
  os_family: Type.String(),
  os_version: Type.String(),
  device_family: Type.String(),
  device_brand: Type.String(),
  device_type: Type.String(),
  country: Type.String(),
  country_iso_code: Type.String(),
};

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
