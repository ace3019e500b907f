// Turns anything thrown by a route into the native error body; compat surfaces reshape it.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode, isDatabaseFault } from '../errors.js';
import { toDatabaseFault } from '../storage/faults.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id: string };
}

/** Maps framework and domain errors to one AppError; unknown errors become INTERNAL. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  // A database fault that did not pass through the observed driver (a raw SQLite statement
  // inside a transaction, a worker thread): still a 503 naming the cause.
  const fault = toDatabaseFault(error);
  if (fault) return fault;
  // PostgreSQL refuses NUL in text (22021) and characters its encoding lacks (22P05): text the
  // caller sent that no check caught. Bad input, not a server fault; the transaction rolled back.
  const sqlState = (error as { code?: unknown } | null)?.code;
  if (sqlState === '22021' || sqlState === '22P05') return new AppError('VALIDATION_FAILED', 'The request contains a character that cannot be stored (NUL)');
  const fastifyError = error as FastifyError & { validationContext?: string };
  if (fastifyError?.validation) {
    return new AppError('VALIDATION_FAILED', fastifyError.message);
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('MALFORMED_JSON', 'The request body is empty but Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('MALFORMED_JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('BAD_REQUEST', 'Content-Length does not match the body');
    // Raised before routing (the router's own checks); the message never repeats the path.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('URI_TOO_LONG');
    case 'FST_ERR_BAD_URL':
      return new AppError('BAD_REQUEST', 'The path is not valid percent-encoded UTF-8');
  }
  if (error instanceof SyntaxError || (fastifyError?.statusCode === 400 && /JSON/i.test(fastifyError.message ?? ''))) {
    return new AppError('MALFORMED_JSON');
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((c) => ERROR_CATALOGUE[c].status === status) ?? 'BAD_REQUEST';
    return new AppError(code, ERROR_CATALOGUE[code].message);
  }
  return new AppError('INTERNAL');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const appError = toAppError(error);
  // Database faults are logged once per change of state (DatabaseHealth), not per request.
  if (appError.status >= 500 && !isDatabaseFault(appError)) request.log.error({ err: error }, 'request failed');
  if (appError.retryAfterSeconds !== undefined) reply.header('retry-after', String(appError.retryAfterSeconds));
  const body: ErrorBody = { error: { code: appError.code, message: appError.message, request_id: String(request.id) } };
  return reply.status(appError.status).send(body);
}
