// Browser plumbing for the console tests: Debian's Chromium driven by playwright-core (never a
// downloaded browser), a fresh profile per run, the console built from source, screenshot checks.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from '../helpers/server.js';
import { colourStats, decodePng } from './png.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-results', 'console');
export const CONSOLE_DIST = join(ROOT, 'dist', 'console');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Installs Debian's chromium when it is missing (idempotent; waits for another apt run's lock). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  console.warn("\n*** /usr/bin/chromium is missing: installing Debian's chromium with apt-get (once per machine) ***\n");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  execFileSync('apt-get', [...lock, 'update', '-qq'], { env, stdio: 'inherit', timeout: 600_000 });
  execFileSync('apt-get', [...lock, 'install', '-y', '-qq', 'chromium'], { env, stdio: 'inherit', timeout: 900_000 });
  if (!existsSync(CHROMIUM)) throw new Error('apt-get install chromium did not provide /usr/bin/chromium');
}

/** A digest of the console's sources (and the build config): the bundle in dist is current when it matches. */
function consoleSourceDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'console'));
  hash.update(readFileSync(join(ROOT, 'src/surfaces/native/replies.ts')));
  return hash.digest('hex');
}

/**
 * Builds the console from its sources so the test never runs a stale bundle. Test files run in
 * parallel and each calls this: the build runs under a lock and only when the sources changed,
 * so one file's build never empties dist/console while another file's browser is using it.
 */
export function buildConsole(): void {
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  const digest = consoleSourceDigest();
  const stamp = join(CONSOLE_DIST, '.source-digest');
  const script = `[ "$(cat '${stamp}' 2>/dev/null)" = "${digest}" ] || { npm run --silent build:console && echo "${digest}" > '${stamp}'; }`;
  execFileSync('flock', [join(ROOT, 'test-results', '.console-build.lock'), 'sh', '-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
}

export function bundleSizes(): { js: number; jsGzip: number; css: number; cssGzip: number } {
  const assets = join(CONSOLE_DIST, 'assets');
  const sizes = { js: 0, jsGzip: 0, css: 0, cssGzip: 0 };
  for (const name of readdirSync(assets)) {
    const body = readFileSync(join(assets, name));
    const gz = gzipSync(body, { level: 9 }).length;
    if (name.endsWith('.js')) {
      sizes.js += body.length;
      sizes.jsGzip += gz;
    } else if (name.endsWith('.css')) {
      sizes.css += body.length;
      sizes.cssGzip += gz;
    }
  }
  return sizes;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'relaykey-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Collects page errors and console errors (a CSP violation is a console error). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A failed API call is expected in some steps (401/403/404): Chromium logs those as
    // "Failed to load resource"; anything else at error level is a defect.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** Saves a full-page screenshot under test-results/console and checks that it is not blank. */
export async function screenshot(page: Page, name: string): Promise<{ file: string; bytes: number; distinct: number; nonBackground: number }> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const stats = colourStats(decodePng(readFileSync(file)));
  const bytes = statSync(file).size;
  if (stats.distinct < 12 || stats.nonBackground < 0.01 || bytes < 5_000) {
    throw new Error(`screenshot ${name} looks blank: ${stats.distinct} colours, ${(stats.nonBackground * 100).toFixed(2)}% non-background, ${bytes} bytes`);
  }
  return { file, bytes, ...stats };
}
