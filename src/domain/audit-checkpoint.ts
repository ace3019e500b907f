// Signed checkpoints of the audit chain heads (issue 22, finding 8). The head MAC stops a head
// rewritten without the key, but a database put back to an older state carries an older head that
// is just as valid. A checkpoint (each chain's event count and last hash, signed with Ed25519 under
// a root-derived key) leaves the database as a log line and an `audit.checkpoint` webhook; checked
// against it later, a chain that is shorter than it was, or whose checkpointed event is not the one
// recorded, is caught.
import { randomUUID } from 'node:crypto';
import type { AuditKeys, CheckpointSigner } from '../crypto/audit-keys.js';
import { AppError } from '../errors.js';
import type { Repositories } from '../storage/store.js';
import { type ChainProblem, headIsAuthentic } from './audit.js';

export const CHECKPOINT_FORMAT = 'relaykey-audit-checkpoint/v1';

export interface CheckpointHead {
  chain: string;
  count: number;
  last_hash: string;
}

export interface AuditCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  id: string;
  created_at: string;
  key_version: number;
  heads: CheckpointHead[];
  /** Ed25519 over the material below, base64url. */
  signature: string;
}

function signedMaterial(checkpoint: Omit<AuditCheckpoint, 'signature'>): string {
  return JSON.stringify([
    CHECKPOINT_FORMAT,
    checkpoint.id,
    checkpoint.created_at,
    checkpoint.key_version,
    checkpoint.heads.map((h) => [h.chain, h.count, h.last_hash]),
  ]);
}

/** Signs a checkpoint of `heads` (the whole set, or one tenant's chain for its webhook). */
export function signCheckpoint(signer: CheckpointSigner, input: { id: string; createdAt: string; heads: CheckpointHead[] }): AuditCheckpoint {
  const unsigned = { format: CHECKPOINT_FORMAT, id: input.id, created_at: input.createdAt, key_version: signer.currentVersion, heads: input.heads } as const;
  const { keyVersion, signature } = signer.sign(signedMaterial(unsigned));
  if (keyVersion !== unsigned.key_version) throw new Error('the root key version changed while signing a checkpoint');
  return { ...unsigned, signature };
}

const invalid = (why: string) => new AppError('VALIDATION_FAILED', `not an audit checkpoint: ${why}`);

/**
 * Reads a checkpoint from what an operator kept: the checkpoint object itself, the log line that
 * carried it (`"checkpoint": {...}`) or the `audit.checkpoint` webhook body (`data.checkpoint`).
 */
export function parseCheckpoint(text: string): AuditCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    throw invalid('the file is not one JSON document');
  }
  const object = (v: unknown): Record<string, unknown> | null =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  let candidate = object(value);
  if (candidate && candidate.format === undefined) candidate = object(candidate.checkpoint) ?? object(object(candidate.data)?.checkpoint);
  if (!candidate) throw invalid('no checkpoint object found (expected the object, its log line or its webhook body)');
  if (candidate.format !== CHECKPOINT_FORMAT) throw invalid(`format must be "${CHECKPOINT_FORMAT}"`);
  const { id, created_at, key_version, heads, signature } = candidate;
  if (typeof id !== 'string' || id.length === 0 || id.length > 100) throw invalid('id must be a string');
  if (typeof created_at !== 'string' || Number.isNaN(Date.parse(created_at))) throw invalid('created_at must be a time');
  if (typeof key_version !== 'number' || !Number.isInteger(key_version) || key_version < 1) throw invalid('key_version must be a positive integer');
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) throw invalid('signature must be 64 bytes in base64url');
  if (!Array.isArray(heads)) throw invalid('heads must be a list');
  const parsed: CheckpointHead[] = heads.map((head, index) => {
    const h = object(head);
    if (!h || typeof h.chain !== 'string' || typeof h.last_hash !== 'string' || typeof h.count !== 'number' || !Number.isInteger(h.count) || h.count < 0)
      throw invalid(`heads[${index}] must be {chain, count, last_hash}`);
    return { chain: h.chain, count: h.count, last_hash: h.last_hash };
  });
  return { format: CHECKPOINT_FORMAT, id, created_at, key_version, heads: parsed, signature };
}

export function checkpointSignatureProblem(checkpoint: AuditCheckpoint, signer: CheckpointSigner): string | null {
  const { signature, ...unsigned } = checkpoint;
  const outcome = signer.check(signedMaterial(unsigned), checkpoint.key_version, signature);
  if (outcome === 'ok') return null;
  if (outcome === 'unknown-key') return `the checkpoint is signed with root key v${checkpoint.key_version}, which is not loaded`;
  return 'the checkpoint signature does not match: it was not made by this platform or was changed';
}

/**
 * Compares the database with a checkpoint: every chain it names must still exist, be at least as
 * long, and hold the checkpointed event at the checkpointed position (the signature covers the
 * whole checkpoint; `onlyChain` limits the comparison to one chain).
 */
export async function checkAgainstCheckpoint(
  repositories: Repositories,
  checkpoint: AuditCheckpoint,
  signer: CheckpointSigner,
  onlyChain?: string,
): Promise<ChainProblem[]> {
  const signatureProblem = checkpointSignatureProblem(checkpoint, signer);
  if (signatureProblem) return [{ chain: '*', eventId: null, seq: null, problem: signatureProblem }];
  const current = new Map((await repositories.audit.listChains()).map((head) => [head.chain, head]));
  const problems: ChainProblem[] = [];
  const when = `the checkpoint of ${checkpoint.created_at}`;
  for (const head of checkpoint.heads) {
    if (onlyChain !== undefined && head.chain !== onlyChain) continue;
    const now = current.get(head.chain);
    if (!now) {
      if (head.count > 0) problems.push({ chain: head.chain, eventId: null, seq: null, problem: `the chain is gone; ${when} recorded ${head.count} event(s)` });
      continue;
    }
    if (now.count < head.count) {
      problems.push({
        chain: head.chain,
        eventId: null,
        seq: null,
        problem: `the chain has ${now.count} event(s) but ${when} recorded ${head.count}: it was truncated (or the database restored to an older state)`,
      });
      continue;
    }
    if (head.count === 0) continue;
    const hash = await repositories.audit.hashAt(head.chain, head.count);
    if (hash !== head.last_hash) {
      problems.push({
        chain: head.chain,
        eventId: null,
        seq: null,
        problem: `event ${head.count} of the chain is not the one ${when} recorded: the chain was rewritten from there on`,
      });
    }
  }
  return problems;
}

export interface TakenCheckpoint {
  checkpoint: AuditCheckpoint;
  /** The heads of the checkpoint before this one (empty when there was none). */
  previous: Map<string, CheckpointHead>;
  /** Chains left out because their head does not carry a valid MAC (rewritten without the key). */
  unauthentic: string[];
}

/**
 * Takes the checkpoint of `slot` (the start of its interval) unless another node did: reads every
 * head, leaves out any whose MAC does not verify (signing it would launder a forgery), signs and
 * stores it. Null when the slot's checkpoint exists already.
 */
export async function takeCheckpoint(
  repositories: Repositories,
  keys: AuditKeys,
  signer: CheckpointSigner,
  at: { now: Date; slot: string },
): Promise<TakenCheckpoint | null> {
  const heads: CheckpointHead[] = [];
  const unauthentic: string[] = [];
  for (const head of await repositories.audit.listChains()) {
    if (!headIsAuthentic(head, keys)) unauthentic.push(head.chain);
    else heads.push({ chain: head.chain, count: head.count, last_hash: head.lastHash });
  }
  const latest = await repositories.audit.latestCheckpoint();
  const previous = new Map<string, CheckpointHead>();
  if (latest) for (const head of JSON.parse(latest.heads) as CheckpointHead[]) previous.set(head.chain, head);
  const checkpoint = signCheckpoint(signer, { id: randomUUID(), createdAt: at.now.toISOString(), heads });
  const written = await repositories.audit.insertCheckpoint({
    id: checkpoint.id,
    slot: at.slot,
    created_at: checkpoint.created_at,
    key_version: checkpoint.key_version,
    heads: JSON.stringify(checkpoint.heads),
    signature: checkpoint.signature,
  });
  return written ? { checkpoint, previous, unauthentic } : null;
}

/** The newest stored checkpoint, as it was signed (null when none was taken yet). */
export async function latestStoredCheckpoint(repositories: Repositories): Promise<AuditCheckpoint | null> {
  const row = await repositories.audit.latestCheckpoint();
  if (!row) return null;
  return {
    format: CHECKPOINT_FORMAT,
    id: row.id,
    created_at: row.created_at,
    key_version: Number(row.key_version),
    heads: JSON.parse(row.heads) as CheckpointHead[],
    signature: row.signature,
  };
}
