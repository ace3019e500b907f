// CLI: `relaykey credentials import`, the bulk path for migrations and load tests.
import { once } from 'node:events';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_IMPORT_BATCH, importCredentials } from '../domain/bulk-import.js';
import { badRequest } from '../errors.js';
import { cliActor, output, withRuntime } from './context.js';

interface ImportOptions {
  tenant: string;
  count: string;
  scopes?: string;
  out?: string;
  withIds?: boolean;
  batchSize?: string;
  json?: boolean;
}

function wholeNumber(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw badRequest(`${name} must be a whole number (got "${raw}")`);
  return Number(raw);
}

async function writeLines(stream: WriteStream, lines: string[]): Promise<void> {
  if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain');
}

/** Opens --out before anything is imported: a key file that cannot be written stops the import up front. */
function openOut(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (error) {
    throw badRequest(`cannot write --out ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return createWriteStream(path, { fd });
}

export function registerCredentialCommands(program: Command): void {
  const credentials = program.command('credentials').description('verify-only credentials');
  credentials
    .command('import')
    .description('generate and store many credentials for a tenant in large batches; the plaintexts go to --out only')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--count <n>', 'how many credentials to create')
    .option('--scopes <list>', 'comma-separated scopes', 'smtp')
    .option('--out <file>', 'write the plaintext keys here, one per line (created with mode 0600)')
    .option('--with-ids', 'write "<credential id><TAB><key>" lines (the id is the username for mail protocols)')
    .option('--batch-size <n>', 'credentials per transaction', String(DEFAULT_IMPORT_BATCH))
    .option('--json', 'print one JSON object')
    .action(async (options: ImportOptions) => {
      const count = wholeNumber('--count', options.count);
      const batchSize = wholeNumber('--batch-size', options.batchSize ?? String(DEFAULT_IMPORT_BATCH));
      const scopes = (options.scopes ?? 'smtp')
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean);
      const stream = options.out ? openOut(options.out) : null;
      try {
        const result = await withRuntime((runtime) =>
          importCredentials(runtime.services.context, { tenantId: options.tenant, count, scopes, batchSize }, cliActor, async ({ ids, secrets }) => {
            if (!stream) return;
            await writeLines(stream, options.withIds ? secrets.map((secret, i) => `${ids[i]}\t${secret}`) : secrets);
          }),
        );
        const seconds = result.elapsedMs / 1000;
        output(
          options.json,
          {
            imported: result.imported,
            batches: result.batches,
            elapsed_ms: Math.round(result.elapsedMs),
            per_second: Math.round(result.imported / Math.max(seconds, 0.001)),
            out: options.out ?? null,
          },
          `imported ${result.imported} credential(s) in ${seconds.toFixed(1)} s${options.out ? `; keys written to ${options.out}` : ' (keys not kept: use --out)'}`,
        );
      } finally {
        if (stream) {
          stream.end();
          await once(stream, 'close');
        }
      }
    });
}
