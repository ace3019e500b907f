// Platform access (admins): this admin's sessions with "sign out everywhere", verifier tokens
// (the mail servers' credential checks: create, last use, revoke), two-factor sign-in and the
// admins (pages/admins.tsx).
import { useState } from 'preact/hooks';
import { api, endSession, type VerifierToken } from '../api';
import { ConfirmDialog, Loading, Notice, SecretDialog, type Submit, Table, Time, formValue, useLoad, useSubmission } from '../ui';
import { Admins } from './admins';
import { TokenLifeCells } from './token-cells';

function Sessions() {
  const sessions = useLoad(() => api.sessions.list(), []);
  const [ending, setEnding] = useState<'all' | string | null>(null);
  const rows = sessions.data ?? [];
  return (
    <>
      <div class="page-head">
        <h2>Your sessions</h2>
        <button type="button" class="danger" onClick={() => setEnding('all')}>
          Sign out everywhere
        </button>
      </div>
      <Notice error={sessions.error} what="Your sessions" />
      <Loading loading={sessions.loading && !sessions.data} />
      {sessions.data ? (
        <Table caption="Your admin sessions" head={['Signed in', 'From', 'Last seen', 'Expires', 'State', '']} empty={rows.length === 0}>
          {rows.map((session) => (
            <tr key={session.id} data-session={session.id} data-current={session.current ? 'true' : undefined}>
              <td>
                <Time iso={session.created_at} />
              </td>
              <td class="mono">{session.client_ip ?? '—'}</td>
              <td>
                <Time iso={session.last_seen_at} />
              </td>
              <td>
                <Time iso={session.expires_at} />
              </td>
              <td>
                {session.current ? <span class="badge badge-active">this session</span> : null}{' '}
                {session.live ? null : <span class="badge badge-expired">ended</span>}
              </td>
              <td>
                {session.live && !session.current ? (
                  <button type="button" class="small secondary" onClick={() => setEnding(session.id)}>
                    End
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      {ending ? (
        <ConfirmDialog
          title={ending === 'all' ? 'Sign out everywhere?' : 'End this session?'}
          confirm={ending === 'all' ? 'Sign out everywhere' : 'End session'}
          onClose={() => setEnding(null)}
          onConfirm={async () => {
            if (ending === 'all') {
              await api.sessions.endAll();
              setEnding(null);
              endSession('signed-out');
              return;
            }
            await api.sessions.end(ending);
            setEnding(null);
            sessions.reload();
          }}
        >
          <p>
            {ending === 'all'
              ? 'Every session of your account ends at once, on every node, this one included: you sign in again here.'
              : 'That browser is signed out at once.'}
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function VerifierTokens() {
  const tokens = useLoad(() => api.tokens.verifiers(), []);
  const { busy, error, run } = useSubmission();
  const [issued, setIssued] = useState<(VerifierToken & { token: string }) | null>(null);
  const [revoking, setRevoking] = useState<VerifierToken | null>(null);
  async function create(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    await run(async () => {
      setIssued(await api.tokens.createVerifier(formValue(form, 'name')));
      form.reset();
      tokens.reload();
    });
  }
  const rows = tokens.data ?? [];
  return (
    <>
      <h2>Verifier tokens</h2>
      <p class="muted">Mail servers (nginx, Dovecot, Postfix) use these to ask relaykey whether a login is valid.</p>
      <form class="row" onSubmit={create} aria-label="Create a verifier token">
        <label class="grow">
          Name
          <input name="name" required maxLength={200} placeholder="mx1 dovecot" />
        </label>
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Creating…' : 'Create verifier token'}
        </button>
      </form>
      <Notice error={error} what="Verifier tokens" />
      <Notice error={tokens.error} what="The verifier token list" />
      {tokens.data ? (
        <Table caption="Verifier tokens" head={['Name', 'Key', 'Created', 'Last used', 'State', '']} empty={rows.length === 0}>
          {rows.map((token) => (
            <tr key={token.id} data-verifier={token.name}>
              <td>{token.name}</td>
              <td class="mono">{token.key_hint}</td>
              <TokenLifeCells token={token} onRevoke={() => setRevoking(token)} />
            </tr>
          ))}
        </Table>
      ) : null}
      {issued ? <SecretDialog title={`Verifier token ${issued.name} created`} secret={issued.token} onClose={() => setIssued(null)} /> : null}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirm="Revoke token"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api.tokens.revokeVerifier(revoking.id);
            setRevoking(null);
            tokens.reload();
          }}
        >
          <p>Mail servers using this token can no longer check logins: their users cannot sign in until they have a new token.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

export function AccessPage() {
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Access</h1>
      </div>
      <Sessions />
      <VerifierTokens />
      <Admins />
    </section>
  );
}
