// The one error catalogue: every error the service raises has a stable code and an HTTP status.
export const ERROR_CATALOGUE = {
  BAD_REQUEST: { status: 400, message: 'The request is not valid' },
  VALIDATION_FAILED: { status: 400, message: 'The request body or parameters are not valid' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be application/json' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than 1 MiB' },
  URI_TOO_LONG: { status: 414, message: 'A path segment is longer than 200 characters' },
  UNAUTHENTICATED: { status: 401, message: 'Missing or invalid credentials' },
  INVALID_LOGIN: { status: 401, message: 'Email, password or TOTP code is wrong' },
  TOTP_REQUIRED: { status: 401, message: 'A TOTP code is required for this admin' },
  TOTP_CODE_WRONG: { status: 400, message: "The code does not match the authenticator secret: check the code and the device's clock" },
  ADMIN_DISABLED: { status: 403, message: 'This admin account is disabled' },
  REAUTH_REQUIRED: { status: 401, message: 'A valid X-Reauth-Token for this admin session is required' },
  REAUTH_INVALID: { status: 401, message: 'The X-Reauth-Token is not valid' },
  REAUTH_EXPIRED: { status: 401, message: 'The X-Reauth-Token has expired; reauthenticate again' },
  REAUTH_SESSION_MISMATCH: { status: 401, message: 'The X-Reauth-Token was issued to another admin session' },
  FORBIDDEN: { status: 403, message: 'This token may not perform this action' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  CONFLICT: { status: 409, message: 'The resource conflicts with an existing one' },
  INCIDENT_ALREADY_RESET: { status: 409, message: 'This incident already reset the account; nothing was changed' },
  DOMAIN_TAKEN: { status: 409, message: 'The domain belongs to another tenant' },
  DOMAIN_IN_USE: { status: 409, message: 'Logins, aliases or the SMTP account of this tenant still use the domain' },
  DOMAIN_NOT_OWNED: { status: 422, message: 'The address is not in a domain of this tenant' },
  INVALID_STATE: { status: 409, message: 'The resource is not in a state that allows this action' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  DECRYPTION_FAILED: { status: 500, message: 'A stored secret failed its integrity check' },
  INTERNAL: { status: 500, message: 'Internal error' },
  // The database cannot answer (storage/faults.ts): a temporary state, so 503 with Retry-After.
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unreachable; try again shortly' },
  DATABASE_TIMEOUT: { status: 503, message: 'The database did not answer in time; try again shortly' },
  DATABASE_READ_ONLY: { status: 503, message: 'The database accepts no writes right now (read-only or failing over); try again shortly' },
  DISK_FULL: { status: 503, message: 'The database disk is full; writes resume when space is freed' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message?: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badRequest = (message: string) => new AppError('VALIDATION_FAILED', message);

export const DATABASE_FAULT_CODES = ['DATABASE_UNAVAILABLE', 'DATABASE_TIMEOUT', 'DATABASE_READ_ONLY', 'DISK_FULL'] as const;
export type DatabaseFaultCode = (typeof DATABASE_FAULT_CODES)[number];

/** The database could not do what was asked for a reason outside the request (see storage/faults.ts). */
export function isDatabaseFault(error: unknown): error is AppError & { code: DatabaseFaultCode } {
  return error instanceof AppError && (DATABASE_FAULT_CODES as readonly string[]).includes(error.code);
}

/** A configuration the service refuses to start with: one line, exit code 78 (EX_CONFIG). */
export class ConfigError extends Error {}
