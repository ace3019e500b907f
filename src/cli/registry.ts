// CLI command groups added by capabilities beyond the core (vault keys, webhooks, ...).
import type { Command } from 'commander';

export const cliCommandRegistrars: Array<(program: Command) => void> = [];
