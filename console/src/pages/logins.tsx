// Mailbox logins of a tenant; each links to its own credentials.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { href } from '../router';
import { Loading, Notice, Pager, type Submit, Success, Table, TenantHeading, Time, formValue, useLoad } from '../ui';

const PER_PAGE = 50;

export function LoginsPage({ tenantId }: { tenantId: string }) {
  const [page, setPage] = useState(1);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const logins = useLoad(() => api.logins.list(tenantId, { page, per_page: PER_PAGE }), [tenantId, page]);
  const domains = useLoad(() => api.domains.list(tenantId), [tenantId]);

  async function create(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    setError(null);
    try {
      const login = await api.logins.create(tenantId, formValue(form, 'address'));
      setCreated(login.address);
      form.reset();
      logins.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section>
      <TenantHeading tenantId={tenantId} title="Logins" />
      <form class="row" onSubmit={create} aria-label="Add a login">
        <label class="grow">
          Mailbox address
          <input name="address" type="email" required placeholder="alice@example.com" />
        </label>
        <button type="submit">Add login</button>
      </form>
      {domains.data ? (
        <p class="muted small" data-testid="login-domains">
          {domains.data.data.length
            ? `Addresses in this tenant's domains only: ${domains.data.data.map((d) => d.domain).join(', ')}.`
            : 'This tenant has no domain yet: a platform admin assigns domains (Settings).'}
        </p>
      ) : null}
      <Notice error={error} what="Adding a login" />
      {created ? <Success>Login {created} added.</Success> : null}
      <Notice error={logins.error} what="The login list" />
      <Loading loading={logins.loading && !logins.data} />
      {logins.data ? (
        <>
          <Table caption="Logins" head={['Address', 'Created', '']} empty={logins.data.data.length === 0}>
            {logins.data.data.map((login) => (
              <tr key={login.id}>
                <td>{login.address}</td>
                <td>
                  <Time iso={login.created_at} />
                </td>
                <td>
                  <a href={href(`/tenants/${tenantId}/credentials`, { login: login.id })}>Credentials of {login.address}</a>
                </td>
              </tr>
            ))}
          </Table>
          <Pager page={logins.data.pagination.page} perPage={logins.data.pagination.per_page} total={logins.data.pagination.total} go={setPage} />
        </>
      ) : null}
    </section>
  );
}
