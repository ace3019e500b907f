// pino with every place a secret could ride in redacted.
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-reauth-token"]',
  'req.headers["x-server-api-key"]',
  'req.headers["auth-pass"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.key',
  '*.apiKey',
  '*.reauth_token',
];

// Key-shaped strings (the one key format) inside a URL: a secret pasted where an id belongs.
const KEY_IN_URL = /[a-z]{2,5}_[0-9A-Za-z]{38}/g;

export function redactUrl(url: string): string {
  return url.split('?')[0]!.replace(KEY_IN_URL, '[redacted]');
}

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string; id: string; ip?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip }),
      },
    },
    options.destination,
  );
}
