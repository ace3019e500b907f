// POST /api/v1/verify: the JSON verification endpoint for mail servers and gateways.
import { isIP } from 'node:net';
import { type Static, Type } from 'typebox';
import type { Protocol } from '../../domain/scopes.js';
import type { Services } from '../../domain/services.js';
import { AppError } from '../../errors.js';
import { requirePrincipal } from '../authentication.js';
import { ProtocolSchema } from './schemas.js';
import type { App } from './types.js';
import { ErrorReply, replies } from './replies.js';

export type VerifyBodyValue = Static<typeof VerifyBody>;

/** The answer to a validated verify body from an authenticated verifier; shared by the Fastify route and the fast path. */
export async function verifyAnswer(services: Services, body: VerifyBodyValue, remoteIp: string | undefined): Promise<{ status: 200 | 401; body: object }> {
  // Only canonical address text counts as an address: octal, hex or integer forms of IPv4
  // (`0177.0.0.1`, `0x7f.1`, `2130706433`) are refused, not read as some other address.
  if (body.client_ip && isIP(body.client_ip) === 0) {
    throw new AppError('VALIDATION_FAILED', 'client_ip must be an IPv4 address in dotted decimal or an IPv6 address');
  }
  const outcome = await services.logins.attempt({
    username: body.username,
    password: body.password,
    protocol: body.protocol as Protocol,
    clientIp: body.client_ip || remoteIp,
    userAgent: body.user_agent ?? null,
  });
  if (outcome.status === 'throttled') {
    throw new AppError('RATE_LIMITED', 'Too many failed logins from this client; try again later', { retryAfterSeconds: outcome.retryAfterSeconds });
  }
  if (outcome.status === 'denied') return { status: 401, body: { valid: false } };
  return {
    status: 200,
    body: {
      valid: true as const,
      tenant_id: outcome.credential.tenantId,
      credential_id: outcome.credential.id,
      login: outcome.login,
      identity: outcome.credential.identity,
      scopes: outcome.credential.scopes,
    },
  };
}

export const VerifyBody = Type.Object(
  {
    username: Type.String({ maxLength: 320 }),
    password: Type.String({ maxLength: 1024 }),
    protocol: ProtocolSchema,
    client_ip: Type.Optional(Type.String({ maxLength: 45 })),
    user_agent: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

const Allowed = Type.Object({
  valid: Type.Literal(true),
  tenant_id: Type.String(),
  credential_id: Type.String(),
  login: Type.Union([Type.String(), Type.Null()]),
  identity: Type.String({
    description:
      'The name the mail server must use for this login (never the client-supplied one): the login address, the vaulted SMTP username, or <credential id>@<tenant id>.relaykey.invalid for keys bound to no mailbox',
  }),
  scopes: Type.Array(Type.String()),
});

// 401 also carries the error body when the verifier token itself is wrong.
const DeniedOrError = Type.Union([Type.Object({ valid: Type.Literal(false) }, { additionalProperties: false }), ErrorReply], {
  description: '{"valid": false} for a refused login (never saying why), or the error body when the verifier token itself is wrong',
});

export function registerVerifyRoute(app: App, services: Services): void {
  app.post(
    '/api/v1/verify',
    {
      // The hot path: no per-request log lines (failures still log at warn and above).
      logLevel: 'warn',
      config: { action: 'verify.credential' },
      schema: {
        tags: ['verify'],
        summary: 'Is this login valid? (verifier token)',
        body: VerifyBody,
        response: replies({ 200: Allowed, 401: DeniedOrError }),
      },
    },
    async (request, reply) => {
      await requirePrincipal(services, request, ['verifier']);
      const answer = await verifyAnswer(services, request.body, request.ip);
      return reply.status(answer.status).send(answer.body as Static<typeof Allowed> | { valid: false });
    },
  );
}
