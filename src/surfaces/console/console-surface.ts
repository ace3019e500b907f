// Serves the admin web console (built by Vite into dist/console) at /console with a strict
// Content-Security-Policy: only this origin's own files run, nothing inline, no framing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SurfaceRegistrar } from '../registrar.js';
import { projectRoot } from '../../project-root.js';
import type { RuntimeExtension } from '../../runtime-types.js';

/** Where Vite puts the console: dist/console under the project root (from src/, dist/ or the bundle). */
export const CONSOLE_DIST = join(projectRoot(), 'dist/console');

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>relaykey console</title></head>
<body><h1>The relaykey console is not built</h1><p>Run <code>npm run build:console</code> (npm ci does it) and reload.</p></body></html>`;

/** The best encoding the client accepts of the two the build writes (q=0 refuses one). */
export function pickEncoding(header: string | string[] | undefined): { name: string; suffix: string } | null {
  const accepted = new Map<string, number>();
  for (const part of String(header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  if ((accepted.get('br') ?? 0) > 0) return { name: 'br', suffix: 'br' };
  if ((accepted.get('gzip') ?? 0) > 0) return { name: 'gzip', suffix: 'gz' };
  return null;
}

export const registerConsoleSurface: SurfaceRegistrar = async (app) => {
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    // index.html is read per request so a rebuilt console is served without a restart. Every
    // /console/... path that is not an asset is the app too: a deep link such as /console/tenants
    // opens the page it names (the app turns the path into its hash route).
    const serveIndex = async (request: FastifyRequest, reply: FastifyReply) => {
      const index = join(CONSOLE_DIST, 'index.html');
      reply.header('cache-control', 'no-store');
      if (!existsSync(index)) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      reply.header('vary', 'accept-encoding');
      const encoding = pickEncoding(request.headers['accept-encoding']);
      if (encoding && existsSync(`${index}.${encoding.suffix}`)) {
        reply.header('content-encoding', encoding.name);
        return reply.type('text/html; charset=utf-8').send(readFileSync(`${index}.${encoding.suffix}`));
      }
      return reply.type('text/html; charset=utf-8').send(readFileSync(index));
    };
    const route = { config: { action: 'public.console' as const }, schema: { hide: true } };
    scope.get('/console', route, serveIndex);
    scope.get('/console/*', route, serveIndex);
    await scope.register(fastifyStatic, {
      root: join(CONSOLE_DIST, 'assets'),
      prefix: '/console/assets/',
      decorateReply: false,
      index: false,
      // Asset names carry a content hash: they never change under the same name. The build writes
      // .br and .gz beside each one (console/vite.config.ts), sent to clients that accept them.
      immutable: true,
      preCompressed: true,
      maxAge: '365d',
    });
  });
};

export const consoleExtension: RuntimeExtension = { name: 'console', surfaces: [registerConsoleSurface] };
