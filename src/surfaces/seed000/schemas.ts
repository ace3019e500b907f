// Seed 000 (platform-admin vault API): request and reply schemas, exactly the seed's fields.
import { Type } from 'typebox';
import { AUDIT_PAGE_SIZE } from '../../domain/vault.js';

export const AUDIT_MAX_PER_PAGE = 100;

export const BASE_PATH = '/api/v1/platform-admin/tenants/:tenant_id/smtp-credentials';

// Any id shape is accepted here: an unknown tenant is a 404, not a 400.
export const TenantIdParams = Type.Object({ tenant_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const Reason = Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' });
const IncidentId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:#/-]*$' });
// `2025-01-15T10:00:00Z`: UTC to the second, as the seed document prints it.
const Timestamp = Type.String({ format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

// The reason is optional: no body, an empty body or `{}` rotate too (audited with reason null).
export const RotateBody = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false });
export const EmergencyResetBody = Type.Object({ incident_id: IncidentId, reason: Reason }, { additionalProperties: false });
export const AuditQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    per_page: Type.Integer({ minimum: 1, maximum: AUDIT_MAX_PER_PAGE, default: AUDIT_PAGE_SIZE }),
  },
  { additionalProperties: false },
);

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
