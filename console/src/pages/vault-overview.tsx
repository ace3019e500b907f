// The vault across tenants: which SMTP passwords are checked out right now (ending one early
// rotates the password), and the root key's status. Refreshes on its own while the tab is shown.
import { useState } from 'preact/hooks';
import { api, type VaultCheckout } from '../api';
import { href } from '../router';
import { ConfirmDialog, describeError, Loading, Notice, Table, Time, time, useAutoRefresh, useLoad } from '../ui';

const REFRESH_MS = 15_000;

type RowResult = { kind: 'ok'; text: string } | { kind: 'error'; text: string };

function RootKeyCard() {
  const root = useLoad(() => api.vault.rootKey(), []);
  useAutoRefresh(root.reload, 60_000);
  const status = root.data;
  return (
    <div class="card" data-testid="root-key">
      <h2>Root key</h2>
      <Notice error={root.error} what="The root key status" />
      <Loading loading={root.loading && !status} />
      {status ? (
        <dl class="facts">
          <dt>Master key</dt>
          <dd data-testid="master-key">
            {status.master_key === 'match' ? (
              <span class="badge badge-info">matches the database</span>
            ) : status.master_key === 'mismatch' ? (
              <span class="badge badge-critical">does NOT match the database</span>
            ) : (
              <span class="badge badge-warning">not recorded yet</span>
            )}
          </dd>
          <dt>Key check</dt>
          <dd class="mono" data-testid="key-check">
            {status.key_check}
          </dd>
          <dt>Source</dt>
          <dd>{status.source === 'key_file' ? 'key file in the data directory (embedded mode)' : 'RELAYKEY_MASTER_KEY'}</dd>
          <dt>Current version</dt>
          <dd data-testid="root-version">v{status.current_version}</dd>
          <dt>Versions held</dt>
          <dd>{status.known_versions.map((v) => `v${v}`).join(', ')}</dd>
          <dt>Tenant data keys</dt>
          <dd data-testid="data-keys">
            {status.data_keys_by_version.length === 0 ? 'none yet' : status.data_keys_by_version.map((d) => `v${d.version}: ${d.count}`).join(', ')}
          </dd>
          <dt>Re-wrap</dt>
          <dd data-testid="rewrap">
            {status.data_keys_not_current === 0 ? (
              'every data key is on the current version'
            ) : (
              <span class="badge badge-warning">
                {status.data_keys_not_current} on an older version: run <code>relaykey keys rotate --rewrap-only</code>
              </span>
            )}
          </dd>
        </dl>
      ) : null}
    </div>
  );
}

function CheckoutRow({ checkout, result, busy, onEnd }: { checkout: VaultCheckout; result: RowResult | undefined; busy: boolean; onEnd: () => void }) {
  const ended = result?.kind === 'ok';
  return (
    <>
      <tr data-checkout={checkout.tenant_id}>
        <td>
          <a href={href(`/tenants/${checkout.tenant_id}/smtp`)}>{checkout.tenant_name}</a>
        </td>
        <td class="mono small wrap">{checkout.username}</td>
        <td>{checkout.checked_out_by_email ?? <span class="muted">{checkout.checked_out_by ?? 'unknown'}</span>}</td>
        <td>{ended ? <span class="muted">ended</span> : <Time iso={checkout.expires_at} />}</td>
        <td class="actions">
          {ended ? null : (
            <button type="button" class="small danger" disabled={busy} aria-busy={busy || undefined} onClick={onEnd}>
              {busy ? 'Ending…' : 'End checkout now'}
            </button>
          )}
        </td>
      </tr>
      {result ? (
        <tr class="detail">
          <td colSpan={5}>
            <p
              class={`notice ${result.kind === 'ok' ? 'notice-ok' : 'notice-error'}`}
              role={result.kind === 'ok' ? 'status' : 'alert'}
              data-testid="row-result"
            >
              {result.text}
            </p>
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function VaultOverviewPage() {
  const open = useLoad(() => api.vault.checkouts(), []);
  useAutoRefresh(open.reload, REFRESH_MS);
  const [asking, setAsking] = useState<VaultCheckout | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  // One result at a time, beside the row it belongs to: a later action replaces it.
  const [result, setResult] = useState<{ tenantId: string; result: RowResult } | null>(null);
  // An ended checkout stays in the list (marked ended) so its result stays where the operator acted.
  const [ended, setEnded] = useState<VaultCheckout[]>([]);

  const rows = [...(open.data ?? []), ...ended.filter((e) => !(open.data ?? []).some((c) => c.tenant_id === e.tenant_id))];

  async function end(checkout: VaultCheckout) {
    setAsking(null);
    setResult(null);
    setRunning(checkout.tenant_id);
    try {
      const done = await api.vault.endCheckout(checkout.tenant_id);
      setEnded((list) => [...list.filter((e) => e.tenant_id !== checkout.tenant_id), checkout]);
      setResult({
        tenantId: checkout.tenant_id,
        result: { kind: 'ok', text: `Checkout ended: the password was rotated at ${time(done.rotated_at)}; the one revealed no longer works.` },
      });
      open.reload();
    } catch (failure) {
      setResult({ tenantId: checkout.tenant_id, result: { kind: 'error', text: describeError(failure, 'Ending the checkout') } });
    } finally {
      setRunning(null);
    }
  }

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Vault</h1>
        <button type="button" class="secondary" onClick={open.reload}>
          Refresh
        </button>
      </div>
      <p>Tenants' SMTP passwords that an admin has revealed and that are still checked out. relaykey rotates each one when its checkout ends.</p>
      <h2>Open checkouts</h2>
      <Notice error={open.error} what="The open checkouts" />
      <Loading loading={open.loading && !open.data} />
      {open.data ? (
        <Table caption="Open checkouts" head={['Tenant', 'Username', 'Checked out by', 'Ends', 'Actions']} empty={rows.length === 0}>
          {rows.map((checkout) => (
            <CheckoutRow
              key={checkout.tenant_id}
              checkout={checkout}
              busy={running === checkout.tenant_id}
              result={result?.tenantId === checkout.tenant_id ? result.result : undefined}
              onEnd={() => {
                setResult(null);
                setAsking(checkout);
              }}
            />
          ))}
        </Table>
      ) : null}
      <div class="gap-top">
        <RootKeyCard />
      </div>
      {asking ? (
        <ConfirmDialog title="End this checkout now?" confirm="End checkout now" onClose={() => setAsking(null)} onConfirm={() => end(asking)}>
          <p>
            The SMTP password of <strong>{asking.tenant_name}</strong> that {asking.checked_out_by_email ?? 'an admin'} revealed is rotated at once: anyone
            still holding it can no longer use it, and mail sent with it fails.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
