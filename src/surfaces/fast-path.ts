// The lean path for the two hot endpoints, POST /api/v1/verify and GET /auth/nginx: a node:http
// request listener in front of Fastify answers exactly those method+path pairs with the SAME
// domain calls and the same status codes, headers and bodies as the Fastify routes (which stay
// registered for OpenAPI and for RELAYKEY_FAST_PATH=off). Anything unusual (another content
// type, a chunked body, a query string, a GET with a body) goes to Fastify untouched. Its
// answers are written once per turn of the event loop (answer-batch.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parse as secureJsonParse } from 'secure-json-parse';
import type { Services } from '../domain/services.js';
import { AppError, isDatabaseFault } from '../errors.js';
import { nginxAnswer, nginxTemporaryFailure } from '../protocol/nginx/auth-http-route.js';
import { AnswerBatch } from './answer-batch.js';
import { authenticateAuthorization, requireAction } from './authentication.js';
import type { ErrorBody } from './http-errors.js';
import { toAppError } from './http-errors.js';
import { VerifyBody, type VerifyBodyValue, verifyAnswer } from './native/verify-route.js';
import { formatValidationErrors, lazyValidator, makeAjv } from './validation.js';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

export interface FastPathOptions {
  services: Services;
  logger: Logger;
  bodyLimit: number;
}

/** Wraps Fastify's request listener: the two hot routes are answered here, the rest by `fallback`. */
export function createFastPath(options: FastPathOptions, fallback: Listener): Listener {
  const { services, logger, bodyLimit } = options;
  // Compiled at the first verify, not at start-up (~60 ms with a fresh Ajv's meta-schema).
  const validate = lazyValidator(makeAjv(false), VerifyBody);

  const answers = new AnswerBatch((error) => logger.error({ err: error }, 'answer could not be written'));
  const send = answers.send.bind(answers);

  function sendError(response: ServerResponse, requestId: string, error: unknown, closeConnection = false): void {
    const appError = toAppError(error);
    if (appError.status >= 500 && !isDatabaseFault(appError)) logger.error({ err: error, reqId: requestId }, 'request failed');
    const headers: Record<string, string> = { 'x-request-id': requestId, 'x-content-type-options': 'nosniff' };
    if (closeConnection) headers.connection = 'close';
    if (appError.retryAfterSeconds !== undefined) headers['retry-after'] = String(appError.retryAfterSeconds);
    headers['content-type'] = JSON_TYPE;
    const body: ErrorBody = { error: { code: appError.code, message: appError.message, request_id: requestId } };
    send(response, appError.status, headers, JSON.stringify(body));
  }

  async function verify(request: IncomingMessage, response: ServerResponse, requestId: string, raw: Buffer): Promise<void> {
    // Authenticate first, as the Fastify route's policy hook does: a caller without a verifier
    // token learns nothing from the body's errors.
    try {
      requireAction(await authenticateAuthorization(services, request.headers.authorization), 'verify.credential');
    } catch (error) {
      sendError(response, requestId, error);
      return;
    }
    let body: unknown;
    try {
      if (raw.length === 0) throw new AppError('MALFORMED_JSON', 'The request body is empty but Content-Type is application/json');
      try {
        body = secureJsonParse(raw.toString('utf8'), PARSE_OPTIONS);
      } catch {
        throw new AppError('MALFORMED_JSON');
      }
    } catch (error) {
      sendError(response, requestId, error, true);
      return;
    }
    try {
      if (!validate(body)) throw new AppError('VALIDATION_FAILED', formatValidationErrors(validate.errors ?? [], 'body').message);
      const answer = await verifyAnswer(services, body as VerifyBodyValue, request.socket.remoteAddress);
      send(response, answer.status, { 'x-request-id': requestId, 'x-content-type-options': 'nosniff', 'content-type': JSON_TYPE }, JSON.stringify(answer.body));
    } catch (error) {
      sendError(response, requestId, error);
    }
  }

  function readBody(request: IncomingMessage, response: ServerResponse, requestId: string, contentLength: number): void {
    if (contentLength > bodyLimit) {
      request.resume();
      sendError(response, requestId, new AppError('PAYLOAD_TOO_LARGE'), true);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let finished = false;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > bodyLimit) {
        cleanup();
        sendError(response, requestId, new AppError('PAYLOAD_TOO_LARGE'), true);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (error?: Error) => {
      cleanup();
      if (error) {
        sendError(response, requestId, new AppError('BAD_REQUEST', error.message), true);
        return;
      }
      if (received !== contentLength) {
        sendError(response, requestId, new AppError('BAD_REQUEST', 'Content-Length does not match the body'), true);
        return;
      }
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      verify(request, response, requestId, raw).catch((failure) => sendError(response, requestId, failure));
    };
    const cleanup = () => {
      if (finished) return;
      finished = true;
      request.removeListener('data', onData);
      request.removeListener('end', onEnd);
      request.removeListener('error', onEnd);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onEnd);
  }

  async function nginx(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    try {
      requireAction(await authenticateAuthorization(services, request.headers.authorization), 'verify.nginx');
      const answer = await nginxAnswer(services, request.headers, logger);
      send(response, 200, { 'x-request-id': requestId, ...answer, 'x-content-type-options': 'nosniff', 'content-type': TEXT_TYPE }, '');
    } catch (error) {
      if (isDatabaseFault(error)) {
        send(response, 200, { 'x-request-id': requestId, ...nginxTemporaryFailure(request.headers), 'content-type': TEXT_TYPE }, '');
        return;
      }
      sendError(response, requestId, error);
    }
  }

  return (request, response) => {
    const { method, url, headers } = request;
    if (method === 'POST' && url === '/api/v1/verify') {
      const type = headers['content-type'];
      const length = headers['content-length'];
      if (
        (type === 'application/json' || type === JSON_TYPE) &&
        length !== undefined &&
        /^\d+$/.test(length) &&
        headers['transfer-encoding'] === undefined &&
        headers['content-encoding'] === undefined
      ) {
        readBody(request, response, randomUUID(), Number(length));
        return;
      }
    } else if (method === 'GET' && url === '/auth/nginx' && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
      nginx(request, response, randomUUID()).catch((failure) => logger.error({ err: failure }, 'request failed'));
      return;
    }
    fallback(request, response);
  };
}
