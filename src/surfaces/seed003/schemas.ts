// Seed 003 request and reply schemas (account API keys and their sessions); validation and OpenAPI.
import { Type } from 'typebox';
import { ROLES } from '../../domain/scopes.js';
import { SessionClientFields } from '../session-client.js';

export const TAG = 'seed003';

const ROLE_TEXT = Object.entries(ROLES)
  .map(([role, scopes]) => `\`${role}\`: ${scopes.join(', ')}`)
  .join('; ');

export const CreateBody = Type.Object(
  {
    role: Type.Union(
      Object.keys(ROLES).map((r) => Type.Literal(r)),
      { description: `The permission role for the API key. ${ROLE_TEXT}` },
    ),
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Name for API key' }),
  },
  { additionalProperties: false },
);

export const KeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

export const CreatedReply = Type.Object(
  {
    ID: Type.String(),
    Name: Type.String(),
    Key: Type.String({ pattern: '^rkk_', description: 'Public identifier: the username for protocol login; stays visible' }),
    Secret: Type.String({ pattern: '^rks_', description: 'The password for protocol login; visible only in this response' }),
  },
  { additionalProperties: false },
);

const UnixSeconds = Type.Integer({ minimum: 0, description: 'Unix time in seconds' });

export const KeyRecord = Type.Object(
  {
    id: Type.String(),
    account_id: Type.String(),
    name: Type.String(),
    key: Type.String(),
    is_active: Type.Boolean(),
    last_accessed_at_utc: Type.Integer({ minimum: 0, description: 'Unix time in seconds; 0 when the key was never used' }),
    created_at_utc: UnixSeconds,
    modified_at_utc: UnixSeconds,
  },
  { additionalProperties: false },
);

export const SessionRecord = Type.Object(
  {
    id: Type.String(),
    account_id: Type.String(),
    ...SessionClientFields,
    is_active: Type.Boolean(),
    created_at_utc: UnixSeconds,
    modified_at_utc: UnixSeconds,
  },
  { additionalProperties: false },
);

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), request_id: Type.String() }),
});

export const ERROR_REPLIES = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply };
