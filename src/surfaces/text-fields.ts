// Free-text fields (names, reasons, descriptions, emails and addresses, incident ids, metadata)
// are checked after validation, the same way on every surface: control characters (CR/LF, NUL,
// ANSI escapes) and bidirectional overrides are refused, and so is text that carries a key in
// relaykey's format (a secret pasted into a name would otherwise be written to the audit trail).
import type { FastifyRequest } from 'fastify';
import { parseKey } from '../crypto/key-format.js';
import { AppError } from '../errors.js';
import type { App } from './native/types.js';

const TEXT_FIELDS = new Set(['name', 'reason', 'description', 'email', 'address', 'incident_id', 'device_id', 'deviceId', 'platform', 'domain']);
/** C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069). */
// Built from text: a regular expression literal with control characters is what the linter refuses.
// biome-ignore lint/complexity/useRegexLiterals: the literal form fails lint/suspicious/noControlCharactersInRegex
const FORBIDDEN = new RegExp('[\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]');
const KEY_LIKE = /[a-z]{2,5}_[0-9A-Za-z]{38}/g;

function containsKey(text: string): boolean {
  for (const match of text.matchAll(KEY_LIKE)) if (parseKey(match[0])) return true;
  return false;
}

/** Throws a 400 naming the field when `text` may not be stored. */
export function checkText(field: string, text: string): void {
  if (FORBIDDEN.test(text)) {
    throw new AppError('VALIDATION_FAILED', `${field} contains a control character or a bidirectional override; remove it`);
  }
  if (containsKey(text)) throw new AppError('VALIDATION_FAILED', `${field} contains what looks like a relaykey key; secrets may not be put in text fields`);
}

function checkBody(body: unknown): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string' && TEXT_FIELDS.has(field)) checkText(field, value);
    if (field === 'metadata' && value && typeof value === 'object') {
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
        checkText(`metadata key ${JSON.stringify(key.slice(0, 40))}`, key);
        if (typeof entry === 'string') checkText(`metadata.${key.slice(0, 40)}`, entry);
      }
    }
  }
}

/** Path parameters and query values are ids, names and filters: none carries a control character. */
function checkUrlValues(request: FastifyRequest): void {
  for (const [where, values] of [
    ['path parameter', request.params],
    ['query parameter', request.query],
  ] as const) {
    if (!values || typeof values !== 'object') continue;
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
      for (const text of [value].flat()) {
        if (typeof text === 'string' && FORBIDDEN.test(text)) {
          throw new AppError('VALIDATION_FAILED', `${where} ${name.slice(0, 40)} contains a control character or a bidirectional override`);
        }
      }
    }
  }
}

export function installTextFieldChecks(app: App): void {
  // Before any route's own preValidation step (seed 000 looks its tenant up there), after the
  // policy hook (onRequest): an unauthenticated caller still gets its 401 first.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    checkUrlValues(request);
  });
  app.addHook('preHandler', async (request: FastifyRequest) => {
    checkBody(request.body);
  });
}
