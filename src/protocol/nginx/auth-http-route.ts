// GET /auth/nginx: the auth_http server of nginx's mail proxy (ngx_mail_auth_http_module).
// nginx authenticates with a verifier token (auth_http_header Authorization "Bearer ...").
// Everything is in headers: the answer is Auth-Status OK plus the backend, or a failure text,
// Auth-Wait while the client may try again, and Auth-Error-Code for SMTP.
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { MailProtocol } from '../../config.js';
import type { Services } from '../../domain/services.js';
import { isDatabaseFault } from '../../errors.js';
import { requirePrincipal } from '../../surfaces/authentication.js';
import type { App } from '../../surfaces/native/types.js';
import { decodeNginxHeader } from './header-decoding.js';

/** Beyond this many attempts in one session nginx gets no Auth-Wait and closes (it keeps memory per attempt). */
export const MAX_LOGIN_ATTEMPTS = 10;
/** Longest Auth-Wait for a throttled client: nginx holds the connection while it waits. */
export const MAX_AUTH_WAIT_SECONDS = 60;

const SUPPORTED_METHODS = new Set(['plain', 'login']);
const PROTOCOLS = new Set<string>(['smtp', 'imap', 'pop3']);

export const MESSAGES = {
  invalid: 'Invalid login or password',
  throttled: 'Too many failed logins, try again later',
  unsupported: 'Unsupported authentication method',
  unavailable: 'Temporary server problem, try again later',
} as const;

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** The Auth-* headers nginx gets (always with status 200 and an empty body). */
export type NginxAnswer = Record<string, string>;

function fail(protocol: string, text: string, smtpCode: string, waitSeconds: number | null): NginxAnswer {
  const answer: NginxAnswer = { 'Auth-Status': text };
  if (protocol === 'smtp') answer['Auth-Error-Code'] = smtpCode;
  if (waitSeconds !== null) answer['Auth-Wait'] = String(waitSeconds);
  return answer;
}

/**
 * The answer to an auth_http request from an authenticated verifier; shared by the Fastify
 * route and the fast path. `log` receives configuration problems.
 */
export async function nginxAnswer(services: Services, headers: Headers, log: Pick<Logger, 'error'>): Promise<NginxAnswer> {
  const protocol = header(headers, 'auth-protocol').toLowerCase();
  const method = header(headers, 'auth-method').toLowerCase();
  const attempt = Number.parseInt(header(headers, 'auth-login-attempt') || '1', 10) || 1;
  const mayRetry = attempt < MAX_LOGIN_ATTEMPTS;
  const clientIp = header(headers, 'client-ip') || null;

  if (!PROTOCOLS.has(protocol)) return fail(protocol, MESSAGES.unsupported, '504 5.5.4', null);
  if (!SUPPORTED_METHODS.has(method)) return fail(protocol, MESSAGES.unsupported, '504 5.5.4', null);

  const result = await services.logins.attempt({
    username: decodeNginxHeader(headers['auth-user']),
    password: decodeNginxHeader(headers['auth-pass']),
    protocol: protocol as MailProtocol,
    clientIp,
    userAgent: null,
    surface: 'auth_http',
  });
  if (result.status === 'throttled') {
    return fail(protocol, MESSAGES.throttled, '454 4.7.0', mayRetry ? Math.min(result.retryAfterSeconds, MAX_AUTH_WAIT_SECONDS) : null);
  }
  if (result.status === 'denied') return fail(protocol, MESSAGES.invalid, '535 5.7.8', mayRetry ? result.delaySeconds : null);

  const backend = await services.mailRouter.backendFor(result.credential.tenantId, protocol as MailProtocol);
  if (!backend) {
    log.error({ protocol, tenantId: result.credential.tenantId }, 'no mail backend configured (RELAYKEY_MAIL_BACKENDS or tenant mail_backends)');
    return fail(protocol, MESSAGES.unavailable, '451 4.3.0', null);
  }
  // Auth-User: the backend (Postfix through XCLIENT LOGIN, Dovecot's LOGIN) sees relaykey's
  // canonical identity, never the client's string. nginx passes the header's bytes on as they
  // are: UTF-8 goes out as bytes (a Node header value is latin1).
  return {
    'Auth-Status': 'OK',
    'Auth-Server': backend.host,
    'Auth-Port': String(backend.port),
    'Auth-User': Buffer.from(result.credential.identity, 'utf8').toString('latin1'),
  };
}

/**
 * The database cannot answer for this login (not cached, database down): a temporary failure,
 * never "wrong password". SMTP clients get 451 4.3.0 and try again later.
 */
export function nginxTemporaryFailure(headers: Headers): NginxAnswer {
  return fail(header(headers, 'auth-protocol').toLowerCase(), MESSAGES.unavailable, '451 4.3.0', null);
}

const text = (description: string) => Type.Optional(Type.String({ description }));

/** What nginx sends (ngx_mail_auth_http_module); all optional here, the answer says what was missing. */
const NginxRequestHeaders = Type.Object(
  {
    authorization: text('Bearer <verifier token> (auth_http_header Authorization "Bearer ...")'),
    'auth-method': text('plain or login (others are refused as unsupported)'),
    'auth-user': text('The user name the client gave (%XX-escaped)'),
    'auth-pass': text('The password the client gave (%XX-escaped)'),
    'auth-protocol': text('smtp, imap or pop3'),
    'auth-login-attempt': text('1, 2, ... within one client session'),
    'client-ip': text('The client address'),
    'client-host': text('The client host name, or [UNAVAILABLE]'),
  },
  { additionalProperties: true },
);

/** What nginx reads back. */
const NginxAnswerHeaders = {
  'Auth-Status': { type: 'string', description: 'OK, or the failure text the client sees' },
  'Auth-Server': { type: 'string', description: 'On OK: the backend address (an IP literal)' },
  'Auth-Port': { type: 'string', description: 'On OK: the backend port' },
  'Auth-User': { type: 'string', description: "On OK: relaykey's canonical identity for the login, which the backend sees" },
  'Auth-Wait': { type: 'string', description: 'On failure: seconds nginx waits before the client may try again (absent after 10 attempts)' },
  'Auth-Error-Code': { type: 'string', description: 'On failure, SMTP only: the reply code, e.g. 535 5.7.8' },
};

export function registerNginxAuthRoute(app: App, services: Services): void {
  app.get(
    '/auth/nginx',
    {
      logLevel: 'warn',
      config: { action: 'verify.nginx' },
      schema: {
        tags: ['protocol'],
        summary: 'nginx mail auth_http endpoint (verifier token); answers in Auth-* headers',
        description:
          'nginx sends one GET per login attempt (auth_http); the answer is always 200 with an empty body and the outcome in Auth-* headers. `Auth-User` and `Auth-Pass` are %XX-escaped by nginx for space, % and control bytes only.',
        headers: NginxRequestHeaders,
        response: {
          200: {
            description: 'The outcome, in headers (the body is empty)',
            headers: NginxAnswerHeaders,
            content: { 'text/plain': { schema: { type: 'string', maxLength: 0 } } },
          },
        },
      },
    },
    async (request, reply) => {
      let answer: NginxAnswer;
      try {
        await requirePrincipal(services, request, ['verifier']);
        answer = await nginxAnswer(services, request.headers, request.log);
      } catch (error) {
        if (!isDatabaseFault(error)) throw error;
        answer = nginxTemporaryFailure(request.headers);
      }
      for (const name in answer) reply.header(name, answer[name]);
      return reply.status(200).send('');
    },
  );
}
