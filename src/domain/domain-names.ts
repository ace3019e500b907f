// Mail domains and addresses in one canonical spelling: lower case, IDNA A-labels (Punycode),
// no trailing dot. Ownership is decided on this spelling, so `Bücher.Example.` and
// `xn--bcher-kva.example` are one domain.
import { domainToASCII } from 'node:url';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** The canonical domain, or null when the text is not a domain name. */
export function canonicalDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (!trimmed || /\s/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed).toLowerCase();
  return ascii && HOSTNAME.test(ascii) ? ascii : null;
}

/** local@domain with the domain canonical and the local part lower-cased; null when it is not an address. */
export function canonicalAddress(input: string): string | null {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return null;
  const local = trimmed.slice(0, at);
  // No spaces, quotes, backslashes or control bytes: mail servers pass the identity on in
  // protocol lines and key=value fields (Dovecot's user=, Postfix's XCLIENT LOGIN=).
  if (/[\s@"\\]/.test(local) || [...local].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return null;
  const domain = canonicalDomain(trimmed.slice(at + 1));
  return domain ? `${local.toLowerCase()}@${domain}` : null;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/**
 * The identity relaykey gives a mail server for a credential that is not bound to a mailbox
 * (tenant-wide, seed 001, seed 003 keys): inside a reserved domain (RFC 2606 `.invalid`) that no
 * tenant can own, so it never names anybody's mailbox and never collides across tenants.
 */
export function canonicalCredentialIdentity(credentialId: string, tenantId: string): string {
  return `${credentialId.toLowerCase()}@${tenantId.toLowerCase()}.relaykey.invalid`;
}
