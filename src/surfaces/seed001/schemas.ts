// Seed 001 request and reply schemas (server credentials); they drive validation and OpenAPI.
import { type TSchema, Type } from 'typebox';

export const TAG = 'seed001';

const Kind = Type.Union([Type.Literal('SMTP'), Type.Literal('API')], { description: 'SMTP (default) or API' });
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const CredentialUuid = Type.String({ minLength: 1, maxLength: 100, description: 'UUID of the credential' });

export const ListBody = Type.Object({}, { additionalProperties: false, description: 'No parameters; the body may be omitted' });
export const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Human-readable name' }),
    type: Type.Optional(Kind),
    hold: Type.Optional(Type.Boolean({ description: 'Create in held state' })),
  },
  { additionalProperties: false },
);
export const UuidBody = Type.Object({ uuid: CredentialUuid }, { additionalProperties: false });

const Envelope = <T extends TSchema>(data: T) => Type.Object({ status: Type.Literal('success'), data }, { additionalProperties: false });

export const CredentialRecord = Type.Object(
  {
    id: Type.Integer(),
    uuid: Type.String(),
    name: Type.String(),
    type: Kind,
    hold: Type.Boolean(),
    last_used_at: NullableTime,
  },
  { additionalProperties: false },
);

export const ListReply = Envelope(Type.Array(CredentialRecord));
export const CreateReply = Envelope(
  Type.Object(
    { id: Type.Integer(), uuid: Type.String(), name: Type.String(), type: Kind, hold: Type.Boolean(), key: Type.String({ pattern: '^vml_' }) },
    { additionalProperties: false },
  ),
);
export const RegenerateReply = Envelope(
  Type.Object(
    { old_id: Type.Integer(), old_uuid: Type.String(), new_id: Type.Integer(), new_uuid: Type.String(), key: Type.String({ pattern: '^vml_' }) },
    { additionalProperties: false },
  ),
);
export const RevokeReply = Envelope(Type.Object({ id: Type.Integer(), uuid: Type.String(), hold: Type.Literal(true) }, { additionalProperties: false }));

/** Failures keep the envelope: a non-success status, a message and a stable code. */
export const ErrorEnvelope = Type.Object(
  {
    status: Type.Literal('error'),
    message: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
  },
  { additionalProperties: false },
);

export const ERROR_REPLIES = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope };
