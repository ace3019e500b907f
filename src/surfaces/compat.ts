// Helpers shared by the seed (compat) surfaces: whole lists and the time formats the seeds show.
import { stateOf } from '../domain/credential-state.js';
import type { CredentialScope } from '../domain/credentials.js';
import type { Services } from '../domain/services.js';
import type { Credential } from '../domain/types.js';

const PAGE_SIZE = 200;

/** Every credential in scope (the seed lists are not paginated). */
export async function listAllCredentials(services: Services, scope: CredentialScope, status?: 'active' | 'revoked'): Promise<Credential[]> {
  const all: Credential[] = [];
  for (let page = 1; ; page += 1) {
    const result = await services.credentials.list(scope, { page, perPage: PAGE_SIZE }, status);
    all.push(...result.items);
    if (result.items.length < PAGE_SIZE || all.length >= result.total) return all;
  }
}

/** `2026-03-28T10:00:00Z`: ISO 8601 in UTC to the second, as the seed documents print it. */
export function isoSeconds(iso: string): string;
export function isoSeconds(iso: string | null): string | null;
export function isoSeconds(iso: string | null): string | null {
  if (iso === null) return null;
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Unix time in whole seconds. */
export function unixSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

/** The seeds' is_active / isActive: verifies now and is not on its way out (a key in its rotation grace period is not). */
export function isActive(credential: Credential, now: Date): boolean {
  return stateOf(credential, now) === 'active';
}
