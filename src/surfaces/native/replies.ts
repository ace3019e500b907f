// Reply schemas of the native API: Fastify serializes every answer with them (a field that is
// not declared here never leaves the server), /openapi.json documents them, and the presenters
// are typed by them (presenters.ts), so a field added on one side only fails the type check.
import { type TSchema, Type } from 'typebox';
import { VERIFICATION_OUTCOMES, type VerificationOutcome } from '../../domain/verification-outcomes.js';

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);
/** Quotas (null: no limit of its own; the whole object null: none set). */
const SendingLimits = Type.Object(
  { messages_per_hour: NullableInteger, messages_per_day: NullableInteger, recipients_per_message: NullableInteger, recipients_per_day: NullableInteger },
  { additionalProperties: false },
);
const SendingLimitsReply = Type.Union([SendingLimits, Type.Null()]);

/** Every error of the native API (and of seeds 000, 002 and 003): a stable code, a message naming the problem, the request id. */
export const ErrorReply = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable error code (src/errors.ts), e.g. VALIDATION_FAILED, NOT_FOUND' }),
        message: Type.String({ description: 'What was wrong, in words; never contains a secret' }),
        request_id: Type.String({ description: 'Also sent as the x-request-id header' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'ErrorReply' },
);

/** The error answers every route may give: any 4xx (bad input, authentication, not found, conflict, rate limit) and 5xx (503 while the database is away). */
export const ERROR_REPLIES = { '4xx': ErrorReply, '5xx': ErrorReply } as const;

/** A route's replies: its own plus the error body for every 4xx and 5xx status. */
export function replies<T extends Record<number, TSchema>>(own: T): T & typeof ERROR_REPLIES {
  return { ...own, ...ERROR_REPLIES };
}

/** 204 and similar: no body at all. */
export const NoContent = Type.Null({ description: 'No content' });

export const Pagination = Type.Object({ page: Type.Integer(), per_page: Type.Integer(), total: Type.Integer() }, { additionalProperties: false });

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), pagination: Pagination }, { additionalProperties: false });
}

export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item) }, { additionalProperties: false });
}

export const CredentialReply = Type.Object(
  {
    id: Type.String(),
    tenant_id: Type.String(),
    login_id: NullableString,
    name: Type.String(),
    kind: Type.Union([Type.Literal('SMTP'), Type.Literal('API')]),
    surface: Type.String({ description: 'native, seed001, seed002, seed003 or smtp_account: the API that made it' }),
    scopes: Type.Array(Type.String()),
    role: NullableString,
    key_hint: Type.String(),
    public_key: NullableString,
    status: Type.Union([Type.Literal('active'), Type.Literal('held'), Type.Literal('revoked'), Type.Literal('expired')]),
    held: Type.Boolean(),
    expires_at: NullableTimestamp,
    allowed_networks: Type.Union([Type.Array(Type.String()), Type.Null()]),
    allowed_senders: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'Addresses and @domain entries it may send as; null: the default' }),
    sending_limits: SendingLimitsReply,
    metadata: Type.Record(Type.String(), Type.String()),
    replaces_id: NullableString,
    revoked_at: NullableTimestamp,
    revoked_reason: NullableString,
    grace_until: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_used_at: NullableTimestamp,
  },
  { additionalProperties: false },
);

const Secret = Type.String({ description: 'The secret: shown in this response only' });

export const IssuedCredentialReply = Type.Object({ ...CredentialReply.properties, secret: Secret }, { additionalProperties: false });

export const RotatedCredentialReply = Type.Object(
  { ...CredentialReply.properties, secret: Secret, replaced: CredentialReply },
  { additionalProperties: false },
);

const ConnectionReply = Type.Object(
  { server_name: Type.String(), port: Type.Integer(), secure_port: Type.Integer(), enabled: Type.Boolean() },
  { additionalProperties: false },
);

export const TenantReply = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    domain: NullableString,
    webmail_url: NullableString,
    connection_info: Type.Object({ smtp: ConnectionReply, imap: ConnectionReply, pop3: ConnectionReply }, { additionalProperties: false }),
    mail_backends: Type.Union([
      Type.Object(
        { smtp: Type.Optional(Type.String()), imap: Type.Optional(Type.String()), pop3: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    settings: Type.Object(
      {
        inactivity_days: Type.Union([Type.Integer(), Type.Null()]),
        inactivity_days_by_role: Type.Record(Type.String(), Type.Integer()),
        sending_limits: SendingLimitsReply,
        default_allowed_senders: Type.Union([Type.Array(Type.String()), Type.Null()]),
        auto_hold: Type.Object(
          { enabled: Type.Boolean(), quota_multiple: Type.Number(), max_new_countries_per_hour: Type.Union([Type.Integer(), Type.Null()]) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CreatedTenantReply = Type.Object(
  { ...TenantReply.properties, smtp_username: Type.String({ description: 'The vaulted SMTP account’s username' }) },
  { additionalProperties: false },
);

export const LoginReply = Type.Object(
  { id: Type.String(), tenant_id: Type.String(), address: Type.String(), created_at: Timestamp },
  { additionalProperties: false },
);

export const TokenReply = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('bearer'), Type.Literal('server'), Type.Literal('verifier')]),
    tenant_id: NullableString,
    login_id: NullableString,
    name: Type.String(),
    key_hint: Type.String(),
    created_at: Timestamp,
    revoked_at: NullableTimestamp,
    last_used_at: NullableTimestamp,
  },
  { additionalProperties: false },
);

export const VerifierTokenReply = Type.Object(
  { id: Type.String(), name: Type.String(), key_hint: Type.String(), created_at: Timestamp, last_used_at: NullableTimestamp, revoked_at: NullableTimestamp },
  { additionalProperties: false },
);

export const AdminReply = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    totp_enabled: Type.Boolean(),
    created_at: Timestamp,
    role: Type.Union([Type.Literal('owner'), Type.Literal('admin')], { description: 'owner: may also create, disable and enable admins' }),
    disabled_at: NullableTimestamp,
  },
  { additionalProperties: false },
);

export const TotpEnrolmentReply = Type.Object(
  {
    secret: Type.String({ description: 'The base32 TOTP secret: shown in this response only' }),
    otpauth_uri: Type.String({ description: 'otpauth://totp/... for an authenticator app (the QR code carries it)' }),
  },
  { additionalProperties: false },
);

export const AdminSessionReply = Type.Object(
  {
    id: Type.String(),
    created_at: Timestamp,
    expires_at: Timestamp,
    last_seen_at: NullableTimestamp,
    client_ip: NullableString,
    revoked_at: NullableTimestamp,
    live: Type.Boolean(),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const IssuedTokenReply = Type.Object({ ...TokenReply.properties, token: Secret }, { additionalProperties: false });

export const AuditEventReply = Type.Object(
  {
    id: Type.String(),
    seq: Type.Integer(),
    tenant_id: NullableString,
    event: Type.String(),
    actor: Type.Object({ type: Type.String(), id: Type.String() }, { additionalProperties: false }),
    occurred_at: Timestamp,
    client_ip: NullableString,
    severity: Type.String(),
    target: Type.Union([Type.Object({ type: Type.String(), id: NullableString }, { additionalProperties: false }), Type.Null()]),
    details: Type.Object({}, { additionalProperties: true }),
    hash: Type.String(),
  },
  { additionalProperties: false },
);

export const AdminTokenReply = Type.Object({ token: Type.String(), expires_at: Timestamp }, { additionalProperties: false });
export const ReauthTokenReply = Type.Object({ reauth_token: Type.String(), expires_at: Timestamp }, { additionalProperties: false });

export const DomainReply = Type.Object({ domain: Type.String(), tenant_id: Type.String(), created_at: Timestamp }, { additionalProperties: false });

export const AliasReply = Type.Object(
  { address: Type.String(), tenant_id: Type.String(), login_id: Type.String(), created_at: Timestamp },
  { additionalProperties: false },
);

export const DomainReportReply = Type.Object(
  {
    ok: Type.Boolean(),
    checked: Type.Integer(),
    total: Type.Integer(),
    problems: Type.Array(
      Type.Object(
        { kind: Type.String(), id: Type.String(), tenant_id: Type.String(), address: Type.String(), problem: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const WebhookReply = Type.Object(
  {
    id: Type.String(),
    tenant_id: Type.String(),
    url: Type.String(),
    description: NullableString,
    events: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    secret_rotated_at: NullableTimestamp,
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], {
      description: 'Until then deliveries also carry a signature made with the secret before the last rotation',
    }),
    health: Type.Object(
      {
        state: Type.Union([Type.Literal('healthy'), Type.Literal('failing'), Type.Literal('disabled'), Type.Literal('unused')]),
        attempted_24h: Type.Integer({ description: 'Deliveries attempted in the last 24 hours' }),
        success_rate_24h: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
        last_success_at: NullableTimestamp,
        last_failure_at: NullableTimestamp,
        last_failure_error: NullableString,
        consecutive_failures: Type.Integer(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const IssuedWebhookReply = Type.Object(
  { ...WebhookReply.properties, secret: Type.String({ description: 'The signing secret (whsec_...): shown in this response only' }) },
  { additionalProperties: false },
);

export const DeliveryReply = Type.Object(
  {
    id: Type.String(),
    webhook_id: Type.String(),
    event_type: Type.String(),
    event_id: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
    attempts: Type.Integer(),
    next_attempt_at: NullableTimestamp,
    last_attempt_at: NullableTimestamp,
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: NullableString,
    delivered_at: NullableTimestamp,
    created_at: Timestamp,
    payload: Type.Unknown({ description: 'The signed event body as sent (Standard Webhooks)' }),
  },
  { additionalProperties: false },
);

export const JobRunReply = Type.Object(
  {
    id: Type.String(),
    job: Type.String(),
    node_id: Type.String(),
    started_at: Timestamp,
    duration_ms: Type.Number(),
    items: Type.Integer(),
    outcome: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
    error: NullableString,
  },
  { additionalProperties: false },
);

export const JobsReply = ListOf(
  Type.Object({ job: Type.String(), interval_ms: Type.Number(), last_run: Type.Union([JobRunReply, Type.Null()]) }, { additionalProperties: false }),
);

export const AuditVerifyReply = Type.Object(
  {
    ok: Type.Boolean(),
    chains: Type.Integer(),
    events: Type.Integer(),
    problems: Type.Array(
      Type.Object(
        { chain: Type.String(), event_id: NullableString, seq: Type.Union([Type.Integer(), Type.Null()]), problem: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A vaulted SMTP password checked out right now (GET /api/v1/vault/checkouts). */
export const VaultCheckoutReply = Type.Object(
  {
    tenant_id: Type.String(),
    tenant_name: Type.String(),
    username: Type.String(),
    checked_out_by: NullableString,
    checked_out_by_email: NullableString,
    expires_at: Timestamp,
    last_rotated: Timestamp,
  },
  { additionalProperties: false },
);

/** The root key as `relaykey keys status` reports it; never the key itself. */
export const RootKeyStatusReply = Type.Object(
  {
    master_key: Type.Union([Type.Literal('match'), Type.Literal('mismatch'), Type.Literal('unrecorded')], {
      description: 'match: this node holds the key the database was sealed with; unrecorded: no key check stored yet',
    }),
    key_check: Type.String({ description: 'A digest that names the master key without revealing it (compare across nodes)' }),
    source: Type.Union([Type.Literal('key_file'), Type.Literal('environment')]),
    current_version: Type.Integer(),
    known_versions: Type.Array(Type.Integer()),
    data_keys_by_version: Type.Array(Type.Object({ version: Type.Integer(), count: Type.Integer() }, { additionalProperties: false })),
    data_keys_not_current: Type.Integer({
      description: 'Tenant data keys still wrapped with an older root key version (`relaykey keys rotate --rewrap-only`)',
    }),
  },
  { additionalProperties: false },
);

export const CheckoutEndedReply = Type.Object({ ended: Type.Literal(true), rotated_at: Timestamp, next_rotation: Timestamp }, { additionalProperties: false });

/** The tenant's vaulted SMTP account without its password (GET /api/v1/tenants/{id}/smtp-account). */
export const SmtpAccountStatusReply = Type.Object(
  { username: Type.String(), last_rotated: Timestamp, next_rotation: Timestamp, checkout: Type.Union([VaultCheckoutReply, Type.Null()]) },
  { additionalProperties: false },
);

/** What a usage session says about its client: the same fields on the native sessions route and on seed 003's. */
export const SessionClientFields = {
  ip_address: Type.String(),
  raw_user_agent: Type.String(),
  user_agent_family: Type.String(),
  user_agent_version: Type.String(),
  user_agent_major_version: Type.String(),
  os_family: Type.String(),
  os_version: Type.String(),
  device_family: Type.String(),
  device_brand: Type.String(),
  device_type: Type.String(),
  country: Type.String(),
  country_iso_code: Type.String(),
};

/** GET /api/v1/tenants/:tenantId/credentials/:credentialId/sessions: one client seen using the credential. */
export const SessionReply = Type.Object({
  id: Type.String(),
  ...SessionClientFields,
  protocol: Type.String(),
  active: Type.Boolean(),
  first_seen_at: Type.String(),
  last_seen_at: Type.String(),
});

/** GET /api/v1/stats/verifications: per-minute counts of every node, and the most refused clients. */
export const StatsReply = Type.Object({
  series: Type.Array(Type.Object({ minute: Type.String(), allowed: Type.Integer(), denied: Type.Integer() })),
  top_denied_clients: Type.Array(Type.Object({ ip: Type.String(), denied: Type.Integer() })),
});

const OutcomeName = Type.Unsafe<VerificationOutcome>({ type: 'string', enum: [...VERIFICATION_OUTCOMES] });

/** Verification outcomes of one tenant or one credential over a range of minutes. */
export const VerificationAnalyticsReply = Type.Object(
  {
    minutes: Type.Integer(),
    from: Timestamp,
    to: Timestamp,
    outcomes: Type.Object(
      Object.fromEntries(VERIFICATION_OUTCOMES.map((o) => [o, Type.Integer()])) as Record<
        (typeof VERIFICATION_OUTCOMES)[number],
        ReturnType<typeof Type.Integer>
      >,
      {
        additionalProperties: false,
        description: 'Attempts per outcome: valid, or why it was refused (unknown_key: no such key; wrong_user: the key with another user name)',
      },
    ),
    series: Type.Array(Type.Object({ minute: Timestamp, valid: Type.Integer(), refused: Type.Integer() }, { additionalProperties: false })),
    top_refused_clients: Type.Array(
      Type.Object(
        {
          ip: Type.String(),
          refused: Type.Integer(),
          reasons: Type.Array(Type.Object({ outcome: OutcomeName, count: Type.Integer() }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const UsageWindow = Type.Object({
  window_start: Type.String(),
  messages: Type.Integer(),
  recipients: Type.Integer(),
  rejected: Type.Integer(),
  deferred: Type.Integer(),
});
/** GET .../credentials/:id/usage (src/protocol/postfix/usage-route.ts). */
export const UsageReply = Type.Object({
  credential_id: Type.String(),
  counted_for: Type.Union([Type.Literal('credential'), Type.Literal('login')], {
    description: "login: a login-bound credential's counters are its login's, shared by the login's credentials",
  }),
  limits: SendingLimits,
  hour: UsageWindow,
  day: UsageWindow,
});
