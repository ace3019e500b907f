// Platform admins: owners create, disable and enable admins; every admin enrols its own TOTP
// authenticator (the password again to start, a code from the app to confirm).
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canonicalAddress } from '../../domain/domain-names.js';
import type { Services } from '../../domain/services.js';
import type { Admin } from '../../domain/types.js';
import { AppError } from '../../errors.js';
import { requirePrincipal } from '../authentication.js';
import { Uuid } from './schemas.js';
import type { App } from './types.js';
import { AdminReply, replies, TotpEnrolmentReply } from './replies.js';

const AdminParams = Type.Object({ adminId: Uuid }, { additionalProperties: false });
const TotpCode = Type.String({ pattern: '^[0-9]{6,8}$', description: 'The 6-digit code the authenticator app shows now' });

export function presentAdmin(admin: Admin) {
  return {
    id: admin.id,
    email: admin.email,
    totp_enabled: admin.totpSecret !== null,
    created_at: admin.createdAt,
    role: admin.role,
    disabled_at: admin.disabledAt,
  };
}

export function registerAdminRoutes(app: App, services: Services): void {
  const owner = (request: FastifyRequest) => requirePrincipal(services, request, ['admin']);

  app.post(
    '/api/v1/admins',
    {
      config: { action: 'admins.write' },
      schema: {
        tags: ['auth'],
        summary: 'Create a platform admin (owners only); role admin by default',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            password: Type.String({ minLength: 12, maxLength: 1024 }),
            role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('owner')])),
          },
          { additionalProperties: false },
        ),
        response: replies({ 201: AdminReply }),
      },
    },
    async (request, reply) => {
      const principal = await owner(request);
      const email = canonicalAddress(request.body.email);
      if (!email) throw new AppError('VALIDATION_FAILED', 'email must be an email address (name@example.com)');
      const admin = await services.access.createAdmin(
        { email, password: request.body.password, role: request.body.role ?? 'admin' },
        { type: 'admin', id: principal.adminId, ip: request.ip },
      );
      return reply.status(201).send(presentAdmin(admin));
    },
  );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/api/v1/admins/:adminId/${verb}`,
      {
        config: { action: 'admins.write' },
        schema: {
          tags: ['auth'],
          summary: disabled
            ? 'Disable an admin (owners only): it cannot sign in and its sessions end at once; not yourself, not the last owner'
            : 'Enable a disabled admin again (owners only)',
          params: AdminParams,
          response: replies({ 200: AdminReply }),
        },
      },
      async (request) => {
        const principal = await owner(request);
        return presentAdmin(await services.access.setAdminDisabled(principal, request.params.adminId, disabled, request.ip));
      },
    );
  }

  app.post(
    '/api/v1/auth/totp/enrolment',
    {
      config: { action: 'auth.totp.enrol' },
      schema: {
        tags: ['auth'],
        summary:
          'Start TOTP enrolment for this admin: the password again; answers the secret and its otpauth:// URI once. Sign-in asks for codes only after the confirmation',
        body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: replies({ 201: TotpEnrolmentReply }),
      },
    },
    async (request, reply) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      const started = await services.access.startTotpEnrolment(principal, request.body.password, request.ip);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ secret: started.secret, otpauth_uri: started.otpauthUri });
    },
  );

  app.post(
    '/api/v1/auth/totp/enrolment/confirm',
    {
      config: { action: 'auth.totp.enrol' },
      schema: {
        tags: ['auth'],
        summary: 'Confirm TOTP enrolment with a code from the authenticator: from now on sign-in and re-authentication need a code',
        body: Type.Object({ code: TotpCode }, { additionalProperties: false }),
        response: replies({ 200: AdminReply }),
      },
    },
    async (request) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      return presentAdmin(await services.access.confirmTotpEnrolment(principal, request.body.code, request.ip));
    },
  );
}
