// The integration guides show the very configs the protocol tests run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

const read = (path: string) => readFileSync(join(ROOT, 'docs/integrations', path), 'utf8');

describe('integration docs', () => {
  it.each([
    ['nginx.md', 'templates/nginx-mail.conf'],
    ['dovecot.md', 'templates/dovecot.conf'],
    ['dovecot.md', 'templates/relaykey-passdb.lua'],
    ['postfix.md', 'templates/postfix-main.cf'],
    ['postfix.md', 'templates/postfix-master.cf'],
  ])('%s contains %s verbatim', (doc, template) => {
    expect(read(doc)).toContain(read(template));
  });

  it('postfix.md documents the two SASL lines', () => {
    expect(read('postfix.md')).toContain('smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth');
  });
});
