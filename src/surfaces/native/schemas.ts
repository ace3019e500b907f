// Shared request and reply schemas of the native API; they drive validation and OpenAPI.
import { Type } from 'typebox';
import { PROTOCOLS, ROLES, SCOPES } from '../../domain/scopes.js';

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
export const Reason = Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));
export const RoleSchema = Type.Union(Object.keys(ROLES).map((r) => Type.Literal(r)));
export const ProtocolSchema = Type.Union(PROTOCOLS.map((p) => Type.Literal(p)));
export const Scopes = Type.Array(ScopeSchema, { minItems: 1, maxItems: 7, uniqueItems: true });
export const Cidr = Type.String({ minLength: 3, maxLength: 49, pattern: '^[0-9A-Fa-f:.]+/\\d{1,3}$' });
/** Addresses and @domain entries (checked against the tenant's domains by the domain service); null: the default. */
export const AllowedSenders = Type.Union([Type.Array(Type.String({ minLength: 2, maxLength: 320 }), { maxItems: 100 }), Type.Null()]);
const Quota = Type.Integer({ minimum: 0, maximum: 100_000_000 });
/** Quotas; a missing field has no limit, 0 allows nothing. */
export const SendingLimitsSchema = Type.Object(
  {
    messages_per_hour: Type.Optional(Quota),
    messages_per_day: Type.Optional(Quota),
    recipients_per_message: Type.Optional(Quota),
    recipients_per_day: Type.Optional(Quota),
  },
  { additionalProperties: false },
);
export const NullableSendingLimits = Type.Union([SendingLimitsSchema, Type.Null()]);
export const Networks = Type.Union([Type.Array(Cidr, { maxItems: 100 }), Type.Null()]);
export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 500 }), { maxProperties: 20 });

export const PageQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    per_page: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);

export const TenantParams = Type.Object({ tenantId: Uuid }, { additionalProperties: false });

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), request_id: Type.String() }),
});

export const Pagination = Type.Object({ page: Type.Integer(), per_page: Type.Integer(), total: Type.Integer() });

export const ProtocolConnectionSchema = Type.Object(
  {
    server_name: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    secure_port: Type.Integer({ minimum: 1, maximum: 65535 }),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const ConnectionInfoPatch = Type.Object(
  {
    smtp: Type.Optional(Type.Partial(ProtocolConnectionSchema)),
    imap: Type.Optional(Type.Partial(ProtocolConnectionSchema)),
    pop3: Type.Optional(Type.Partial(ProtocolConnectionSchema)),
  },
  { additionalProperties: false },
);
const Backend = Type.String({ maxLength: 60, pattern: '^[0-9A-Fa-f:.\\[\\]]+:\\d{1,5}$' });
export const MailBackendsSchema = Type.Union([
  Type.Object({ smtp: Type.Optional(Backend), imap: Type.Optional(Backend), pop3: Type.Optional(Backend) }, { additionalProperties: false }),
  Type.Null(),
]);
export const TenantSettingsSchema = Type.Object(
  {
    inactivity_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    /** Quotas of each credential that sets none of its own (per field). */
    sending_limits: Type.Optional(SendingLimitsSchema),
    /** Allowed senders of each credential bound to no login that names none of its own; null: any address in the tenant's domains. */
    default_allowed_senders: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 320 }), { maxItems: 100 }), Type.Null()])),
    /** Auto-hold on abuse (off by default): a credential past quota_multiple x a quota, or seen in too many new countries within an hour, is held. */
    auto_hold: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean(),
          quota_multiple: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
          max_new_countries_per_hour: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 250 }), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    ),
    inactivity_days_by_role: Type.Optional(
      Type.Object(Object.fromEntries(Object.keys(ROLES).map((r) => [r, Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 }))])), {
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false },
);
