// CLI: root key versions. `keys rotate` introduces a new root key version and re-wraps every
// tenant data key with it while the service keeps running; old versions stay in the ring.
import type { Command } from 'commander';
import { EXIT_CONFIG } from '../config.js';
import { appendKeyFileVersion } from '../crypto/root-secret.js';
import { masterKeyMatch, mismatchMessage } from '../startup-checks.js';
import { AppError } from '../errors.js';
import { cliActor, output, withRuntime } from './context.js';

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('root key versions and tenant data key wrapping');

  keys
    .command('rotate')
    .description(
      'introduce a new root key version and re-wrap every tenant data key with it. Embedded mode appends the version to the key file; ' +
        'with RELAYKEY_MASTER_KEY add v<N+1>:<base64 of 32 bytes> to it on every node first (keep the old versions), restart, then run this',
    )
    .option('--rewrap-only', 'add no new version: re-wrap whatever is not on the current version yet')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean; rewrapOnly?: boolean }) => {
      const result = await withRuntime(async (runtime) => {
        const vault = runtime.services.vault;
        let version: number;
        let mode: 'key_file' | 'environment';
        if (options.rewrapOnly) {
          mode = runtime.config.masterKey ? 'environment' : 'key_file';
          version = runtime.rootKeys.currentVersion;
        } else if (!runtime.config.masterKey) {
          mode = 'key_file';
          version = appendKeyFileVersion(runtime.config.dataDir).version;
          vault.envelope.reload();
        } else {
          mode = 'environment';
          version = runtime.rootKeys.currentVersion;
          const counts = await vault.countDataKeysByRootVersion();
          const total = [...counts.values()].reduce((a, b) => a + b, 0);
          if (total > 0 && (counts.get(version) ?? 0) === total) {
            throw new AppError(
              'INVALID_STATE',
              `every data key is already wrapped with root key v${version}, the newest in RELAYKEY_MASTER_KEY: add v${version + 1}:<base64 of 32 random bytes> to RELAYKEY_MASTER_KEY on every node (keep the older versions), restart them, then run relaykey keys rotate again`,
            );
          }
        }
        const rewrap = await vault.rewrapDataKeys(version, cliActor);
        return { mode, version, ...rewrap };
      });
      output(
        options.json,
        { root_key_version: result.version, mode: result.mode, rewrapped: result.rewrapped, failed_tenants: result.failedTenants },
        `root key v${result.version} is current (${result.mode === 'key_file' ? 'key file' : 'RELAYKEY_MASTER_KEY'}); re-wrapped ${result.rewrapped} tenant data key(s)` +
          (result.failedTenants.length ? `; FAILED for tenants ${result.failedTenants.join(', ')} (integrity check; see the audit trail)` : ''),
      );
      if (result.failedTenants.length > 0) process.exitCode = 1;
    });

  keys
    .command('status')
    .description('whether the master key is the one the data was sealed with, and how many tenant data keys each root key version wraps')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const { current, counts, match } = await withRuntime(
        async (runtime) => ({
          current: runtime.rootKeys.currentVersion,
          counts: await runtime.services.vault.countDataKeysByRootVersion(),
          match: await masterKeyMatch(runtime.handle, runtime.rootKeys),
        }),
        { enforceMasterKey: false },
      );
      const byVersion = Object.fromEntries([...counts.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => [`v${v}`, n]));
      const keyLine =
        match.status === 'match'
          ? `master key matches the database (key check ${match.check})`
          : match.status === 'mismatch'
            ? `MASTER KEY MISMATCH: ${mismatchMessage(match)}`
            : `master key check not recorded yet (this key gives ${match.check}; the next start records it)`;
      output(
        options.json,
        {
          master_key: match.status,
          key_check: match.check,
          ...(match.status === 'mismatch' ? { stored_key_check: match.expected } : {}),
          current_root_key_version: current,
          data_keys_by_root_version: byVersion,
        },
        `${keyLine}\ncurrent root key v${current}; data keys: ${
          Object.entries(byVersion)
            .map(([v, n]) => `${v}=${n}`)
            .join(', ') || 'none'
        }`,
      );
      if (match.status === 'mismatch') process.exitCode = EXIT_CONFIG;
    });
}
