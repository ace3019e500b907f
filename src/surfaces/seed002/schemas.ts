// Seed 002 request and reply schemas (per-user SMTP credentials, camelCase); validation and OpenAPI.
import { Type } from 'typebox';
import { MOBILE_SCOPES, SCOPES } from '../../domain/scopes.js';

export const TAG = 'seed002';

const ScopeSchema = Type.Union(
  SCOPES.map((s) => Type.Literal(s)),
  { description: 'smtp, pop3, imap, api:read, api:write, app (full application access), internal (service-to-service)' },
);
const KeyName = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Human-readable name for the key' });

export const CreateBody = Type.Object(
  { name: KeyName, scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true, description: 'Permissions for this key' }) },
  { additionalProperties: false },
);

export const MobileBody = Type.Object(
  {
    name: Type.Optional(KeyName),
    deviceName: Type.Optional({ ...KeyName, description: 'The name when `name` is missing, as the original mobile clients send it' }),
    platform: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$', description: 'e.g. ios, android' }),
    deviceId: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'The device identifier' }),
  },
  { additionalProperties: false },
);

export const KeyParams = Type.Object({ keyId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const Connection = Type.Object(
  { serverName: Type.String(), port: Type.Integer(), securePort: Type.Integer(), enabled: Type.Boolean() },
  { additionalProperties: false },
);

export const KeyRecord = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    isActive: Type.Boolean(),
    scopes: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const IssuedKey = Type.Object(
  { ...KeyRecord.properties, apiKey: Type.String({ pattern: '^rm_', description: 'Shown only in this response' }) },
  { additionalProperties: false },
);

export const ListReply = Type.Object(
  { connectionInfo: Type.Object({ smtp: Connection, pop3: Connection, imap: Connection }, { additionalProperties: false }), keys: Type.Array(KeyRecord) },
  { additionalProperties: false },
);

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), request_id: Type.String() }),
});

export const ERROR_REPLIES = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply, 429: ErrorReply };

export const MOBILE_SCOPES_TEXT = MOBILE_SCOPES.join(', ');
