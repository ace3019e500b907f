// Bulk import: issues many verify-only credentials for one tenant in large batches, one
// transaction per batch, for migrations from another system and for load tests.
import { generateKeys, keyHint } from '../crypto/key-format.js';
import { badRequest, notFound } from '../errors.js';
import type { NewCredential } from '../storage/repositories/credentials.js';
import { type DomainContext, recordEvent } from './context.js';
import { SURFACE_PREFIX } from './credentials.js';
import { isScope, type Scope } from './scopes.js';
import { timeOrderedId } from './time-ordered-ids.js';
import type { Actor, CredentialKind, Surface } from './types.js';

export const MAX_IMPORT_COUNT = 10_000_000;
export const DEFAULT_IMPORT_BATCH = 50_000;

export interface BulkImportInput {
  tenantId: string;
  count: number;
  scopes?: string[];
  surface?: Surface;
  kind?: CredentialKind;
  /** Credentials are named `<namePrefix>-<n>` (n from 1). */
  namePrefix?: string;
  batchSize?: number;
}

/** One committed batch: its credential ids and plaintext secrets, in the same order. */
export interface ImportedBatch {
  ids: string[];
  secrets: string[];
}

export interface BulkImportResult {
  imported: number;
  batches: number;
  elapsedMs: number;
}

function validScopes(scopes: string[] | undefined): Scope[] {
  const list = [...new Set(scopes ?? ['smtp'])];
  const unknown = list.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw badRequest(`unknown scope(s): ${unknown.join(', ')}`);
  if (list.length === 0) throw badRequest('at least one scope is required');
  return list as Scope[];
}

/**
 * Generates and stores `count` credentials. Each batch is inserted and audited (one
 * `credentials.imported` event with the batch size) in one transaction; `onBatch` receives
 * the plaintexts only after that transaction committed, so a caller never writes out a key
 * that does not exist. Returns when every batch committed; a failure leaves earlier batches.
 */
export async function importCredentials(
  context: DomainContext,
  input: BulkImportInput,
  actor: Actor,
  onBatch: (batch: ImportedBatch) => void | Promise<void> = () => {},
): Promise<BulkImportResult> {
  if (!Number.isSafeInteger(input.count) || input.count < 1 || input.count > MAX_IMPORT_COUNT) {
    throw badRequest(`count must be a whole number from 1 to ${MAX_IMPORT_COUNT}`);
  }
  const batchSize = input.batchSize ?? DEFAULT_IMPORT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw badRequest('batch size must be from 1 to 100000');
  const scopes = validScopes(input.scopes);
  const surface = input.surface ?? 'native';
  const kind = input.kind ?? 'SMTP';
  const namePrefix = input.namePrefix ?? 'imported';
  if (!(await context.store.tenants.findById(input.tenantId))) throw notFound('tenant');

  const started = performance.now();
  let imported = 0;
  let batches = 0;
  while (imported < input.count) {
    const size = Math.min(batchSize, input.count - imported);
    const now = context.clock.now().toISOString();
    const rows: NewCredential[] = new Array(size);
    const secrets: string[] = new Array(size);
    const ids: string[] = new Array(size);
    const generated = generateKeys(SURFACE_PREFIX[surface], size);
    for (let i = 0; i < size; i += 1) {
      const secret = generated[i] as string;
      // Time-ordered: each id appends to the unique id index instead of dirtying a random page.
      const id = timeOrderedId();
      secrets[i] = secret;
      ids[i] = id;
      rows[i] = {
        id,
        tenantId: input.tenantId,
        loginId: null,
        surface,
        kind,
        name: `${namePrefix}-${imported + i + 1}`,
        scopes,
        role: null,
        publicKey: null,
        keyHash: context.hashSecret(secret),
        keyHint: keyHint(secret),
        held: false,
        status: 'active',
        revokedAt: null,
        revokedReason: null,
        graceUntil: null,
        expiresAt: null,
        allowedNetworks: null,
        metadata: {},
        replacesId: null,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
      };
    }
    await context.store.transaction(async (repositories) => {
      await repositories.credentials.insertMany(rows);
      await recordEvent(context, repositories, {
        tenantId: input.tenantId,
        event: 'credentials.imported',
        actor,
        occurredAt: now,
        targetType: 'tenant',
        targetId: input.tenantId,
        details: { count: size, surface, kind, scopes, first_id: ids[0], last_id: ids[size - 1] },
      });
    });
    imported += size;
    batches += 1;
    await onBatch({ ids, secrets });
  }
  return { imported, batches, elapsedMs: performance.now() - started };
}
