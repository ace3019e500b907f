// Writes the README's configuration table from ConfigSchema (`npm run docs:config`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationTable, README_TABLE_END, README_TABLE_START } from './config.js';

/** The README text with its generated table replaced by `table`. */
export function withConfigurationTable(readme: string, table: string = configurationTable()): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no configuration table markers');
  return `${readme.slice(0, start + README_TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1]?.endsWith('config-table.ts')) {
  const path = join(import.meta.dirname, '..', 'README.md');
  writeFileSync(path, withConfigurationTable(readFileSync(path, 'utf8')));
  process.stdout.write('README.md configuration table written\n');
}
