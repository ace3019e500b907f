// Seed 000 (platform-admin vault API): request schemas here, reply schemas in replies.ts, exactly the seed's fields.
import { Type } from 'typebox';
import { AUDIT_PAGE_SIZE } from '../../domain/vault.js';

export const AUDIT_MAX_PER_PAGE = 100;

export const BASE_PATH = '/api/v1/platform-admin/tenants/:tenant_id/smtp-credentials';

// Any id shape is accepted here: an unknown tenant is a 404, not a 400.
export const TenantIdParams = Type.Object({ tenant_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const Reason = Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' });
const IncidentId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:#/-]*$' });

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

export { AuditEventReply, AuditReply, CredentialsReply, EmergencyResetReply, RotateReply } from './replies.js';
