// A tenant's management tokens (admins only): bearer tokens (optionally bound to a login) and
// server API keys: create (the secret shown once), list with last use, revoke after a question.
import { useState } from 'preact/hooks';
import { api, type Token } from '../api';
import { ConfirmDialog, Loading, Notice, SecretDialog, type Submit, Table, TenantHeading, formValue, useLoad, useSubmission } from '../ui';
import { TokenLifeCells } from './token-cells';

export function TokensPage({ tenantId }: { tenantId: string }) {
  const tokens = useLoad(() => api.tokens.list(tenantId), [tenantId]);
  const logins = useLoad(() => api.logins.list(tenantId, { per_page: 200 }), [tenantId]);
  const { busy, error, run } = useSubmission();
  const [issued, setIssued] = useState<(Token & { token: string }) | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const loginById = new Map((logins.data?.data ?? []).map((l) => [l.id, l.address]));

  async function create(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const kind = formValue(form, 'kind') === 'server' ? 'server' : 'bearer';
    const login = formValue(form, 'login_id');
    setDone(null);
    await run(async () => {
      const created = await api.tokens.create(tenantId, { kind, name: formValue(form, 'name'), ...(kind === 'bearer' && login ? { login_id: login } : {}) });
      form.reset();
      setIssued(created);
      tokens.reload();
    });
  }

  const rows = tokens.data ?? [];
  return (
    <section>
      <TenantHeading tenantId={tenantId} title="Tokens" />
      <p class="muted">
        Bearer tokens manage this tenant over the API (a token bound to a login manages only that login's credentials); server API keys are for mail servers
        using seed 001.
      </p>
      <form class="row card" onSubmit={create} aria-label="Create a token">
        <label>
          Kind
          <select name="kind">
            <option value="bearer">Bearer token</option>
            <option value="server">Server API key</option>
          </select>
        </label>
        <label class="grow">
          Name
          <input name="name" required maxLength={200} placeholder="provisioning script" />
        </label>
        <label>
          Bound to login <span class="muted">(bearer only)</span>
          <select name="login_id">
            <option value="">No login: the whole tenant</option>
            {(logins.data?.data ?? []).map((login) => (
              <option key={login.id} value={login.id}>
                {login.address}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </form>
      <Notice error={error} what="Tokens" />
      {done ? (
        <p class="notice notice-ok" role="status">
          {done}
        </p>
      ) : null}
      <Notice error={tokens.error} what="The token list" />
      <Loading loading={tokens.loading && !tokens.data} />
      {tokens.data ? (
        <Table caption="Management tokens" head={['Name', 'Kind', 'Key', 'Login', 'Created', 'Last used', 'State', '']} empty={rows.length === 0}>
          {rows.map((token) => (
            <tr key={token.id} data-token={token.name}>
              <td>{token.name}</td>
              <td>{token.kind === 'server' ? 'server API key' : 'bearer'}</td>
              <td class="mono">{token.key_hint}</td>
              <td>{token.login_id ? (loginById.get(token.login_id) ?? token.login_id) : <span class="muted">tenant</span>}</td>
              <TokenLifeCells token={token} onRevoke={() => setRevoking(token)} />
            </tr>
          ))}
        </Table>
      ) : null}
      {issued ? <SecretDialog title={`Token ${issued.name} created`} secret={issued.token} onClose={() => setIssued(null)} /> : null}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirm="Revoke token"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api.tokens.revoke(tenantId, revoking.id);
            setDone(`${revoking.name} is revoked: it stops working on every node within a second.`);
            setRevoking(null);
            tokens.reload();
          }}
        >
          <p>Whatever uses this token stops working at once. This cannot be undone.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
