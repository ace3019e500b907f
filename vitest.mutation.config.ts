// The tests StrykerJS runs against each mutant (`npm run mutation`): the unit tests of pure
// code, which finish in seconds, so a run over src/domain and src/crypto fits a small machine.
// Mutants only the integration suites reach are reported as "no coverage" and read by hand.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/vault/envelope.test.ts'],
    // Stryker runs vitest in worker threads, where process.umask() cannot be set: the tests that
    // open a SQLite file (storage, outside the mutated folders) stay out.
    exclude: ['test/unit/sqlite-background.test.ts', 'test/unit/sqlite-lookups.test.ts', 'test/unit/turn-snapshot.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
