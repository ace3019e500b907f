// Seed 000 reply schemas: Fastify serializes with them, /openapi.json documents them, and the
// console's types are these (console/src/api.ts). Nothing but TypeBox here: the console
// type-checks this file without the server's Node.js types.
import { Type } from 'typebox';

// `2025-01-15T10:00:00Z`: UTC to the second, as the seed document prints it.
const Timestamp = Type.String({ format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const CredentialsReply = Type.Object({
  username: Type.String(),
  password: Type.String({ description: 'base64 of the password' }),
  webmail_url: NullableString,
  created_at: Timestamp,
  last_rotated: Timestamp,
  next_rotation: Timestamp,
  expires_at: Timestamp,
});

export const RotateReply = Type.Object({ success: Type.Literal(true), rotated_at: Timestamp, next_rotation: Timestamp });

export const EmergencyResetReply = Type.Object({
  success: Type.Literal(true),
  username: Type.String(),
  password: Type.String({ description: 'base64 of the new password' }),
  webmail_url: NullableString,
  expires_at: Timestamp,
  incident_id: Type.String(),
});

export const AuditEventReply = Type.Object({
  id: Type.String(),
  event: Type.String(),
  user_id: Type.String(),
  timestamp: Timestamp,
  ip_address: Type.Optional(Type.String()),
  severity: Type.String(),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

export const AuditReply = Type.Object({
  events: Type.Array(AuditEventReply),
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
});
